"""The MQTT outbox: events queued in the same transaction as the change that caused them,
published by the bridge and marked sent only after the broker acknowledged them; and the
Home Assistant discovery topics we published, so that they can be cleared again."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracker.core import clock
from tracker.core.events import event_payload
from tracker.store.codec import iso
from tracker.store.connection import Connection
from tracker.store.errors import atomic

if TYPE_CHECKING:
    import sqlite_utils

log = logging.getLogger(__name__)
#: The outbox kind of a finished session published whole (``roller-session/1``).
RECORD = "session_record"


class Outbox:
    """Events waiting for the broker, in the store's own file."""

    def __init__(self, db: Connection, path: Path) -> None:
        self.db, self.path = db, path
        #: Called after a transaction that queued events (the publisher's doorbell).
        self.on_queued: Callable[[], None] | None = None
        #: Queue each finished session as a record for a central store (``[mqtt]
        #: publish_sessions``); off, nothing of a session leaves but its events.
        self.records = False

    def enqueue(self, db: sqlite_utils.Database, event_type: str, session_id: int | None,
                occurred_at: str, device: str | None, **details: Any) -> None:
        """Queue an event inside the caller's transaction ``db``; :meth:`ring` after it."""
        payload = event_payload(event_type, session_id, occurred_at, **details)
        db.table("outbox").insert({
            "created_at": iso(clock.now()), "kind": event_type,
            "session_id": session_id,
            "payload": json.dumps({**payload, "device": device}),
        })

    def enqueue_record(self, db: sqlite_utils.Database, session_id: int, ended_at: str,
                       device: str | None) -> None:
        """A finished session to publish whole (built when it is sent: raw samples are
        not copied into the outbox), if records are on."""
        if self.records:
            db.table("outbox").insert({
                "created_at": iso(clock.now()), "kind": RECORD, "session_id": session_id,
                "payload": json.dumps({"event_type": RECORD, "occurred_at": ended_at,
                                       "device": device}),
            })

    def ring(self) -> None:
        if self.on_queued is not None:
            self.on_queued()

    def record_refusal(self, routine: str, verdict: str, next_allowed: str, at: datetime,
                       device: str | None = None) -> None:
        """A glute session the schedule refused: nothing is stored but the event."""
        with atomic(self.db.database, self.path) as db:
            self.enqueue(db, "schedule_refused", None, iso(at), device, routine=routine,
                         verdict=verdict, next_allowed=next_allowed)
        self.ring()

    def person_alert(self, person_id: int, uid: str, event_type: str, about: str,
                     at: datetime, **details: Any) -> bool:
        """A person's alert (``not_rolling_alert``), queued once for what it is ``about``
        (the last day rolled): a restart, or the next day's look, does not send it again.
        Whether it was queued now."""
        with atomic(self.db.database, self.path) as db:
            new = db.execute("INSERT OR IGNORE INTO alerts_raised (person_id, kind, about, "
                             "raised_at) VALUES (?, ?, ?, ?)",
                             [person_id, event_type, about, iso(at)]).rowcount
            if new:
                payload = event_payload(event_type, None, iso(at), **details)
                db.table("outbox").insert({
                    "created_at": iso(clock.now()), "kind": event_type, "session_id": None,
                    "payload": json.dumps({**payload, "device": None, "person": uid})})
        if new:
            self.ring()
        return bool(new)

    def pending(self, limit: int = 100) -> list[dict[str, Any]]:
        """Events not yet acknowledged by the broker, oldest first."""
        return list(self.db.query(
            "SELECT id, created_at, kind, session_id, payload FROM outbox WHERE sent_at IS NULL "
            "ORDER BY id LIMIT ?", [limit]))

    def count(self) -> int:
        """How many events wait for the broker."""
        return int(self.db.execute(
            "SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0])

    def mark_sent(self, event_id: int, at: datetime) -> None:
        with atomic(self.db.database, self.path) as db:
            db.execute("UPDATE outbox SET sent_at = ? WHERE id = ?", [iso(at), event_id])

    def trim(self, max_events: int, max_age: timedelta, now: datetime) -> int:
        """Drop what is over the cap (oldest first) and sent entries; return how many unsent
        events were dropped."""
        cutoff = iso(now - max_age)
        with atomic(self.db.database, self.path) as db:
            db.execute("DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ?",
                       [cutoff])
            stale = db.execute("DELETE FROM outbox WHERE sent_at IS NULL AND created_at < ?",
                               [cutoff]).rowcount
            over = max(0, self.count() - max_events)
            if over:
                db.execute("DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE "
                           "sent_at IS NULL ORDER BY id LIMIT ?)", [over])
        dropped = stale + over
        if dropped:
            log.warning("MQTT outbox full: dropped the %d oldest unsent events", dropped)
        return int(dropped)

    # -- Home Assistant discovery ------------------------------------------------------

    def remember_discovery(self, device: str, topics: list[str]) -> None:
        with atomic(self.db.database, self.path) as db:
            db.table("mqtt_discovery").upsert_all(
                [{"topic": t, "device": device, "published_at": iso(clock.now())}
                 for t in topics], pk="topic")

    def discovery_topics(self, device: str | None = None) -> list[str]:
        where, args = (" WHERE device = ?", [device]) if device else ("", [])
        return [r[0] for r in self.db.execute(f"SELECT topic FROM mqtt_discovery{where}", args)]

    def remembered_discovery(self) -> list[tuple[str, str]]:
        """Every config topic remembered, with what it is of (an address, ``person:<uid>``,
        ``bridge``)."""
        return [(r[0], r[1]) for r in self.db.execute("SELECT topic, device FROM mqtt_discovery")]

    def forget_discovery(self, topics: list[str]) -> None:
        with atomic(self.db.database, self.path) as db:
            db.execute(f"DELETE FROM mqtt_discovery WHERE topic IN "
                       f"({', '.join('?' * len(topics))})", topics)
