"""Sessions and devices in the store: the session lifecycle's writes, and the reads every
command and screen makes.

Every write is one transaction, and queues in the same transaction the MQTT events the change
causes (:mod:`tracker.store.outbox`). Times are UTC ISO-8601 with offset; each session keeps
the IANA zone it was rolled in (for its local day). Raw samples are kept so any session can be
re-analysed or exported.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import platformdirs
import sqlite_utils

from tracker.analysis import Analysis, LumbarEvent, Segment
from tracker.calibration import Mounting
from tracker.events import summary
from tracker.recording import Header, Recording
from tracker.schedule import glutes_active_s
from tracker.status import Identity
from tracker.store.codec import iso, pack, unpack
from tracker.store.errors import StoreError, UnknownSession, atomic, explain
from tracker.store.outbox import Outbox
from tracker.store.rows import SessionRow, SessionStart
from tracker.store.schema import SCHEMA_VERSION, migrate

log = logging.getLogger(__name__)
Array = npt.NDArray[np.float64]


def default_path() -> Path:
    return platformdirs.user_data_path("roller") / "roller.db"


class Store:
    """The roller's SQLite store. Use :func:`open_store`."""

    def __init__(self, db: sqlite_utils.Database, path: Path) -> None:
        self.db, self.path = db, path
        self.outbox = Outbox(db, path)

    def close(self) -> None:
        self.db.close()

    def _writing(self) -> AbstractContextManager[sqlite_utils.Database]:
        return atomic(self.db, self.path)

    # -- the session lifecycle -------------------------------------------------------------

    def start_session(self, start: SessionStart) -> int:
        with self._writing() as db:
            if start.device:
                db.table("devices").upsert(
                    {"address": start.device, "last_seen": iso(start.started_at)},
                    pk="address",
                )
            table = db.table("sessions")
            table.insert({
                "device": start.device, "routine": start.routine, "status": "live",
                "started_at": iso(start.started_at), "zone": start.zone,
                "source": start.source, "sample_rate_hz": start.sample_rate_hz,
                "diameter_cm": start.diameter_cm, "height_cm": start.height_cm,
                "clock_start_s": start.clock_start_s, "override": int(start.override),
                "verdict": start.verdict, "checkpoint_at": iso(start.started_at),
                "link_gaps": "[]",
            })
            assert table.last_pk is not None
            session_id = int(table.last_pk)
            at = iso(start.started_at)
            self.outbox.enqueue(db, "session_started", session_id, at, start.device,
                          routine=start.routine, source=start.source)
            if start.override:
                self.outbox.enqueue(db, "schedule_override", session_id, at, start.device,
                              routine=start.routine, verdict=start.verdict)
        self.outbox.ring()
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
                self.outbox.enqueue(db, "lumbar_contact_alert", session_id, iso(alert_at), device,
                              s_cm=round(s_cm, 1))
            if status != "live":
                self.outbox.enqueue(db, "session_ended", session_id, iso(at), device,
                              end_reason=end_reason, summary=summary(analysis))
            self._write_analysis(db, session_id, analysis)
            db.table("raw_blocks").insert_all(
                {"session_id": session_id, "seq": seq, "t0_s": float(block[0, 0]),
                 "samples": len(block), "data": pack(block)}
                for seq, block in raw
            )
            update: dict[str, Any] = {"checkpoint_at": iso(at), "status": status}
            if link_gaps is not None:
                update["link_gaps"] = json.dumps(
                    [[iso(a), iso(b) if b else None] for a, b in link_gaps])
            if status != "live":
                update["ended_at"] = iso(at)
                update["end_reason"] = end_reason
            db.table("sessions").update(session_id, update)
        if alerts or status != "live":
            self.outbox.ring()

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
            self._seen(db, address, name, at, profile=profile, calibrated_at=iso(at),
                       mounting=json.dumps(mounting.to_json()))

    @staticmethod
    def _seen(db: sqlite_utils.Database, address: str, name: str, at: datetime,
              **values: Any) -> None:
        db.table("devices").upsert({"address": address, "name": name, "last_seen": iso(at),
                                    **values}, pk="address")
        db.execute("UPDATE devices SET first_seen = ? WHERE address = ? AND first_seen "
                   "IS NULL", [iso(at), address])

    def remember_identity(self, identity: Identity, at: datetime) -> None:
        """What a device said of itself when it connected."""
        with self._writing() as db:
            self._seen(db, identity.address, identity.name, at,
                       manufacturer=identity.manufacturer, model=identity.model,
                       firmware=identity.firmware)

    def identity(self, address: str) -> Identity | None:
        """What is remembered of who a device is (blank what is not); None if never seen."""
        rows = list(self.db.query("SELECT name, manufacturer, model, firmware FROM devices "
                                  "WHERE address = ?", [address]))
        if not rows:
            return None
        return Identity(address, **{k: v or "" for k, v in rows[0].items()})

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
        where, args = ("started_at >= ?", [iso(since)]) if since else (None, [])
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
            unpack(r["data"], r["t0_s"]) for r in self.db.query(
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
        raise StoreError(f"{path}: {explain(exc)}") from None
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
            migrate(db, version)
            log.info("store %s migrated from schema %d to %d", path, version, SCHEMA_VERSION)
        db.execute("PRAGMA foreign_keys = ON")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(f"{path}: {explain(exc)}") from None
    except StoreError:
        conn.close()
        raise
    return store
