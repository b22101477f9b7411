"""The Schedule screen: this week as a calendar, the glute quota as progress with the
rest-day rule (which days glutes may come next), lumbar contacts a day; and everyone's week
where the store has several people."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, Static

from dashboards.theme import palette
from tracker.config import Settings
from tracker.core.limits import visible
from tracker.core.pictures.grids import calendar, everyone, glute_rule, quota
from tracker.live.past import week_of
from tracker.store.database import Store


class ScheduleScreen(Screen[None]):
    """The week of whoever is rolling: ``whose`` gives their settings when it is shown."""

    def __init__(self, store: Store, whose: Callable[[], Settings],
                 clock: Callable[[], datetime]) -> None:
        super().__init__(id="schedule")
        self.store, self.whose, self.clock = store, whose, clock

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static(id="calendar")
            yield Static(id="quota")
            yield Label(id="next")
            yield Static(id="everyone")
        yield Footer()

    def on_screen_resume(self) -> None:
        self.refresh_week()

    def refresh_week(self) -> None:
        settings, now = self.whose(), self.clock()
        week = week_of(self.store, settings, now)
        colours = palette(self.app)
        if settings.person:
            self.sub_title = visible(settings.person.name)
        self.query_one("#calendar", Static).update(calendar(week, colours))
        shown = self.query_one("#quota", Static)
        shown.update(quota(week, colours))
        for status in ("on_track", "behind", "done", "over"):
            shown.set_class(week.status.status == status, status)
        self.query_one("#next", Label).update(
            f"next glute session allowed: {week.status.next_allowed:%A %d %B} "
            f"({glute_rule(settings.rules)})")
        people = self.store.people.all()
        others = self.query_one("#everyone", Static)
        others.display = len(people) > 1
        if len(people) > 1:
            mine = settings.person.id if settings.person else None
            others.update(everyone([(p.name, week if p.id == mine else
                                     week_of(self.store, settings.for_person(p), now))
                                    for p in people], colours))
