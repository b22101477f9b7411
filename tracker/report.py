"""Readable session summaries for the terminal (rich)."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table

from tracker.analysis import Analysis


def clock(seconds: float) -> str:
    """``m:ss.s`` for a time since the session started."""
    minutes, tenths = divmod(round(max(0.0, seconds) * 10), 600)
    return f"{minutes}:{tenths / 10:04.1f}"


def summary_table(analysis: Analysis, title: str) -> Table:
    a = analysis
    table = Table(title=title, box=box.SIMPLE_HEAVY, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    table.add_row("routine", a.routine.replace("_", " "))
    table.add_row("duration", clock(a.duration_s))
    table.add_row("active", f"{clock(a.active_s)}  ({len(a.pauses)} pauses, {a.paused_s:.0f} s)")
    table.add_row("strokes", f"{a.strokes}  ({a.cadence_cpm:.0f} cycles/min)")
    regions = ", ".join(f"{name} {t:.0f} s" for name, t in a.time_in_regions().items())
    table.add_row("regions", regions)
    if a.lumbar_events:
        lines = [
            f"[red]{clock(e.start_s - a.start_s)}-{clock(e.end_s - a.start_s)}"
            f" (alert at {clock(e.alert_s - a.start_s)})[/red]"
            for e in a.lumbar_events
        ]
        table.add_row("[red]lumbar[/red]", "\n".join(lines))
    else:
        table.add_row("lumbar", "[green]no contact[/green]")
    return table


def print_summary(analysis: Analysis, title: str, console: Console | None = None) -> None:
    (console or Console()).print(summary_table(analysis, title))
