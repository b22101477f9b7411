"""The Schedule screen: this week in seven columns, the glute quota, the next glute day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label

from tracker.config import Settings
from tracker.schedule import week_status
from tracker.store.database import Store


class ScheduleScreen(Screen[None]):
    """The week of whoever is rolling: ``whose`` gives their settings when it is shown."""

    def __init__(self, store: Store, whose: Callable[[], Settings],
                 clock: Callable[[], datetime]) -> None:
        super().__init__(id="schedule")
        self.store, self.whose, self.clock = store, whose, clock

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="week", cursor_type="none")
        yield Label(id="quota")
        yield Label(id="next")
        yield Footer()

    def on_screen_resume(self) -> None:
        self.refresh_week()

    def refresh_week(self) -> None:
        settings = self.whose()
        person = settings.person.id if settings.person else None
        history = [s.rolled() for s in self.store.sessions(person=person)]
        week = week_status(history, self.clock(), settings.zone, settings.rules)
        if settings.person:
            self.sub_title = settings.person.name
        table = self.query_one(DataTable)
        table.clear(columns=True)
        for day in week.days:
            table.add_column(f"{day:%a %d}" + (" *" if day == week.today else ""))
        depth = max((len(r) for r in week.days.values()), default=0)
        for row in range(max(1, depth)):
            table.add_row(*(routines[row].replace("_", " ") if row < len(routines) else ""
                            for routines in week.days.values()))
        quota = self.query_one("#quota", Label)
        quota.update(f"glutes {week.done} of {settings.rules.glute_sessions_per_week} done, "
                     f"{week.due} due, {week.days_left} day(s) left: "
                     f"{week.status.replace('_', ' ')}")
        for status in ("on_track", "behind", "done", "over"):
            quota.set_class(week.status == status, status)
        self.query_one("#next", Label).update(
            f"next glute session allowed: {week.next_allowed:%A %d %B}")
