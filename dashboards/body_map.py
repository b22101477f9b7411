"""The body map: a back-view silhouette with its regions shaded and the roller's contact on it."""

from __future__ import annotations

from collections import deque
from itertools import pairwise

from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tracker.core.body import REGIONS, Body

# Half-widths (in cells) of the silhouette from head to heels, at fractions of height.
_OUTLINE = ((0.00, 2), (0.10, 3), (0.12, 2), (0.17, 7), (0.33, 6), (0.43, 6), (0.53, 7),
            (0.72, 5), (1.00, 3))


def _half_width(fraction: float) -> int:
    for (f0, w0), (f1, w1) in pairwise(_OUTLINE):
        if f0 <= fraction <= f1:
            return round(w0 + (w1 - w0) * (fraction - f0) / (f1 - f0))
    return 2


class BodyMap(Widget):
    """Regions shaded (thoracic green, glutes green when due, lumbar red), the contact as a
    bright marker with the last few positions as a trail, and beside it a bar over
    where it may be (± 2 standard deviations). Colours come from the theme's variables, so
    every theme (and a 256-colour terminal) shows them."""

    DEFAULT_CSS = """
    BodyMap { width: 28; height: 1fr; min-height: 16; }
    """

    s_cm: reactive[float | None] = reactive(None)
    sd_cm: reactive[float] = reactive(0.0)
    flash: reactive[bool] = reactive(False)
    glutes_due: reactive[bool] = reactive(True)

    def __init__(self, body: Body, trail_points: int, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.body = body
        self.trail: deque[float] = deque(maxlen=trail_points)

    def move(self, s_cm: float, sd_cm: float = 0.0) -> None:
        self.trail.append(s_cm)
        self.s_cm, self.sd_cm = s_cm, sd_cm

    def render(self) -> Text:
        colours = self.app.theme_variables
        rows = max(8, self.size.height)
        per_row = self.body.height_cm / rows
        contact = None if self.s_cm is None else int(self.s_cm / per_row)
        trail = {int(s / per_row) for s in self.trail}
        spread = range(0) if self.s_cm is None else range(
            int((self.s_cm - 2 * self.sd_cm) / per_row),
            int((self.s_cm + 2 * self.sd_cm) / per_row) + 1)
        shade = {
            "thoracic": colours.get("success", "green"),
            "lumbar": colours.get("error", "red"),
            "glutes": colours.get("success", "green") if self.glutes_due
            else colours.get("panel", "grey"),
        }
        text = Text()
        centre = 7  # the widest part (the hips) is 7 cells each side; the spread bar left
        for row in range(rows):
            fraction = (row + 0.5) / rows
            region = REGIONS[int(self.body.region_index(fraction * self.body.height_cm))]
            half = _half_width(fraction)
            colour = shade.get(region, colours.get("surface-lighten-2", "grey"))
            if region == "lumbar" and self.flash:
                colour = colours.get("warning", "yellow")
            body = Style(bgcolor=colour)
            marker = "●" if row == contact else ("·" if row in trail else " ")
            text.append("┃" if row in spread else " ",
                        Style(color=colours.get("warning", "yellow"), bold=True))
            text.append(" " * max(0, centre - half))
            text.append(" " * (half - 1), body)
            text.append(marker * 2 if marker.strip() else "  ",
                        body + Style(color=colours.get("foreground", "white"), bold=True))
            text.append(" " * (half - 1), body)
            label = region if (row == 0 or REGIONS[int(self.body.region_index(
                max(0.0, fraction - 1 / rows) * self.body.height_cm))] != region) else ""
            text.append(f" {label}\n", Style(dim=True))
        return text
