"""Readable session summaries for the terminal (rich)."""

from __future__ import annotations

from collections.abc import Iterable

from rich import box
from rich.table import Table

from tracker.core.formats.roller_analysis import Analysis, CautionEvent, LumbarEvent
from tracker.core.schedule import Rules, pace, stroke_s


def session_time(seconds: float) -> str:
    """``m:ss.s`` for a time since the session started."""
    minutes, tenths = divmod(round(max(0.0, seconds) * 10), 600)
    return f"{minutes}:{tenths / 10:04.1f}"


def areas(names: Iterable[str]) -> str:
    """A session's areas in order, as people read them: ``upper back + glutes``."""
    return " + ".join(name.replace("_", " ") for name in names)


def minutes_seconds(t_s: float) -> str:
    """A duration to the second: ``2:30``, or ``1:02:30`` from an hour on."""
    minutes, seconds = divmod(round(t_s), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def near_lumbar(alerts: list[LumbarEvent], cautions: list[CautionEvent] | None,
                origin_s: float = 0.0) -> list[str]:
    """Lumbar contacts (red) and cautions (yellow) as markup lines in time order; times from
    ``origin_s``. ``cautions`` None: analysed before cautions existed."""
    lines = [(e.start_s, f"[red]contact {session_time(e.start_s - origin_s)}-"
                         f"{session_time(e.end_s - origin_s)} "
                         f"(alert {session_time(e.alert_s - origin_s)})[/red]")
             for e in alerts]
    lines += [(e.start_s, f"[yellow]caution {session_time(e.start_s - origin_s)}-"
                          f"{session_time(e.end_s - origin_s)}[/yellow]") for e in cautions or []]
    if cautions is None:
        lines.append((float("inf"), "cautions not assessed (analysed before they existed: "
                                    "roller reanalyze)"))
    if not lines:
        return ["[green]no contact, no caution[/green]"]
    return [text for _, text in sorted(lines, key=lambda line: line[0])]


def pace_text(analysis: Analysis, rules: Rules) -> str:
    """The mean one-way stroke against the pace guide, e.g. ``1.2 s a stroke: too fast``."""
    mean = stroke_s(analysis.active_s, analysis.strokes)
    if mean is None:
        return "no strokes"
    verdict = {"fast": "too fast, roll slower", "good": "good", "slow": "slow"}[
        pace(mean, rules)]
    return (f"{mean:.1f} s a stroke: {verdict} (guide {rules.stroke_min_s:g}-"
            f"{rules.stroke_max_s:g} s)")


def parts_lines(analysis: Analysis, rules: Rules, origin_s: float | None = None) -> list[str]:
    """One line per part: its area, when, strokes, active time and pace."""
    origin = analysis.start_s if origin_s is None else origin_s
    lines = []
    for i, p in enumerate(analysis.areas):
        part = analysis.part(i)
        way = (", which way round it lay could not be told: positions uncertain"
               if p.orientation_unsure else ", put down end for end" if p.end_for_end else "")
        lines.append(f"{i + 1}. {p.routine.replace('_', ' ')} {session_time(p.start_s - origin)}-"
                     f"{session_time(p.end_s - origin)}: {p.strokes} strokes, active "
                     f"{session_time(part.active_s)}, {pace_text(part, rules)}{way}")
    return lines


def summary_table(analysis: Analysis, title: str, rules: Rules | None = None) -> Table:
    a, rules = analysis, rules or Rules()
    table = Table(title=title, box=box.SIMPLE_HEAVY, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    if a.parts:
        table.add_row("parts", "\n".join(parts_lines(a, rules)))
        table.add_row("lifts", f"{len(a.lifts)}, {a.lifted_s:.0f} s (not counted as rolling)")
    else:
        table.add_row("routine", a.routine.replace("_", " "))
    table.add_row("duration", session_time(a.duration_s))
    table.add_row("active", f"{session_time(a.active_s)}  ({len(a.pauses)} pauses, "
                            f"{a.paused_s:.0f} s)")
    table.add_row("strokes", f"{a.strokes}  ({a.cadence_cpm:.0f} cycles/min)")
    table.add_row("pace", pace_text(a, rules))
    regions = ", ".join(f"{name} {t:.0f} s" for name, t in a.time_in_regions().items())
    table.add_row("regions", regions)
    table.add_row("lower back", "\n".join(near_lumbar(a.lumbar_events, a.caution_events,
                                                    a.start_s)))
    return table
