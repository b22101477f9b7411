"""The body map: a back-view silhouette with its regions shaded and the roller's contact on it."""

from __future__ import annotations

from collections import deque
from functools import lru_cache
from itertools import pairwise
from typing import NamedTuple

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
from textual.reactive import reactive
from textual.strip import Strip
from textual.style import Style as VisualStyle
from textual.widget import Widget

from tracker.core.body import REGIONS, Body

# Half-widths (in cells) of the silhouette from head to heels, at fractions of height.
_OUTLINE = ((0.00, 2), (0.10, 3), (0.12, 2), (0.17, 7), (0.33, 6), (0.43, 6), (0.53, 7),
            (0.72, 5), (1.00, 3))
CENTRE = 7  # the widest part (the hips) is 7 cells each side; the spread bar left of it


def _half_width(fraction: float) -> int:
    for (f0, w0), (f1, w1) in pairwise(_OUTLINE):
        if f0 <= fraction <= f1:
            return round(w0 + (w1 - w0) * (fraction - f0) / (f1 - f0))
    return 2


@lru_cache(maxsize=16)
def silhouette(body: Body, rows: int) -> tuple[tuple[str, int, str], ...]:
    """Each row's region, the silhouette's half-width there, and its label (the region's
    name on its first row): what does not move, worked out once per body and height."""
    outline = []
    for row in range(rows):
        fraction = (row + 0.5) / rows
        region = REGIONS[int(body.region_index(fraction * body.height_cm))]
        above = REGIONS[int(body.region_index(max(0.0, fraction - 1 / rows) * body.height_cm))]
        outline.append((region, _half_width(fraction), region if row == 0 or above != region
                        else ""))
    return tuple(outline)


class Row(NamedTuple):
    """One row as drawn: two rows that look the same are drawn with one strip."""

    spread: bool  # the contact may be here (± 2 standard deviations)
    half: int  # the silhouette's half-width, in cells
    colour: str  # the region's shade
    marker: str  # "●" the contact, "·" its trail, " " neither
    label: str


class BodyMap(Widget):
    """Regions shaded (thoracic green, glutes green when due, lumbar red), the contact as a
    bright marker with the last few positions as a trail, and beside it a bar over where it
    may be (± 2 standard deviations). Colours come from the theme's variables, so every
    theme (and a 256-colour terminal) shows them.

    Drawn a row at a time (Textual's line API): a move repaints only the rows whose look it
    changes, usually the few the contact and its trail leave and reach, and rows that look
    alike share one strip."""

    DEFAULT_CSS = """
    BodyMap { width: 28; height: 1fr; min-height: 16; }
    """

    flash: reactive[bool] = reactive(False, repaint=False)  # repainted by its watcher
    glutes_due: reactive[bool] = reactive(True, repaint=False)

    def __init__(self, body: Body, trail_points: int, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.body = body
        self.trail: deque[float] = deque(maxlen=trail_points)
        self.s_cm: float | None = None
        self.sd_cm = 0.0
        self.drawn: list[Row] = []  # each row's look, as the last render drew it
        self.strips: dict[Row, Strip] = {}
        self.strips_for: tuple[object, ...] = ()  # the colours and style they were made in

    def move(self, s_cm: float, sd_cm: float = 0.0) -> None:
        self.trail.append(s_cm)
        self.s_cm, self.sd_cm = s_cm, sd_cm
        self.repaint_changed()

    def watch_flash(self) -> None:
        self.repaint_changed()

    def watch_glutes_due(self) -> None:
        self.repaint_changed()

    def repaint_changed(self) -> None:
        """Repaint the rows that would look different from how they were last drawn."""
        rows = self.rows()
        if len(rows) != len(self.drawn):
            self.refresh()
            return
        width = self.size.width
        for y, (row, drawn) in enumerate(zip(rows, self.drawn, strict=True)):
            if row != drawn:
                self.refresh(Region(0, y, width, 1))

    def rows(self) -> list[Row]:
        """How each row looks now."""
        colours = self.app.theme_variables
        rows = max(8, self.size.height)
        per_row = self.body.height_cm / rows
        contact = trail = spread = None
        if self.s_cm is not None:
            contact = int(self.s_cm / per_row)
            trail = {int(s / per_row) for s in self.trail}
            spread = range(int((self.s_cm - 2 * self.sd_cm) / per_row),
                           int((self.s_cm + 2 * self.sd_cm) / per_row) + 1)
        shade = {
            "thoracic": colours.get("success", "green"),
            "lumbar": colours.get("warning", "yellow") if self.flash
            else colours.get("error", "red"),
            "glutes": colours.get("success", "green") if self.glutes_due
            else colours.get("panel", "grey"),
        }
        other = colours.get("surface-lighten-2", "grey")
        return [Row(spread is not None and row in spread, half, shade.get(region, other),
                    "●" if row == contact else ("·" if trail and row in trail else " "), label)
                for row, (region, half, label) in enumerate(silhouette(self.body, rows))]

    def render_lines(self, crop: Region) -> list[Strip]:
        self.drawn = self.rows()  # once a render, for the lines it draws
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        if y >= len(self.drawn):
            return Strip.blank(self.size.width, self.visual_style.rich_style)
        return self.strip(self.drawn[y])

    def strip(self, row: Row) -> Strip:
        """The row drawn: the spread bar, the silhouette in its region's shade with the
        marker in its middle, the label dimmed; on the widget's own style, as Textual draws
        text."""
        colours, base, ansi = self.app.theme_variables, self.visual_style, self.app.ansi_theme
        made_for = (base, ansi, colours.get("warning"), colours.get("foreground"))
        if made_for != self.strips_for:
            self.strips.clear()
            self.strips_for = made_for
        if (strip := self.strips.get(row)) is not None:
            return strip
        bar = Style(color=colours.get("warning", "yellow"), bold=True)
        body = Style(bgcolor=row.colour)
        side = " " * (row.half - 1)
        parts = ((("┃" if row.spread else " "), bar), (" " * max(0, CENTRE - row.half), None),
                 (side, body), (row.marker * 2,
                                body + Style(color=colours.get("foreground", "white"), bold=True)),
                 (side, body), (f" {row.label}", Style(dim=True)))
        strip = self.strips[row] = Strip([
            Segment(text, (base + VisualStyle.from_rich_style(style, ansi)).rich_style
                    if style else base.rich_style)
            for text, style in parts if text])
        return strip
