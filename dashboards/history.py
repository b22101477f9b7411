"""The History screen: a table of sessions; Enter opens one."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from tracker.body import Body
from tracker.estimate import analyze
from tracker.report import clock, near_lumbar, position_chart
from tracker.store.database import Store
from tracker.store.errors import StoreError


def areas(names: tuple[str, ...]) -> str:
    """A session's areas in order: ``upper back + glutes``."""
    return " + ".join(name.replace("_", " ") for name in names)


class HistoryScreen(Screen[None]):
    """Sessions of whoever is rolling (``whose`` gives their id when it is shown; None:
    everyone's)."""

    def __init__(self, store: Store, whose: Callable[[], int | None] = lambda: None) -> None:
        super().__init__(id="history")
        self.store, self.whose = store, whose

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="sessions", cursor_type="row")
        yield Footer()

    def on_screen_resume(self) -> None:
        table = self.query_one(DataTable)
        table.clear(columns=True)
        rows = self.store.sessions(last=200, person=self.whose())
        central = any(row.origin for row in rows)  # roller ingest's: say each one's gateway
        table.add_columns("date", *(("gateway",) if central else ()), "routine", "time",
                          "active", "strokes", "cpm", "lumbar", "schedule")
        for row in reversed(rows):
            local = row.started_at.astimezone(ZoneInfo(row.zone))
            verdict = "override" if row.override else (row.verdict or "")
            table.add_row(f"{local:%a %d %b %H:%M}",
                          *((row.origin or "here",) if central else ()), areas(row.areas),
                          clock(row.duration_s), clock(row.active_s), str(row.strokes),
                          f"{row.cadence_cpm:.0f}", str(row.lumbar_events), verdict,
                          key=str(row.id))
        for session_id, what in self.store.damaged.items():
            self.notify(f"session {session_id} is damaged: {what} (roller check)",
                        severity="warning", timeout=10)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.app.push_screen(SessionScreen(self.store, int(event.row_key.value)))


class SessionScreen(Screen[None]):
    """One session: segments on a time axis, position over time with the lumbar band."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, store: Store, session_id: int) -> None:
        super().__init__()
        self.store, self.session_id = store, session_id

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="detail")
        yield Footer()

    def on_mount(self) -> None:
        try:
            self._show()
        except StoreError as exc:  # a damaged session: say so, the others stay readable
            self.query_one("#detail", Static).update(str(exc))

    def _show(self) -> None:
        row = self.store.session(self.session_id)
        detail = self.store.session_detail(self.session_id)
        lines = [f"session {row.id}: {areas(row.areas)}, {clock(row.duration_s)}, "
                 f"{row.strokes} strokes, {row.lumbar_events} lumbar event(s)", ""]
        lines += [f"  {clock(s.start_s)}-{clock(s.end_s)}  {s.region}"
                  for s in detail.segments[:20]]
        cautions = detail.caution_events if row.caution_events is not None else None
        lines += [f"  {line}" for line in near_lumbar(detail.lumbar_events, cautions)]
        shown = self.query_one("#detail", Static)
        recording = self.store.recording(self.session_id)
        if recording is None:
            shown.update("\n".join(lines))
            return
        chart = position_chart(analyze(recording), Body(recording.header.user_height_cm))
        shown.update("\n".join(lines) + "\n\n" + chart.markup)
