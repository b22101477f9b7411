"""The session store: one SQLite file, plain tables that sqlite-utils and Datasette can browse.

Every write is one transaction (``Database.atomic``); the schema version lives in
``PRAGMA user_version`` and migrations run in order on open. Times are UTC ISO-8601 with
offset; each session keeps the IANA zone it was rolled in (for its local day). Raw samples
are kept as zlib-compressed float32 blocks so any session can be re-analysed or exported.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import platformdirs
import sqlite_utils

from tracker.analysis import Analysis, LumbarEvent, Segment
from tracker.calibration import Mounting
from tracker.mqtt_messages import event_payload
from tracker.recording import Header, Recording
from tracker.schedule import Rolled, glutes_active_s

log = logging.getLogger(__name__)
Array = npt.NDArray[np.float64]


class StoreError(RuntimeError):
    """The store cannot be used; nothing in it was changed."""


class UnknownSession(StoreError):
    """A session or roller that is not in the store (the user's mistake, not the store's)."""


def default_path() -> Path:
    return platformdirs.user_data_path("roller") / "roller.db"


def _v1(db: sqlite_utils.Database) -> None:
    db.table("devices").create(
        {"address": str, "name": str, "first_seen": str, "last_seen": str}, pk="address"
    )
    db.table("sessions").create(
        {
            "id": int, "device": str, "routine": str, "status": str, "end_reason": str,
            "started_at": str, "ended_at": str, "zone": str, "source": str,
            "sample_rate_hz": float, "diameter_cm": float, "height_cm": float,
            "clock_start_s": float, "duration_s": float, "active_s": float, "paused_s": float,
            "strokes": int, "cadence_cpm": float, "glutes_active_s": float,
            "lumbar_events": int, "pauses": str, "override": int, "verdict": str,
            "checkpoint_at": str,
        },
        pk="id",
        foreign_keys=[("device", "devices", "address")],
        not_null={"routine", "status", "started_at", "zone"},
        defaults={"override": 0, "lumbar_events": 0},
    )
    for table, columns in {
        "segments": {"session_id": int, "region": str, "start_s": float, "end_s": float},
        "lumbar_events": {"session_id": int, "start_s": float, "end_s": float, "alert_s": float},
        "raw_blocks": {"session_id": int, "seq": int, "t0_s": float, "samples": int,
                       "data": bytes},
    }.items():
        db.table(table).create(columns, foreign_keys=[("session_id", "sessions", "id")])
        db.table(table).create_index(["session_id"])
    db.table("outbox").create(
        {"id": int, "created_at": str, "kind": str, "session_id": int, "payload": str,
         "sent_at": str},
        pk="id",
    )
    db.table("sessions").create_index(["started_at"])


def _v2(db: sqlite_utils.Database) -> None:
    """Radio outages a session survived: JSON list of [lost_at, restored_at] (UTC ISO)."""
    db.table("sessions").add_column("link_gaps", str)
    db.execute("UPDATE sessions SET link_gaps = '[]'")


def _v3(db: sqlite_utils.Database) -> None:
    """Pairing: the roller ``roller track`` uses unless told otherwise."""
    db.table("devices").add_column("paired", int, not_null_default=0)


def _v4(db: sqlite_utils.Database) -> None:
    """Home Assistant discovery topics we published, so forget and purge can clear them."""
    db.table("mqtt_discovery").create({"topic": str, "device": str, "published_at": str},
                                      pk="topic")


def _v5(db: sqlite_utils.Database) -> None:
    """Device profiles and calibrations: what kind of sensor, and how it sits in its roller."""
    db.table("devices").add_column("profile", str, not_null_default="roller")
    db.table("devices").add_column("mounting", str)
    db.table("devices").add_column("calibrated_at", str)


#: Migrations in order: MIGRATIONS[n] takes a store from version n to n + 1.
MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_v1, _v2, _v3, _v4, _v5]
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True)
class SessionRow:
    id: int
    routine: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    zone: str
    duration_s: float
    active_s: float
    strokes: int
    cadence_cpm: float
    lumbar_events: int
    glutes_active_s: float
    override: bool
    verdict: str | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> SessionRow:
        return cls(
            id=row["id"], routine=row["routine"], status=row["status"],
            started_at=datetime.fromisoformat(row["started_at"]),
            ended_at=datetime.fromisoformat(row["ended_at"]) if row["ended_at"] else None,
            zone=row["zone"], duration_s=row["duration_s"] or 0.0,
            active_s=row["active_s"] or 0.0, strokes=row["strokes"] or 0,
            cadence_cpm=row["cadence_cpm"] or 0.0, lumbar_events=row["lumbar_events"] or 0,
            glutes_active_s=row["glutes_active_s"] or 0.0, override=bool(row["override"]),
            verdict=row["verdict"],
        )

    def rolled(self) -> Rolled:
        return Rolled(self.started_at, self.zone, self.routine, self.glutes_active_s)


@dataclass(frozen=True)
class SessionStart:
    """What is known when a session starts."""

    routine: str
    started_at: datetime
    zone: str
    source: str  # live, sim, import
    sample_rate_hz: float
    diameter_cm: float
    height_cm: float
    clock_start_s: float
    device: str | None = None
    override: bool = False
    verdict: str | None = None


class Store:
    """The roller's SQLite store. Use :func:`open_store`."""

    def __init__(self, db: sqlite_utils.Database, path: Path) -> None:
        self.db, self.path = db, path
        #: Called after a transaction that queued MQTT events (the publisher's doorbell).
        self.on_outbox: Callable[[], None] | None = None

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def _writing(self) -> Iterator[sqlite_utils.Database]:
        try:
            with self.db.atomic():
                yield self.db
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self.path}: {_explain(exc)}; nothing was changed") from None

    # -- the session lifecycle -------------------------------------------------------------

    def start_session(self, start: SessionStart) -> int:
        with self._writing() as db:
            if start.device:
                db.table("devices").upsert(
                    {"address": start.device, "last_seen": _iso(start.started_at)},
                    pk="address",
                )
            table = db.table("sessions")
            table.insert({
                "device": start.device, "routine": start.routine, "status": "live",
                "started_at": _iso(start.started_at), "zone": start.zone,
                "source": start.source, "sample_rate_hz": start.sample_rate_hz,
                "diameter_cm": start.diameter_cm, "height_cm": start.height_cm,
                "clock_start_s": start.clock_start_s, "override": int(start.override),
                "verdict": start.verdict, "checkpoint_at": _iso(start.started_at),
                "link_gaps": "[]",
            })
            assert table.last_pk is not None
            session_id = int(table.last_pk)
            at = _iso(start.started_at)
            self._enqueue(db, "session_started", session_id, at, start.device,
                          routine=start.routine, source=start.source)
            if start.override:
                self._enqueue(db, "schedule_override", session_id, at, start.device,
                              routine=start.routine, verdict=start.verdict)
        self._notify()
        return session_id

    def checkpoint(self, session_id: int, analysis: Analysis, raw: list[tuple[int, Array]],
                   at: datetime, status: str = "live", end_reason: str | None = None,
                   link_gaps: list[tuple[datetime, datetime | None]] | None = None,
                   alerts: Sequence[tuple[datetime, float]] = (),
                   device: str | None = None) -> None:
        """Replace the session's summary, segments and events; append raw sample blocks;
        queue the MQTT events this change causes, in the same transaction."""
        with self._writing() as db:
            for alert_at, s_cm in alerts:
                self._enqueue(db, "lumbar_contact_alert", session_id, _iso(alert_at), device,
                              s_cm=round(s_cm, 1))
            if status != "live":
                self._enqueue(db, "session_ended", session_id, _iso(at), device,
                              end_reason=end_reason, summary=_summary(analysis))
            self._write_analysis(db, session_id, analysis)
            db.table("raw_blocks").insert_all(
                {"session_id": session_id, "seq": seq, "t0_s": float(block[0, 0]),
                 "samples": len(block), "data": _pack(block)}
                for seq, block in raw
            )
            update: dict[str, Any] = {"checkpoint_at": _iso(at), "status": status}
            if link_gaps is not None:
                update["link_gaps"] = json.dumps(
                    [[_iso(a), _iso(b) if b else None] for a, b in link_gaps])
            if status != "live":
                update["ended_at"] = _iso(at)
                update["end_reason"] = end_reason
            db.table("sessions").update(session_id, update)
        if alerts or status != "live":
            self._notify()

    # -- the MQTT outbox -------------------------------------------------------------------

    def _enqueue(self, db: sqlite_utils.Database, event_type: str, session_id: int | None,
                 occurred_at: str, device: str | None, **details: Any) -> None:
        payload = event_payload(event_type, session_id, occurred_at, **details)
        db.table("outbox").insert({
            "created_at": _iso(datetime.now(UTC)), "kind": event_type,
            "session_id": session_id,
            "payload": json.dumps({**payload, "device": device}),
        })

    def _notify(self) -> None:
        if self.on_outbox is not None:
            self.on_outbox()

    def record_refusal(self, routine: str, verdict: str, next_allowed: str, at: datetime,
                       device: str | None = None) -> None:
        """A glute session the schedule refused: nothing is stored but the event."""
        with self._writing() as db:
            self._enqueue(db, "schedule_refused", None, _iso(at), device, routine=routine,
                          verdict=verdict, next_allowed=next_allowed)
        self._notify()

    def remember_discovery(self, device: str, topics: list[str]) -> None:
        with self._writing() as db:
            db.table("mqtt_discovery").upsert_all(
                [{"topic": t, "device": device, "published_at": _iso(datetime.now(UTC))}
                 for t in topics], pk="topic")

    def discovery_topics(self, device: str | None = None) -> list[str]:
        where, args = ("device = ?", [device]) if device else (None, [])
        return [r["topic"] for r in self.db.table("mqtt_discovery").rows_where(where, args)]

    def forget_discovery(self, topics: list[str]) -> None:
        with self._writing() as db:
            db.execute(f"DELETE FROM mqtt_discovery WHERE topic IN "
                       f"({', '.join('?' * len(topics))})", topics)

    def pending_events(self, limit: int = 100) -> list[dict[str, Any]]:
        """Events not yet acknowledged by the broker, oldest first."""
        return list(self.db.query(
            "SELECT id, created_at, payload FROM outbox WHERE sent_at IS NULL ORDER BY id "
            "LIMIT ?", [limit]))

    def outbox_pending(self) -> int:
        return int(self.db.execute(
            "SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0])

    def mark_sent(self, event_id: int, at: datetime) -> None:
        with self._writing() as db:
            db.execute("UPDATE outbox SET sent_at = ? WHERE id = ?", [_iso(at), event_id])

    def trim_outbox(self, max_events: int, max_age: timedelta, now: datetime) -> int:
        """Drop what is over the cap (oldest first) and sent entries; return how many unsent
        events were dropped."""
        cutoff = _iso(now - max_age)
        with self._writing() as db:
            db.execute("DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ?",
                       [cutoff])
            stale = db.execute("DELETE FROM outbox WHERE sent_at IS NULL AND created_at < ?",
                               [cutoff]).rowcount
            over = max(0, self.outbox_pending() - max_events)
            if over:
                db.execute("DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE "
                           "sent_at IS NULL ORDER BY id LIMIT ?)", [over])
        dropped = stale + over
        if dropped:
            log.warning("MQTT outbox full: dropped the %d oldest unsent events", dropped)
        return int(dropped)

    def replace_analysis(self, session_id: int, analysis: Analysis) -> None:
        with self._writing() as db:
            self._write_analysis(db, session_id, analysis)

    @staticmethod
    def _write_analysis(db: sqlite_utils.Database, session_id: int, a: Analysis) -> None:
        origin = a.start_s
        db.table("sessions").update(session_id, {
            "duration_s": a.duration_s, "active_s": a.active_s, "paused_s": a.paused_s,
            "strokes": a.strokes, "cadence_cpm": a.cadence_cpm,
            "glutes_active_s": glutes_active_s(a), "lumbar_events": len(a.lumbar_events),
            "pauses": json.dumps([[p0 - origin, p1 - origin] for p0, p1 in a.pauses]),
        })
        db.execute("DELETE FROM segments WHERE session_id = ?", [session_id])
        db.execute("DELETE FROM lumbar_events WHERE session_id = ?", [session_id])
        db.table("segments").insert_all(
            {"session_id": session_id, "region": s.region, "start_s": s.start_s - origin,
             "end_s": s.end_s - origin} for s in a.segments
        )
        db.table("lumbar_events").insert_all(
            {"session_id": session_id, "start_s": e.start_s - origin, "end_s": e.end_s - origin,
             "alert_s": e.alert_s - origin} for e in a.lumbar_events
        )

    def close_interrupted(self) -> list[int]:
        """Sessions left live by a crash: closed as interrupted with what was checkpointed."""
        ids = [row["id"] for row in self.db.query("SELECT id FROM sessions WHERE status = 'live'")]
        if ids:
            with self._writing() as db:
                db.execute(
                    "UPDATE sessions SET status = 'interrupted', end_reason = 'crash', "
                    "ended_at = checkpoint_at WHERE status = 'live'"
                )
            log.warning("closed %d session(s) left live as interrupted: %s", len(ids), ids)
        return ids

    # -- devices -------------------------------------------------------------------------

    def pair(self, address: str, name: str, at: datetime, profile: str = "roller") -> None:
        """Remember a roller as the one to use (only one is paired at a time)."""
        with self._writing() as db:
            db.execute("UPDATE devices SET paired = 0")
            self._seen(db, address, name, at, paired=1, profile=profile)

    def calibrate(self, address: str, name: str, profile: str, mounting: Mounting,
                  at: datetime) -> None:
        """Keep a sensor's calibration; its sessions use it from now on."""
        with self._writing() as db:
            self._seen(db, address, name, at, profile=profile, calibrated_at=_iso(at),
                       mounting=json.dumps(mounting.to_json()))

    @staticmethod
    def _seen(db: sqlite_utils.Database, address: str, name: str, at: datetime,
              **values: Any) -> None:
        db.table("devices").upsert({"address": address, "name": name, "last_seen": _iso(at),
                                    **values}, pk="address")
        db.execute("UPDATE devices SET first_seen = ? WHERE address = ? AND first_seen "
                   "IS NULL", [_iso(at), address])

    def device(self, address: str) -> tuple[str, Mounting | None] | None:
        """A known device's profile and calibration; None for a device never seen."""
        rows = list(self.db.query("SELECT profile, mounting FROM devices WHERE address = ?",
                                  [address]))
        if not rows:
            return None
        if not (mounting := rows[0]["mounting"]):
            return rows[0]["profile"], None
        try:
            return rows[0]["profile"], Mounting.from_json(json.loads(mounting))
        except (ValueError, KeyError, TypeError):
            raise StoreError(f"{self.path}: the calibration of {address} is damaged: run "
                             "roller calibrate again") from None

    def forget(self, address: str) -> None:
        """Unpair a roller; its sessions stay."""
        if not self.db.table("devices").count_where("address = ?", [address]):
            raise UnknownSession(f"no roller {address} is known")
        with self._writing() as db:
            db.execute("UPDATE devices SET paired = 0 WHERE address = ?", [address])

    def paired(self) -> str | None:
        row = self.db.execute("SELECT address FROM devices WHERE paired = 1").fetchone()
        return str(row[0]) if row else None

    def devices(self) -> list[dict[str, Any]]:
        return list(self.db.query(
            "SELECT d.*, count(s.id) AS sessions FROM devices d LEFT JOIN sessions s "
            "ON s.device = d.address GROUP BY d.address ORDER BY d.paired DESC, d.last_seen DESC"))

    # -- reading -------------------------------------------------------------------------

    def sessions(self, since: datetime | None = None, last: int | None = None
                 ) -> list[SessionRow]:
        """Sessions oldest first: all, those from ``since`` on, or the ``last`` few."""
        where, args = ("started_at >= ?", [_iso(since)]) if since else (None, [])
        rows = self.db.table("sessions").rows_where(
            where, args, order_by="started_at desc" if last else "started_at", limit=last)
        found = [SessionRow.from_row(r) for r in rows]
        return found[::-1] if last else found

    def count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM sessions").fetchone()[0])

    def session(self, session_id: int) -> SessionRow:
        try:
            return SessionRow.from_row(self.db.table("sessions").get(session_id))
        except sqlite_utils.db.NotFoundError:
            raise UnknownSession(f"no session {session_id} in {self.path}") from None

    def session_detail(self, session_id: int) -> tuple[list[Segment], list[LumbarEvent]]:
        self.session(session_id)
        segments = [Segment(r["region"], r["start_s"], r["end_s"]) for r in self.db.query(
            "SELECT * FROM segments WHERE session_id = ? ORDER BY start_s", [session_id])]
        events = [LumbarEvent(r["start_s"], r["end_s"], r["alert_s"]) for r in self.db.query(
            "SELECT * FROM lumbar_events WHERE session_id = ? ORDER BY start_s", [session_id])]
        return segments, events

    def recording(self, session_id: int) -> Recording | None:
        """The session's raw samples as a recording (None when fewer than two were kept):
        what re-analysis and ``export --format imu-csv`` start from."""
        self.session(session_id)
        raw = self.raw_samples(session_id)
        if len(raw) < 2:
            return None
        row = self.db.table("sessions").get(session_id)
        header = Header(row["sample_rate_hz"], row["diameter_cm"], row["height_cm"],
                        row["routine"], {"started_at": row["started_at"],
                                         "session_id": str(session_id)})
        return Recording(header, raw)

    def raw_samples(self, session_id: int) -> Array:
        """The session's stored samples, ``(n, 7)`` in recording column order."""
        blocks = [
            _unpack(r["data"], r["t0_s"]) for r in self.db.query(
                "SELECT t0_s, data FROM raw_blocks WHERE session_id = ? ORDER BY seq",
                [session_id])
        ]
        return np.concatenate(blocks) if blocks else np.empty((0, 7))


def open_store(path: Path | None = None) -> Store:
    """Open (creating and migrating as needed) the store; refuse what is not ours to change."""
    path = path or default_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(path, timeout=2.0)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: {_explain(exc)}") from None
    if version > SCHEMA_VERSION:
        conn.close()
        raise StoreError(
            f"{path}: made by a newer roller (schema {version}, this one knows {SCHEMA_VERSION});"
            " upgrade roller"
        )
    db = sqlite_utils.Database(conn)
    store = Store(db, path)
    try:
        if version < SCHEMA_VERSION:
            if version == 0 and db.table_names():
                raise StoreError(f"{path}: an SQLite file, but not a roller store")
            db.enable_wal()
            with store._writing():
                for migrate in MIGRATIONS[version:]:
                    migrate(db)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            log.info("store %s migrated from schema %d to %d", path, version, SCHEMA_VERSION)
        db.execute("PRAGMA foreign_keys = ON")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(f"{path}: {_explain(exc)}") from None
    except StoreError:
        conn.close()
        raise
    return store


def _explain(exc: sqlite3.Error) -> str:
    text = str(exc)
    if "not a database" in text:
        return "not a roller database (corrupt, or not an SQLite file)"
    if "locked" in text or "busy" in text:
        return "the database is locked by another program; close it and try again"
    if "disk is full" in text or "disk I/O" in text:
        return f"cannot write: {text}"
    return text


def _summary(a: Analysis) -> dict[str, Any]:
    return {"routine": a.routine, "duration_s": round(a.duration_s, 1),
            "active_s": round(a.active_s, 1), "paused_s": round(a.paused_s, 1),
            "strokes": a.strokes, "cadence_cpm": round(a.cadence_cpm, 1),
            "lumbar_events": len(a.lumbar_events), "glutes_active_s": round(glutes_active_s(a), 1)}


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("store times must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def _pack(block: Array) -> bytes:
    """Samples as float32 with time relative to the block's first sample, compressed."""
    relative = block.copy()
    relative[:, 0] -= block[0, 0]
    return zlib.compress(relative.astype("<f4").tobytes(), 6)


def _unpack(data: bytes, t0_s: float) -> Array:
    block = np.frombuffer(zlib.decompress(data), dtype="<f4").reshape(-1, 7).astype(np.float64)
    block[:, 0] += t0_s
    return block
