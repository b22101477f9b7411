"""Terminal charts, drawn with plotext: one session's position over time, its time per
region, its bouts and pauses against their guides, and the weeks' trends.

Why plotext: the same drawing code serves ``roller session show`` (a figure built to ANSI
text) and the dashboard (``textual-plotext``'s widget hands out a plotext figure and themes it
from the app), so the terminal and the dashboard cannot drift apart. ``textual-plot`` draws
more finely but only inside a Textual app.

Each ``draw_*`` function draws on a figure it is given and sets nothing about its size or
theme: that is the caller's, who knows the screen. plotext itself is imported by :func:`build`
only, when a chart is drawn: ``roller schedule`` shows no chart and does not pay for it.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import pairwise
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from tracker.core.pictures.session_figure import SessionPicture
from tracker.core.pictures.tables import minutes_seconds

if TYPE_CHECKING:  # the weeks' trends: their figures load with ``roller weeks``'s
    from tracker.core.pictures.figures import WeeksPicture, WeekTrend

Colour = str | tuple[int, int, int]  # a plotext colour name, or RGB from a theme


@dataclass(frozen=True)
class Colours:
    """What each mark is drawn in; the dashboard fills this from its theme."""

    track: Colour = "cyan"
    hold: Colour = "blue"
    lumbar: Colour = "red"
    alert: Colour = "magenta"
    caution: Colour = "yellow"
    edge: Colour = "gray"
    guide: Colour = "green"
    glutes: Colour = "green"


class Figure(Protocol):
    """The part of plotext's figure the charts use (``textual-plotext``'s ``plt`` is one)."""

    def plot(self, *args: Any, **kwargs: Any) -> None: ...
    def bar(self, *args: Any, **kwargs: Any) -> None: ...
    def rectangle(self, *args: Any, **kwargs: Any) -> None: ...
    def hline(self, coordinate: float, color: Colour | None = None) -> None: ...
    def vline(self, coordinate: float, color: Colour | None = None) -> None: ...
    def xticks(self, ticks: list[float], labels: list[str] | None = None) -> None: ...
    def yticks(self, ticks: list[float], labels: list[str] | None = None) -> None: ...
    def xlim(self, left: float, right: float) -> None: ...
    def ylim(self, lower: float, upper: float) -> None: ...
    def title(self, label: str) -> None: ...
    def xlabel(self, label: str) -> None: ...


def time_ticks(duration_s: float, count: int = 5) -> list[float]:
    """About ``count`` round times across a session: every 10 s, 15 s, 30 s, 1, 2, 5 or 10
    min ... so the axis reads as a clock."""
    for step in (10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600):
        if duration_s / step <= count:
            break
    return [float(i * step) for i in range(math.floor(duration_s / step) + 1)]


def pieces(t_s: Sequence[float], s_cm: Sequence[float],
           gap_s: float = 1.0) -> list[tuple[list[float], list[float]]]:
    """The track cut where it has a gap (a lift between parts, a radio drop), so no line
    is drawn through the air."""
    cuts = [0, *(i for i in range(1, len(t_s)) if t_s[i] - t_s[i - 1] > gap_s), len(t_s)]
    return [(list(t_s[a:b]), list(s_cm[a:b])) for a, b in pairwise(cuts) if b > a]


#: The most points a track is drawn with: a chart at its widest (``WIDEST`` columns) has
#: 280 braille dot columns, so more than about four points a column draw nothing new, only
#: slower (plotext draws each segment in Python: an hour at 10 Hz, 36,000 points, took
#: most of a second).
MOST_POINTS = 1200


def thinned(t_s: Sequence[float], s_cm: Sequence[float],
            share: float) -> tuple[list[float], list[float]]:
    """About ``share`` of a stretch of track, in time order: of each run of points, its
    highest and its lowest, so every stroke's turn is still drawn where it was. A share of
    1 or more keeps every point."""
    runs = math.ceil(len(t_s) * share / 2)
    if share >= 1 or runs * 2 >= len(t_s):
        return list(t_s), list(s_cm)
    kept: list[int] = []
    for run in range(runs):
        a, b = run * len(t_s) // runs, (run + 1) * len(t_s) // runs
        ends = {min(range(a, b), key=s_cm.__getitem__), max(range(a, b), key=s_cm.__getitem__)}
        kept += sorted(ends)
    return [t_s[i] for i in kept], [s_cm[i] for i in kept]


def draw_session(fig: Figure, pic: SessionPicture, colours: Colours = Colours()) -> None:
    """Position along the back over time, head at the top: the regions as bands between
    their edges, the lumbar band filled, holds drawn in their own colour (flat stretches),
    cautions and alerts as vertical lines where they happened.

    Positions are drawn negated (head up) rather than with plotext's ``yreverse``, which
    flips the data again at every build and so at every redraw of a widget."""
    end_s = max(pic.duration_s, 1.0)
    fig.rectangle([0.0, end_s], [-pic.lumbar.top_cm, -pic.lumbar.bottom_cm],
                  color=colours.lumbar, fill=True, marker="░")
    for band in pic.bands[1:]:
        fig.hline(-band.top_cm, colours.edge)
    for start_s, _ in pic.cautions:
        fig.vline(start_s, colours.caution)
    for alert_s in pic.alerts_s:
        fig.vline(alert_s, colours.alert)
    if pic.t_s:
        share = MOST_POINTS / len(pic.t_s)  # of each piece and each hold alike
        for t_s, s_cm in pieces(pic.t_s, pic.s_cm):
            t_s, s_cm = thinned(t_s, s_cm, share)
            fig.plot(t_s, [-s for s in s_cm], marker="braille", color=colours.track)
        for held_s, let_go_s in pic.holds:
            a, b = bisect_left(pic.t_s, held_s), bisect_right(pic.t_s, let_go_s)
            if b > a:
                t_s, s_cm = thinned(pic.t_s[a:b], pic.s_cm[a:b], share)
                fig.plot(t_s, [-s for s in s_cm], marker="braille", color=colours.hold)
    else:  # the samples were not kept: the regions it was in, at their bands' middles
        middle = {band.region: band.mid_cm for band in pic.bands}
        for region, start_s, stop_s in pic.regions:
            if region in middle:
                fig.plot([start_s, stop_s], [-middle[region]] * 2, marker="braille",
                         color=colours.track)
    fig.yticks([-band.mid_cm for band in pic.bands], [band.region for band in pic.bands])
    fig.ylim(-pic.bottom_cm, -pic.top_cm)
    fig.xlim(0.0, end_s)
    ticks = time_ticks(end_s)
    fig.xticks(ticks, [minutes_seconds(t) for t in ticks])


def draw_regions(fig: Figure, pic: SessionPicture, colours: Colours = Colours()) -> None:
    """Time in each region visited, head at the top, the lumbar bar in the lumbar colour."""
    names = list(pic.region_s)[::-1]  # plotext draws the first bar at the bottom
    if not names:
        return
    fig.bar(names, [pic.region_s[n] for n in names], orientation="horizontal", width=0.6,
            color=[colours.lumbar if n == pic.lumbar.region else colours.track
                   for n in names])
    fig.xlabel("seconds")


def draw_guided(fig: Figure, lengths_s: Sequence[float], guide_s: tuple[float, float],
                colour: Colour, colours: Colours = Colours()) -> None:
    """Bouts (or pauses) in order, against their guide's two lines (30-60 s, 10-20 s)."""
    if not lengths_s:
        return
    numbers = list(range(1, len(lengths_s) + 1))
    fig.bar(numbers, list(lengths_s), color=colour, width=0.6)
    for line in guide_s:
        fig.hline(line, colours.guide)
    fig.ylim(0.0, max(*lengths_s, guide_s[1]) * 1.1)
    fig.xticks([float(n) for n in numbers], [str(n) for n in numbers])


