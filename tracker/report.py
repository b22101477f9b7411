"""Readable session summaries for the terminal (rich)."""

from __future__ import annotations

import numpy as np
from rich import box
from rich.table import Table
from rich.text import Text

from tracker.analysis import Analysis, CautionEvent, LumbarEvent
from tracker.body import Body
from tracker.schedule import Rules, pace, stroke_s


def clock(seconds: float) -> str:
    """``m:ss.s`` for a time since the session started."""
    minutes, tenths = divmod(round(max(0.0, seconds) * 10), 600)
    return f"{minutes}:{tenths / 10:04.1f}"


def near_lumbar(alerts: list[LumbarEvent], cautions: list[CautionEvent] | None,
                origin_s: float = 0.0) -> list[str]:
    """Lumbar contacts (red) and cautions (yellow) as markup lines in time order; times from
    ``origin_s``. ``cautions`` None: analysed before cautions existed."""
    lines = [(e.start_s, f"[red]contact {clock(e.start_s - origin_s)}-"
                         f"{clock(e.end_s - origin_s)} (alert {clock(e.alert_s - origin_s)})[/red]")
             for e in alerts]
    lines += [(e.start_s, f"[yellow]caution {clock(e.start_s - origin_s)}-"
                          f"{clock(e.end_s - origin_s)}[/yellow]") for e in cautions or []]
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
        lines.append(f"{i + 1}. {p.routine.replace('_', ' ')} {clock(p.start_s - origin)}-"
                     f"{clock(p.end_s - origin)}: {p.strokes} strokes, active "
                     f"{clock(part.active_s)}, {pace_text(part, rules)}")
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
    table.add_row("duration", clock(a.duration_s))
    table.add_row("active", f"{clock(a.active_s)}  ({len(a.pauses)} pauses, {a.paused_s:.0f} s)")
    table.add_row("strokes", f"{a.strokes}  ({a.cadence_cpm:.0f} cycles/min)")
    table.add_row("pace", pace_text(a, rules))
    regions = ", ".join(f"{name} {t:.0f} s" for name, t in a.time_in_regions().items())
    table.add_row("regions", regions)
    table.add_row("lower back", "\n".join(near_lumbar(a.lumbar_events, a.caution_events,
                                                    a.start_s)))
    return table


def position_chart(analysis: Analysis, body: Body, width: int = 56, height: int = 12) -> Text:
    """Position over time as a small terminal chart, head at the top, the lumbar band in red."""
    t = np.asarray(analysis.track_t_s) - analysis.start_s
    s = np.asarray(analysis.track_s_cm)
    top, bottom = body.lumbar_cm
    lo, hi = min(s.min(), top) - 1.0, max(s.max(), bottom) + 1.0
    if len(t) < 2 or t[-1] <= 0:
        return Text("(too short to chart)")
    column = np.minimum((t / t[-1] * width).astype(int), width - 1)
    row = np.minimum(((s - lo) / (hi - lo) * height).astype(int), height - 1)
    grid = [[" "] * width for _ in range(height)]
    for c, r in zip(column.tolist(), row.tolist(), strict=True):
        grid[r][c] = "•"
    chart = Text()
    for r in range(height):
        s_mid = lo + (r + 0.5) * (hi - lo) / height
        region = body.region_at(s_mid)
        style = "on dark_red" if top <= s_mid <= bottom else ""
        chart.append(f"{s_mid:6.1f} cm {region:>10} |", style="dim")
        chart.append("".join(grid[r]), style=style)
        chart.append("\n")
    end = f"{t[-1]:.0f} s"
    chart.append(f"{'':20}0 s{end:>{width - 3}}", style="dim")
    return chart
