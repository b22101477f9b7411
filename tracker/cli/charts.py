"""Charts on a terminal, as ``roller session show`` and ``roller weeks`` print them: sized
to its width (no wider than :data:`WIDEST`), the small ones side by side where it is wide.

Apart from the commands so that ``session show`` imports no week's figures, and ``weeks`` no
session's."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from tracker.core.pictures.charts import Colours, Figure, build, session_charts
from tracker.core.pictures.session_figure import SessionPicture

WIDEST = 140  # a chart wider than this says no more, only sparser
SIDE_BY_SIDE = 120  # from this width the small charts share a row

COLOURS = Colours()
LEGEND = (f"[{COLOURS.track}]⣿ rolling[/]  [{COLOURS.hold}]⣿ holding[/]  "
          f"[{COLOURS.lumbar}]░ lumbar band[/]  [{COLOURS.alert}]│ lumbar alert[/]  "
          f"[{COLOURS.caution}]│ caution[/]")


def chart(draw: Callable[[Figure], None], width: int, height: int, title: str) -> Text:
    return Text.from_ansi(build(draw, width, height, title))


def print_row(console: Console, charts: Sequence[RenderableType]) -> None:
    """Small charts in one row where the terminal is wide, else one under another."""
    if console.width >= SIDE_BY_SIDE:
        row = Table.grid(padding=(0, 1))
        row.add_row(*charts)
        console.print(row)
    else:
        for item in charts:
            console.print(item)


def small_width(console: Console, count: int) -> int:
    width = min(console.width, WIDEST)
    return width // count - 1 if console.width >= SIDE_BY_SIDE else width


def print_session(console: Console, pic: SessionPicture) -> None:
    """Position over time across the terminal, then time per region and the bouts and
    pauses against their guides."""
    width = min(console.width, WIDEST)
    position, *rest = session_charts(pic, COLOURS)
    console.print(chart(position.draw, width, 18 if width >= 100 else 14, position.title))
    console.print(LEGEND if pic.t_s else
                  "regions only: this session's samples were not kept", highlight=False)
    each = small_width(console, 3)
    small = [chart(c.draw, each, 12, c.title) for c in rest if not c.empty]
    print_row(console, small)