class Chart(NamedTuple):
    """One of a session's charts: what a screen or a terminal needs to show it."""

    name: str  # position, regions, bouts or pauses
    title: str
    draw: Callable[[Figure], None]
    empty: bool = False  # nothing to draw (a session without pauses)


def session_charts(pic: SessionPicture, colours: Colours = Colours()) -> list[Chart]:
    """The session's charts, the position first: ``session show`` and the session screen
    show the same ones under the same titles."""
    charts = [Chart("position", "position along the back",
                    partial(draw_session, pic=pic, colours=colours)),
              Chart("regions", "time per region (s)",
                    partial(draw_regions, pic=pic, colours=colours))]
    for name, lengths_s, guide_s, colour in (
            ("bouts", pic.bouts_s, pic.bout_guide_s, colours.track),
            ("pauses", pic.pauses_s, pic.pause_guide_s, colours.hold)):
        charts.append(Chart(name, f"{name} (s), guide {guide_s[0]:g}-{guide_s[1]:g}",
                            partial(draw_guided, lengths_s=lengths_s, guide_s=guide_s,
                                    colour=colour, colours=colours), not lengths_s))
    return charts


TRENDS = ("rolled", "glutes", "lumbar")  # what draw_trend draws, in the order shown


def trend_title(what: str, weeks: WeeksPicture) -> str:
    """Short enough for a third of an 80-column screen."""
    return {"rolled": "minutes a week", "glutes": f"glutes (quota {weeks.quota})",
            "lumbar": "lumbar (goal 0)"}[what]


