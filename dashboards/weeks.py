"""The Weeks screen: a heat map of the last weeks (rolling time a day, glute days, lumbar
contacts), and each week's rolling time, glute sessions against the quota and lumbar
contacts (whose goal is none)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static
from textual_plotext import PlotextPlot

from dashboards.theme import colours, palette
from tracker.config import Settings
from tracker.core.limits import visible
from tracker.core.pictures.charts import TRENDS, draw_trend, trend_title
from tracker.core.pictures.grids import heat_map, period
from tracker.live.past import weeks_of
from tracker.store.database import Store

WEEKS = 16  # as many as the heat map shows at 80 columns, over three months


class WeeksScreen(Screen[None]):
    """The weeks of whoever is rolling: ``whose`` gives their settings when it is shown."""

    def __init__(self, store: Store, whose: Callable[[], Settings],
                 clock: Callable[[], datetime], weeks: int = WEEKS) -> None:
        super().__init__(id="weeks")
        self.store, self.whose, self.clock, self.weeks = store, whose, clock, weeks

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static(id="heat")
            with Horizontal(id="trends"):
                for what in TRENDS:
                    yield PlotextPlot(id=what)
        yield Footer()

    def on_screen_resume(self) -> None:
        settings = self.whose()
        picture = weeks_of(self.store, settings, self.clock(), self.weeks)
        if settings.person:
            self.sub_title = visible(settings.person.name)
        self.query_one("#heat", Static).update(heat_map(picture, palette(self.app)))
        self.query_one("#heat", Static).border_title = period(picture)
        c = colours(self.app)
        for what in TRENDS:
            plot = self.query_one(f"#{what}", PlotextPlot)
            plot.plt.clear_figure()
            plot.plt.title(trend_title(what, picture))
            draw_trend(plot.plt, picture, what, c)
            plot.refresh()
