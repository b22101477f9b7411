"""The pictures on a terminal: charts sized to its width, side by side where it is wide."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from tracker.charts import Colours, Figure, build, draw_guided, draw_regions, draw_session
from tracker.pictures import SessionPicture

WIDEST = 140  # a chart wider than this says no more, only sparser
SIDE_BY_SIDE = 120  # from this width the small charts share a row

COLOURS = Colours()
LEGEND = (f"[{COLOURS.track}]⣿ rolling[/]  [{COLOURS.hold}]⣿ holding[/]  "
          f"[{COLOURS.lumbar}]░ lumbar band[/]  [{COLOURS.alert}]│ lumbar alert[/]  "
          f"[{COLOURS.caution}]│ caution[/]")


def chart(draw: Callable[[Figure], None], width: int, height: int, title: str) -> Text:
    return Text.from_ansi(build(draw, width, height, title))


def print_session(console: Console, pic: SessionPicture) -> None:
    """Position over time across the terminal, then time per region and the bouts and
    pauses against their guides."""
    width = min(console.width, WIDEST)
    console.print(chart(lambda f: draw_session(f, pic, COLOURS), width,
                        18 if width >= 100 else 14, "position along the back"))
    console.print(LEGEND if pic.t_s else
                  "regions only: this session's samples were not kept", highlight=False)
    small: list[RenderableType] = []
    wide = width >= SIDE_BY_SIDE
    each = width // 3 - 1 if wide else width
    small.append(chart(lambda f: draw_regions(f, pic, COLOURS), each, 12,
                       "time per region (s)"))
    if pic.bouts_s:
        low, high = pic.bout_guide_s
        small.append(chart(lambda f: draw_guided(f, pic.bouts_s, pic.bout_guide_s,
                                                 COLOURS.track, COLOURS),
                           each, 12, f"bouts (s), guide {low:g}-{high:g}"))
    if pic.pauses_s:
        low, high = pic.pause_guide_s
        small.append(chart(lambda f: draw_guided(f, pic.pauses_s, pic.pause_guide_s,
                                                 COLOURS.hold, COLOURS),
                           each, 12, f"pauses (s), guide {low:g}-{high:g}"))
    if wide:
        row = Table.grid(padding=(0, 1))
        row.add_row(*small)
        console.print(row)
    else:
        for item in small:
            console.print(item)