def draw_trend(fig: Figure, weeks: WeeksPicture, what: str,
               colours: Colours = Colours()) -> None:
    """One figure a week: ``rolled`` (minutes of rolling), ``glutes`` (sessions, against
    the quota) or ``lumbar`` (contacts, whose goal is none)."""
    pick: Callable[[WeekTrend], float] = {
        "rolled": lambda week: week.rolled_s / 60,
        "glutes": lambda week: week.glute_sessions,
        "lumbar": lambda week: week.lumbar,
    }[what]
    colour = {"rolled": colours.track, "glutes": colours.glutes, "lumbar": colours.lumbar}[what]
    numbers = list(range(1, len(weeks.trends) + 1))
    values = [float(pick(week)) for week in weeks.trends]
    fig.bar(numbers, values, color=colour, width=0.6)
    if what == "glutes":
        fig.hline(weeks.quota, colours.guide)
    top = max([*values, float(weeks.quota if what == "glutes" else 1)])
    fig.ylim(0.0, top * 1.15)
    if what != "rolled":  # counts: whole numbers on the axis
        step = max(1, math.ceil(top / 4))
        fig.yticks([float(n) for n in range(0, math.floor(top) + 1, step)])
    # The first, middle and last weeks: labels plotext never has to drop for want of room
    # (which ones it drops depends on the sizes a widget passed through).
    shown = sorted({1, (len(numbers) + 1) // 2, len(numbers)})
    fig.xticks([float(n) for n in shown], [f"{weeks.trends[n - 1].start:%d %b}" for n in shown])


def build(draw: Callable[[Figure], None], width: int, height: int, title: str = "") -> str:
    """A chart on a figure of its own, as ANSI text for a terminal (``rich.text.Text.
    from_ansi`` keeps the colours, or drops them where the output is no terminal)."""
    # plotext has no public way to get a figure of one's own (its functions draw on one global
    # figure); textual-plotext takes the figure class the same way.
    from plotext._figure import _figure_class  # type: ignore[import-untyped]

    fig = _figure_class()
    fig.plotsize(width, height)
    fig.theme("clear")  # the terminal's own background and text colours
    if title:
        fig.title(title)
    draw(fig)
    text: str = fig.build()
    return text
