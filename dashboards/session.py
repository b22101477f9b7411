"""One session: position over time with the regions as bands, time per region, and the
bouts and pauses against their guides (the same charts as ``roller session show``)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Header, Static
from textual_plotext import PlotextPlot

from dashboards.theme import colours
from tracker.config import Settings
from tracker.core.pictures.charts import session_charts
from tracker.core.pictures.session_figure import SessionPicture, session_picture
from tracker.core.pictures.tables import areas, near_lumbar, session_time
from tracker.live.shown import shown
from tracker.store.database import Store
from tracker.store.errors import StoreError


class SessionScreen(Screen[None]):
    """One stored session's pictures. Its person's settings (from ``settings``, the app's)
    give the guides and, without its samples, the body."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, store: Store, session_id: int, settings: Settings) -> None:
        super().__init__(id="session")
        self.store, self.session_id, self.settings = store, session_id, settings

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static(id="detail")
            yield PlotextPlot(id="position")
            yield Static(id="legend")
            with Horizontal(id="small"):
                yield PlotextPlot(id="regions")
                yield PlotextPlot(id="bouts")
                yield PlotextPlot(id="pauses")
        yield Footer()

    def on_mount(self) -> None:
        try:
            self._show()
        except StoreError as exc:  # a damaged session: say so, the others stay readable
            self.query_one("#detail", Static).update(Content(str(exc)))

    def _show(self) -> None:
        row = self.store.session(self.session_id)
        settings = self.settings.for_person(self.store.people.by_id(row.person_id))
        detail = self.store.session_detail(self.session_id)
        analysis, body, _ = shown(self.store, row, detail, settings)
        self.sub_title = f"session {row.id}"
        cautions = detail.caution_events if row.caution_events is not None else None
        self.query_one("#detail", Static).update("\n".join([
            f"[b]{areas(row.areas)}[/b], {session_time(row.duration_s)}, {row.strokes} strokes, "
            f"{row.lumbar_events} lumbar contact(s)",
            *near_lumbar(detail.lumbar_events, cautions)]))
        self.draw(session_picture(analysis, body, settings.rules))

    def draw(self, pic: SessionPicture) -> None:
        c = colours(self.app)
        self.query_one("#legend", Static).update(
            "[$primary]⣿ rolling[/]  [$secondary]⣿ holding[/]  [$error]░ lumbar band[/]  "
            "│ alert  [$warning]│ caution[/]" if pic.t_s
            else "regions only: this session's samples were not kept")
        for name, title, draw, _ in session_charts(pic, c):
            plot = self.query_one(f"#{name}", PlotextPlot)
            plot.plt.clear_figure()
            plot.plt.title(title)
            draw(plot.plt)
            plot.refresh()
