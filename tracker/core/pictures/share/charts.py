"""The report's charts: matplotlib figures as inline SVG elements.

Drawn with matplotlib's SVG backend on a bare :class:`~matplotlib.figure.Figure` (never
``pyplot``, whose global state and GUI backends a command has no use for). Every chart keeps
its text as SVG text, so a browser shows it crisp at any zoom and can find it, and comes out
the same byte for byte for the same figures (no date, a fixed hash salt), so a report made
twice is one file.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable, Sequence
from datetime import date
from itertools import cycle

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator

from tracker.core.pictures.figures import WeeksPicture, WeekTrend

#: A heat-map day's colour for each :attr:`tracker.core.pictures.figures.Day.shade`, none to most.
SHADE_COLOURS = ("#ebedf0", "#c6e48b", "#7bc96f", "#239a3b", "#196127")
FUTURE = "#ffffff"  # a day still to come
ROLLING = "#239a3b"
GLUTES = "#8250df"
LUMBAR = "#cf222e"
GUIDE = "#57606a"  # the quota line, axes text
WIDTH_IN = 8.0  # the widest chart; the page scales them all down to fit
CELL_IN = 0.32  # a heat-map day, while the weeks fit in WIDTH_IN
LABELLED_BARS = 26  # more weeks than this: no figure above each bar, they would overlap

#: Nothing that changes between two runs: no date; the rest is matplotlib's advertising.
_METADATA: dict[str, str | None] = {"Date": None, "Creator": None, "Format": None,
                                    "Type": None}
_IDS = re.compile(r'((?<![\w:-])id="|url\(#|href="#)')


def heat_map(weeks: WeeksPicture) -> str:
    """The weeks side by side, each a column of seven days shaded by the day's rolling time;
    a dot on each day that counted as a glute session, a red edge round each day with a
    lumbar contact. Each day is an SVG group ``heat-day-YYYY-MM-DD``."""
    columns = len(weeks.days)
    width_in = min(WIDTH_IN, 1.0 + CELL_IN * columns)

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        dots: list[tuple[float, float]] = []
        for x, week in enumerate(weeks.days):
            for y, day in enumerate(week):
                cell = Rectangle((x + 0.06, y + 0.06), 0.88, 0.88, linewidth=1.4,
                                 facecolor=FUTURE if day.future else SHADE_COLOURS[day.shade],
                                 edgecolor=LUMBAR if day.lumbar else
                                 SHADE_COLOURS[0] if day.future else "none")
                cell.set_gid(f"day-{day.day.isoformat()}")
                ax.add_patch(cell)
                if day.glutes:
                    dots.append((x + 0.5, y + 0.5))
        if dots:
            ax.plot(*zip(*dots, strict=True), linestyle="none", marker="o", markersize=3.5,
                    color=GLUTES)
        ax.set_xlim(0, columns)
        ax.set_ylim(7, 0)  # the week's first day on top
        ax.set_yticks([y + 0.5 for y in range(7)],
                      [f"{day.day:%a}" for day in weeks.days[0]])
        _week_ticks(ax, [week[0].day.strftime("%d %b") for week in weeks.days], 0.5, width_in)
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)

    return _drawn("heat", draw, width_in, 7 * CELL_IN + 0.6)


def rolling(trends: Sequence[WeekTrend]) -> str:
    """Rolling time each week, in minutes."""
    return _weekly("rolling", trends, [t.rolled_s / 60 for t in trends], ROLLING, "minutes",
                   "{:.0f}")


def glutes(trends: Sequence[WeekTrend], quota: int) -> str:
    """Glute sessions each week against the quota, drawn as a dashed line."""

    def guide(ax: Axes) -> None:
        ax.axhline(quota, color=GUIDE, linestyle="--", linewidth=1)
        ax.annotate(f"quota {quota}", (1, quota), xycoords=("axes fraction", "data"),
                    xytext=(0, 3), textcoords="offset points", ha="right", color=GUIDE)
        ax.set_ylim(0, max(quota, *(t.glute_sessions for t in trends)) + 1)

    return _weekly("glutes", trends, [float(t.glute_sessions) for t in trends], GLUTES,
                   "sessions", "{:.0f}", guide)


def lumbar(trends: Sequence[WeekTrend]) -> str:
    """Lumbar contacts each week; the goal is none."""

    def guide(ax: Axes) -> None:
        ax.set_ylim(0, max(1, *(t.lumbar for t in trends)) * 1.2)
        ax.annotate("goal: none", (1, 1), xycoords="axes fraction", ha="right", va="top",
                    color=GUIDE)

    return _weekly("lumbar", trends, [float(t.lumbar) for t in trends], LUMBAR, "contacts",
                   "{:.0f}", guide)


def areas(area_s: dict[str, float]) -> str:
    """Minutes of rolling on each area, longest first, as horizontal bars."""
    names = [area.replace("_", " ") for area in area_s]
    minutes = [t_s / 60 for t_s in area_s.values()]

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        bars = ax.barh(names, minutes, color=ROLLING, height=0.6)
        ax.bar_label(bars, [f"{m:.0f} min" for m in minutes], padding=3, color=GUIDE)
        ax.invert_yaxis()  # the longest on top
        ax.set_xlabel("minutes")
        ax.set_xlim(0, max(minutes, default=0) * 1.15 or 1)
        ax.tick_params(axis="y", length=0)

    return _drawn("areas", draw, WIDTH_IN * 0.75, 0.8 + 0.35 * len(names))


#: One colour an area, in the order the areas were first scored.
AREA_COLOURS = ("#0969da", "#8250df", "#bf8700", "#1a7f37", "#cf222e")


def comfort(scores: dict[str, list[tuple[date, int]]], alert_at: int) -> str:
    """Each area's comfort scores over time, one line an area (0 none, 10 worst), with the
    score that raises an alert drawn dashed."""

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        for (area, points), colour in zip(scores.items(), cycle(AREA_COLOURS), strict=False):
            ax.plot([d.toordinal() for d, _ in points], [v for _, v in points], marker="o",
                    markersize=3.5, color=colour, label=area.replace("_", " "))
        ax.axhline(alert_at, color=LUMBAR, linestyle="--", linewidth=1)
        ax.annotate(f"alert at {alert_at}", (1, alert_at), xycoords=("axes fraction", "data"),
                    xytext=(0, 3), textcoords="offset points", ha="right", color=LUMBAR)
        ax.set_ylim(-0.5, 10.5)
        ax.set_yticks(range(0, 11, 2))
        ax.set_ylabel("comfort (10 worst)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=8))
        ax.xaxis.set_major_formatter(FuncFormatter(
            lambda x, _: f"{date.fromordinal(int(x)):%d %b}"))
        ax.legend(loc="upper left", frameon=False, ncols=len(scores))

    return _drawn("comfort", draw, WIDTH_IN, 2.2)


def _weekly(name: str, trends: Sequence[WeekTrend], values: list[float], colour: str,
            unit: str, label: str, guide: Callable[[Axes], None] | None = None) -> str:
    """One bar a week, this week's (so far) paler; the figure above each bar while they fit."""

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        bars = ax.bar(range(len(values)), values, color=colour, width=0.7)
        bars[-1].set_alpha(0.45)
        if len(values) <= LABELLED_BARS:
            ax.bar_label(bars, [label.format(v) for v in values], padding=2, color=GUIDE)
        ax.set_ylabel(unit)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlim(-0.6, len(values) - 0.4)
        if guide is not None:
            guide(ax)
        elif not any(values):
            ax.set_ylim(0, 1)
        _week_ticks(ax, [t.start.strftime("%d %b") for t in trends], 0.0, WIDTH_IN)

    return _drawn(name, draw, WIDTH_IN, 1.9)


