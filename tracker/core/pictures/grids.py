"""The week and the weeks as grids of cells: a seven-day calendar and a heat map of days by
weeks, as rich renderables for ``roller schedule``, ``roller weeks`` and the dashboard.

Built from cells rather than with plotext: a calendar is a table of words, and plotext's
matrix plot shades pixels, not days one can label and mark.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rich.table import Table
from rich.text import Text

from tracker.core.limits import visible
from tracker.core.pictures.figures import Day, WeekPicture, WeeksPicture
from tracker.core.schedule import Rules, Verdict

DAY_LETTERS = "MTWTFSS"


@dataclass(frozen=True)
class Palette:
    """Styles of the cells; the dashboard builds one from its theme."""

    shades: tuple[str, str, str, str, str] = ("on grey19", "on dark_green", "on green4",
                                              "on green3", "on green1")
    glutes: str = "bold bright_white"
    lumbar: str = "bold red"
    good: str = "green"
    muted: str = "bright_black"
    today: str = "bold reverse"


def minutes(rolled_s: float) -> str:
    """Rolling time as people say it: ``45 s``, ``6 min``, ``1 h 05``."""
    if rolled_s < 60:
        return f"{rolled_s:.0f} s"
    whole = round(rolled_s / 60)
    return f"{whole} min" if whole < 60 else f"{whole // 60} h {whole % 60:02d}"


def glute_word(day: Day, today: date) -> tuple[str, str]:
    """What the glute rule says of a day, and how it reads: done, allowed, a rest day."""
    if day.glutes:
        return "glutes ✓", "good"
    if day.glutes_may is None:
        return "", "muted"
    return {Verdict.ALLOWED: ("glutes ok" if day.day > today else "glutes now", "good"),
            Verdict.TOO_SOON: ("rest", "muted"),
            Verdict.OVER_QUOTA: ("quota met", "muted")}[day.glutes_may]


def calendar(week: WeekPicture, palette: Palette = Palette()) -> Table:
    """Seven columns, today marked: what was rolled, for how long, lumbar contacts, and
    whether the glutes may be rolled that day under the rest-day rule."""
    today = week.status.today
    table = Table(expand=True, show_edge=False, pad_edge=False, padding=(0, 1))
    for day in week.days:
        table.add_column(Text(f"{day.day:%a %d}", style=palette.today if day.day == today
                              else ""), ratio=1, no_wrap=False, overflow="fold")
    cells = []
    for day in week.days:
        cell = Text()
        areas = ", ".join(area.replace("_", " ") for area in day.areas)
        cell.append(areas or ("-" if not day.future else ""), style="" if areas else
                    palette.muted)
        if day.sessions:
            cell.append(f"\n{minutes(day.rolled_s)}", style=palette.muted)
        if day.lumbar:
            cell.append(f"\n{day.lumbar} lumbar", style=palette.lumbar)
        word, style = glute_word(day, today)
        if word:
            cell.append(f"\n{word}", style=getattr(palette, style))
        cells.append(cell)
    table.add_row(*cells)
    return table


def quota(week: WeekPicture, palette: Palette = Palette()) -> Text:
    """The glute quota as progress: ``glutes ■■□ 2 of 3``, and when they may come next."""
    s = week.status
    text = Text("glutes ")
    text.append("■" * min(s.done, week.quota), style=palette.good)
    text.append("□" * max(0, week.quota - s.done), style=palette.muted)
    text.append(f" {s.done} of {week.quota} done")
    if s.done > week.quota:
        text.append(f" ({s.done - week.quota} too many)", style=palette.lumbar)
    text.append(f"; {s.status.replace('_', ' ')}")
    return text


def period(weeks: WeeksPicture) -> str:
    first, last = weeks.days[0][0].day, weeks.days[-1][-1].day
    return f"{first:%d %b} to {last:%d %b %Y}"


def glute_rule(rules: Rules) -> str:
    """The rule in words: ``3 a week, 1 rest day after each``."""
    rest = rules.glute_rest_days
    return (f"{rules.glute_sessions_per_week} a week, {rest} rest day"
            f"{'s' if rest != 1 else ''} after each")


def heat_map(weeks: WeeksPicture, palette: Palette = Palette()) -> Text:
    """Days down, weeks across (oldest left, each headed by the day of the month it starts
    on), each cell shaded by rolling time; ``g`` marks a glute day, ``!`` a day with a
    lumbar contact (it wins: it is the one to see)."""
    text = Text("   ", style=palette.muted)
    for i, week in enumerate(weeks.days):  # the day of the month each week starts on
        text.append(f" {week[0].day:%d}" if i % 2 == 0 else "   ", style=palette.muted)
    text.append("\n")
    for row, letter in enumerate(DAY_LETTERS):
        text.append(f" {letter} ", style=palette.muted)
        for week in weeks.days:
            day = week[row]
            mark = "!" if day.lumbar else "g" if day.glutes else "·" if day.future else " "
            style = palette.lumbar if day.lumbar else palette.glutes if day.glutes \
                else palette.muted
            text.append(" ")
            text.append(f"{mark} ", style=f"{style} {palette.shades[day.shade]}"
                        if not day.future else style)
        text.append("\n")
    text.append("   ")
    for shade, step in zip(palette.shades, ("none", "<5", "5-10", "10-20", "20+"),
                           strict=True):
        text.append(" ")
        text.append("  ", style=shade)
        text.append(f" {step}", style=palette.muted)
    text.append(" min/day  g glutes  ", style=palette.muted)
    text.append("!", style=palette.lumbar)
    text.append(" lumbar", style=palette.muted)
    return text


SHORT = {"upper_back": "back", "glutes": "glutes", "hamstrings": "hams", "calves": "calves"}


def everyone(weeks: list[tuple[str, WeekPicture]], palette: Palette = Palette()) -> Table:
    """Each person's week on a row of its own: what they rolled each day, lumbar contacts
    marked, and their glute count against their quota."""
    table = Table(expand=True, show_edge=False, pad_edge=False, padding=(0, 1))
    table.add_column("")
    for day in weeks[0][1].days:
        table.add_column(f"{day.day:%a}", ratio=1, overflow="fold")
    table.add_column("glutes", justify="right")
    for name, week in weeks:
        cells = []
        for day in week.days:
            cell = Text(" ".join(SHORT.get(area, area) for area in day.areas))
            if day.lumbar:
                cell.append(" !", style=palette.lumbar)
            cells.append(cell)
        table.add_row(Text(visible(name)), *cells, f"{week.status.done}/{week.quota}")
    return table
