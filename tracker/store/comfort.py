"""The store's comfort scores, one per part of a session, and the alerts a score raises,
queued for MQTT in the same transaction as the score (docs/clinician.md, "Alerts"); a
finished session's record queued again with it, for a central store (``roller ingest``
takes a known session's scores from it).

A score is kept apart from the part it belongs to (by the session and the part's place in
it), so a re-analysis of the session, which writes its parts again, keeps what the person
said. Given again, a score replaces the one before: a person who typed 8 for 3 corrects it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from tracker.core.alert_rules import AlertRules
from tracker.core.alerts import on_score
from tracker.core.comfort import Score, by_area
from tracker.store.codec import iso
from tracker.store.connection import Connection
from tracker.store.errors import WAIT_S, UnknownSession, Writing
from tracker.store.outbox import Outbox

if TYPE_CHECKING:
    import sqlite_utils

#: The columns a :class:`Score` is read from: the score's, and its session's day.
_SELECT = ("SELECT c.session_id, c.seq, c.area, c.score, c.given_at, s.started_at, s.zone "
           "FROM comfort c JOIN sessions s ON s.id = c.session_id")


class NoPart(UnknownSession):
    """A session, or a part of it, that cannot be scored."""


class Comforts:
    """The store's ``comfort`` table. Reached as ``Store.comfort``."""

    def __init__(self, db: Connection, writing: Writing, outbox: Outbox) -> None:
        self.db, self._writing, self.outbox = db, writing, outbox

    def give(self, session_id: int, score: int, at: datetime, rules: AlertRules,
             seq: int | None = None, area: str | None = None,
             wait_s: float = WAIT_S) -> Score:
        """Keep ``score`` for a part of a session (``seq``; None: its last part) and queue
        the alerts it raises against the person's earlier scores of the area. ``area``
        names the part's area when the session under way has not stored the part yet."""
        with self._writing(wait_s) as db:
            session = next(iter(db.query("SELECT person_id, device, started_at, zone, status, "
                                         "ended_at FROM sessions WHERE id = ?",
                                         [session_id])), None)
            if session is None:
                raise NoPart(f"no session {session_id}")
            parts = {int(r["seq"]): str(r["routine"]) for r in db.query(
                "SELECT seq, routine FROM parts WHERE session_id = ?", [session_id])}
            seq = max(parts, default=0) if seq is None else seq
            area = parts.get(seq, area)
            if area is None:
                raise NoPart(f"session {session_id} has no part {seq + 1} (it has "
                             f"{len(parts)})")
            db.execute("INSERT OR REPLACE INTO comfort (session_id, seq, area, score, "
                       "given_at) VALUES (?, ?, ?, ?, ?)",
                       [session_id, seq, area, score, iso(at)])
            given = _score({"session_id": session_id, "seq": seq, "area": area,
                            "score": score, "given_at": iso(at), **session})
            if session["status"] != "live":  # its record went out without it: again
                self.outbox.enqueue_record(db, session_id, session["ended_at"],
                                           session["device"])
            earlier = [s for s in by_area(self._of(db, int(session["person_id"]))).get(area, [])
                       if s.order < given.order]
            for alert in on_score(given, earlier, rules):
                self.outbox.enqueue(db, "comfort_alert", session_id, iso(at),
                                    session["device"], kind=alert.kind, area=area,
                                    score=score, text=alert.text)
        self.outbox.ring()
        return given

    def of_person(self, person_id: int) -> list[Score]:
        """Every score the person gave, in the order rolled: an area's usual and its trend
        read back to its first."""
        return self._of(self.db, person_id)

    def of_session(self, session_id: int) -> dict[int, int]:
        """A session's scores by part."""
        return {int(r[0]): int(r[1]) for r in self.db.execute(
            "SELECT seq, score FROM comfort WHERE session_id = ?", [session_id])}

    @staticmethod
    def _of(db: Connection | sqlite_utils.Database, person_id: int) -> list[Score]:
        rows = db.query(f"{_SELECT} WHERE s.person_id = ?", [person_id])
        return sorted((_score(r) for r in rows), key=lambda s: s.order)


def _score(row: dict[str, Any]) -> Score:
    started = datetime.fromisoformat(row["started_at"])
    return Score(int(row["session_id"]), int(row["seq"]), str(row["area"]), int(row["score"]),
                 datetime.fromisoformat(row["given_at"]), started,
                 started.astimezone(ZoneInfo(row["zone"])).date())