def _week_ticks(ax: Axes, labels: list[str], offset: float, width_in: float) -> None:
    """Each week's first day under its column, or every few weeks' when they would crowd."""
    step = math.ceil(len(labels) / max(1, int(width_in / 0.55)))
    ax.set_xticks([i + offset for i in range(0, len(labels), step)], labels[::step])


def _drawn(name: str, draw: Callable[[Figure], None], width_in: float,
           height_in: float) -> str:
    """A figure drawn by ``draw`` as one ``<svg>`` element for an HTML page. Its ids start
    with ``name-``, so that several charts on one page never share one (matplotlib numbers
    its groups from 1 in every figure)."""
    with matplotlib.rc_context({
        "svg.fonttype": "none",  # text stays text
        "svg.hashsalt": f"roller-{name}",  # the same ids every time
        "font.family": "sans-serif", "font.size": 9.0,
        "axes.spines.top": False, "axes.spines.right": False,
        "axes.edgecolor": GUIDE, "xtick.color": GUIDE, "ytick.color": GUIDE,
    }):
        fig = Figure(figsize=(width_in, height_in), layout="constrained")
        draw(fig)
        out = io.StringIO()
        fig.savefig(out, format="svg", metadata=_METADATA)
    text = out.getvalue()
    svg = text[text.index("<svg"):]  # no XML declaration or DOCTYPE inside HTML
    return _IDS.sub(lambda m: f"{m.group(1)}{name}-", svg).strip()
