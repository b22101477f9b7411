"""The History screen: a table of sessions; Enter opens one."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header

from dashboards.session import SessionScreen
from tracker.config import Settings
from tracker.core.pictures.tables import areas, session_time
from tracker.store.database import Store


class HistoryScreen(Screen[None]):
    """Sessions of whoever is rolling: ``whose`` gives their settings when it is shown (with
    no person in them: everyone's)."""

    def __init__(self, store: Store, whose: Callable[[], Settings]) -> None:
        super().__init__(id="history")
        self.store, self.whose = store, whose

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="sessions", cursor_type="row")
        yield Footer()

    def on_screen_resume(self) -> None:
        table = self.query_one(DataTable)
        table.clear(columns=True)
        person = self.whose().person
        rows = self.store.sessions(last=200, person=person.id if person else None)
        central = any(row.origin for row in rows)  # roller ingest's: say each one's gateway
        table.add_columns("date", *(("gateway",) if central else ()), "routine", "time",
                          "active", "strokes", "cpm", "lumbar", "schedule")
        for row in reversed(rows):
            local = row.started_at.astimezone(ZoneInfo(row.zone))
            verdict = "override" if row.override else (row.verdict or "")
            table.add_row(f"{local:%a %d %b %H:%M}",
                          *((row.origin or "here",) if central else ()), areas(row.areas),
                          session_time(row.duration_s), session_time(row.active_s),
                          str(row.strokes),
                          f"{row.cadence_cpm:.0f}", str(row.lumbar_events), verdict,
                          key=str(row.id))
        for session_id, what in self.store.damaged.items():
            self.notify(f"session {session_id} is damaged: {what} (roller check)",
                        severity="warning", timeout=10, markup=False)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.app.push_screen(SessionScreen(self.store, int(event.row_key.value),
                                               self.whose()))
