"""The Schedule screen: this week in seven columns, the glute quota, the next glute day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label

from tracker.schedule import Rules, week_status
from tracker.store.database import Store


class ScheduleScreen(Screen[None]):
    def __init__(self, store: Store, rules: Rules, zone: str,
                 clock: Callable[[], datetime]) -> None:
        super().__init__(id="schedule")
        self.store, self.rules, self.zone, self.clock = store, rules, zone, clock

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="week", cursor_type="none")
        yield Label(id="quota")
        yield Label(id="next")
        yield Footer()

    def on_screen_resume(self) -> None:
        self.refresh_week()

    def refresh_week(self) -> None:
        history = [s.rolled() for s in self.store.sessions()]
        week = week_status(history, self.clock(), self.zone, self.rules)
        table = self.query_one(DataTable)
        table.clear(columns=True)
        for day in week.days:
            table.add_column(f"{day:%a %d}" + (" *" if day == week.today else ""))
        depth = max((len(r) for r in week.days.values()), default=0)
        for row in range(max(1, depth)):
            table.add_row(*(routines[row].replace("_", " ") if row < len(routines) else ""
                            for routines in week.days.values()))
        quota = self.query_one("#quota", Label)
        quota.update(f"glutes {week.done} of {self.rules.glute_sessions_per_week} done, "
                     f"{week.due} due, {week.days_left} day(s) left: "
                     f"{week.status.replace('_', ' ')}")
        for status in ("on_track", "behind", "done", "over"):
            quota.set_class(week.status == status, status)
        self.query_one("#next", Label).update(
            f"next glute session allowed: {week.next_allowed:%A %d %B}")
