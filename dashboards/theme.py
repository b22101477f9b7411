"""The pictures' colours from the app's theme variables, so every theme (and a 256-colour
terminal) draws them in its own colours."""

from __future__ import annotations

from textual.app import App
from textual.color import Color

from tracker.core.pictures.charts import Colours
from tracker.core.pictures.grids import Palette


def _solid(app: App[object], name: str) -> Color:
    """A theme colour as it shows on the background (some have transparency, which rich
    styles and plotext cannot take)."""
    variables = app.theme_variables
    return Color.parse(variables["background"]) + Color.parse(variables[name])


def colours(app: App[object]) -> Colours:
    """Chart colours: the track in the primary colour, the lumbar band in the error colour
    with alerts over it in the foreground's, cautions in the warning colour."""

    def rgb(name: str) -> tuple[int, int, int]:
        return _solid(app, name).rgb

    return Colours(track=rgb("primary"), hold=rgb("secondary"), lumbar=rgb("error"),
                   alert=rgb("foreground"), caution=rgb("warning"), edge=rgb("panel"),
                   guide=rgb("success"), glutes=rgb("success"))


def palette(app: App[object]) -> Palette:
    """Grid styles: heat-map shades from the surface towards the success colour."""
    surface, success = _solid(app, "surface"), _solid(app, "success")

    def shade(step: float) -> str:
        return f"on {surface.blend(success, step).hex}"

    def hex_of(name: str) -> str:
        return _solid(app, name).hex

    return Palette(shades=(shade(0.0), shade(0.3), shade(0.55), shade(0.8), shade(1.0)),
                   glutes=f"bold {hex_of('foreground')}", lumbar=f"bold {hex_of('error')}",
                   good=hex_of("success"), muted=hex_of("foreground-muted"),
                   today=f"bold {hex_of('accent')}")
