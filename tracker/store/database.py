"""Sessions and devices in the store: the session lifecycle's writes, and the reads every
command and screen makes.

Every write is one short transaction that waits for other writers (:func:`atomic`), and
queues in the same transaction the MQTT events the change causes (:mod:`tracker.store.outbox`).
A live session is owned by the process recording it (:mod:`tracker.store.owner`); only a
session whose owner is gone is closed as interrupted. Times are UTC ISO-8601 with offset;
each session keeps the IANA zone it was rolled in (for its local day). Raw samples are kept so
any session can be re-analysed or exported. Sessions are health data: the file and its
directory are created readable by their owner only.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import uuid
import zlib
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import platformdirs
import sqlite_utils

from tracker.core.calibration import Mounting
from tracker.core.events import Moment, summary
from tracker.core.formats.roller_analysis import Analysis, CautionEvent, LumbarEvent, Part, Segment
from tracker.core.formats.roller_imu import Header, Recording, format_parts, parse_parts
from tracker.core.limits import quote
from tracker.core.program_run import StepOutcome, read_outcomes
from tracker.core.schedule import glutes_active_s
from tracker.core.status import Identity
from tracker.store.codec import iso, pack, unpack
from tracker.store.errors import (
    WAIT_S,
    DamagedSession,
    StoreError,
    UnknownSession,
    atomic,
    explain,
)
from tracker.store.outbox import Outbox
from tracker.store.owner import Owners
from tracker.store.people import People
from tracker.store.rows import Detail, SessionRow, SessionStart
from tracker.store.schema import SCHEMA_VERSION, migrate

log = logging.getLogger(__name__)
#: A session's own rows besides its raw samples, rewritten with each analysis.
DETAIL_TABLES = ("segments", "lumbar_events", "caution_events", "parts", "lifts")
Array = npt.NDArray[np.float64]


def default_path() -> Path:
    return platformdirs.user_data_path("roller") / "roller.db"


class Store:
    """The roller's SQLite store. Use :func:`open_store`."""

    def __init__(self, db: sqlite_utils.Database, path: Path, read_only: bool = False) -> None:
        self.db, self.path, self.read_only = db, path, read_only
        self.outbox = Outbox(db, path)
        self.people = People(db, self.writing)
        self.owners = Owners(path.resolve())  # one lock folder, by any path to the file
        self._owned: dict[int, str] = {}  # this process's live sessions: id -> owner
        #: Sessions the last read skipped because they are damaged: id -> what is damaged.
        self.damaged: dict[int, str] = {}

    def close(self) -> None:
        self.owners.release_all()
        self._owned.clear()
        self.db.close()

    def writing(self, wait_s: float = WAIT_S) -> AbstractContextManager[sqlite_utils.Database]:
        if self.read_only:
            raise StoreError(f"{self.path}: cannot write: the database is read-only")
        return atomic(self.db, self.path, wait_s)

    # -- the session lifecycle -------------------------------------------------------------

    def start_session(self, start: SessionStart, wait_s: float = WAIT_S) -> int:
        """A live session, owned by this process until it ends or the process does."""
        owner = self._claim()
        try:
            with self.writing(wait_s) as db:
                session_id = self._insert(db, start, "live", owner)
        except BaseException:
            self.owners.release(owner)
            raise
        self._owned[session_id] = owner
        self.outbox.ring()
        return session_id

    def store_session(self, start: SessionStart, analysis: Analysis,
                      raw: list[tuple[int, Array]], moments: Sequence[Moment],
                      end_reason: str, digest: str | None = None) -> int:
        """A whole finished session (an import) in one transaction: all of it, or nothing."""
        end = start.started_at + timedelta(seconds=analysis.duration_s)
        with self.writing() as db:
            session_id = self._insert(db, start, "live", None, digest)
            self._checkpoint(db, session_id, analysis, raw, end, "complete", end_reason, None,
                             moments, start.device)
        self.outbox.ring()
        return session_id

    def _claim(self) -> str:
        try:
            return self.owners.claim()
        except OSError as exc:
            raise StoreError(f"{self.owners.dir}: cannot take ownership of a session: "
                             f"{exc.strerror or exc}") from None

    def _insert(self, db: sqlite_utils.Database, start: SessionStart, status: str,
                owner: str | None, digest: str | None = None) -> int:
        if start.device:
            db.table("devices").upsert(
                {"address": start.device, "last_seen": iso(start.started_at)}, pk="address")
        table = db.table("sessions")
        table.insert({
            "device": start.device, "routine": start.routine, "status": status,
            "started_at": iso(start.started_at), "zone": start.zone,
            "source": start.source, "sample_rate_hz": start.sample_rate_hz,
            "diameter_cm": start.diameter_cm, "height_cm": start.height_cm,
            "clock_start_s": start.clock_start_s, "override": int(start.override),
            "verdict": start.verdict, "checkpoint_at": iso(start.started_at),
            "link_gaps": "[]", "owner": owner, "digest": digest, "caution_events": 0,
            "person_id": start.person_id or self.people.default(start.device).id,
            "uid": uuid.uuid4().hex,
        })
        assert table.last_pk is not None
        session_id = int(table.last_pk)
        at = iso(start.started_at)
        self.outbox.enqueue(db, "session_started", session_id, at, start.device,
                            routine=start.routine, source=start.source)
        if start.override:
            self.outbox.enqueue(db, "schedule_override", session_id, at, start.device,
                                routine=start.routine, verdict=start.verdict)
        return session_id

    def override(self, session_id: int, routine: str, verdict: str, at: datetime,
                 device: str | None = None) -> None:
        """The person rolls ``routine`` in a session under way although the schedule says
        not (``verdict``): kept on the session, and said on the roller's event topic."""
        with self.writing() as db:
            db.table("sessions").update(session_id, {"override": 1, "verdict": verdict})
            self.outbox.enqueue(db, "schedule_override", session_id, iso(at), device,
                                routine=routine, verdict=verdict)
        self.outbox.ring()

    def checkpoint(self, session_id: int, analysis: Analysis, raw: list[tuple[int, Array]],
                   at: datetime, status: str = "live", end_reason: str | None = None,
                   link_gaps: list[tuple[datetime, datetime | None]] | None = None,
                   moments: Sequence[Moment] = (),
                   device: str | None = None, wait_s: float = WAIT_S,
                   program: dict[str, Any] | None = None) -> None:
        """Replace the session's summary, segments and events (and the program it follows,
        as far as it got); append raw sample blocks; queue the MQTT events this change
        causes, in the same transaction. A session that ends is no longer owned."""
        with self.writing(wait_s) as db:
            self._checkpoint(db, session_id, analysis, raw, at, status, end_reason, link_gaps,
                             moments, device)
            if program is not None:
                db.table("sessions").update(session_id, {"program": json.dumps(program)})
        if status != "live" and session_id in self._owned:
            self.owners.release(self._owned.pop(session_id))
        if moments or status != "live":
            self.outbox.ring()

    def _checkpoint(self, db: sqlite_utils.Database, session_id: int, analysis: Analysis,
                    raw: list[tuple[int, Array]], at: datetime, status: str,
                    end_reason: str | None,
                    link_gaps: list[tuple[datetime, datetime | None]] | None,
                    moments: Sequence[Moment], device: str | None) -> None:
        for m in moments:
            self.outbox.enqueue(db, m.event_type, session_id, iso(m.at), device, **m.details())
        if status != "live":
            self.outbox.enqueue(db, "session_ended", session_id, iso(at), device,
                                end_reason=end_reason, summary=summary(analysis))
            self.outbox.enqueue_record(db, session_id, iso(at), device)
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

    def replace_analysis(self, session_id: int, analysis: Analysis) -> None:
        with self.writing() as db:
            self._write_analysis(db, session_id, analysis)

    @staticmethod
    def _write_analysis(db: sqlite_utils.Database, session_id: int, a: Analysis) -> None:
        origin = a.start_s
        db.table("sessions").update(session_id, {
            "duration_s": a.duration_s, "active_s": a.active_s, "paused_s": a.paused_s,
            "strokes": a.strokes, "cadence_cpm": a.cadence_cpm,
            "glutes_active_s": glutes_active_s(a), "lumbar_events": len(a.lumbar_events),
            "caution_events": len(a.caution_events),
            "pauses": json.dumps([[p0 - origin, p1 - origin] for p0, p1 in a.pauses]),
            "areas": ",".join(p.routine for p in a.areas),
            "switches": format_parts([replace(w, at_s=w.at_s - origin) for w in a.switches]),
        })
        for table in DETAIL_TABLES:
            db.execute(f"DELETE FROM {table} WHERE session_id = ?", [session_id])
        db.table("segments").insert_all(
            {"session_id": session_id, "region": s.region, "start_s": s.start_s - origin,
             "end_s": s.end_s - origin} for s in a.segments
        )
        db.table("lumbar_events").insert_all(
            {"session_id": session_id, "start_s": e.start_s - origin, "end_s": e.end_s - origin,
             "alert_s": e.alert_s - origin} for e in a.lumbar_events
        )
        db.table("caution_events").insert_all(
            {"session_id": session_id, "start_s": e.start_s - origin, "end_s": e.end_s - origin}
            for e in a.caution_events
        )
        db.table("parts").insert_all(
            {"session_id": session_id, "seq": i, "routine": p.routine,
             "asked_s": p.asked_s - origin, "start_s": p.start_s - origin,
             "end_s": p.end_s - origin, "strokes": p.strokes} for i, p in enumerate(a.areas)
        )
        db.table("lifts").insert_all(
            {"session_id": session_id, "start_s": l0 - origin, "end_s": l1 - origin}
            for l0, l1 in a.lifts
        )

    def close_interrupted(self) -> list[int]:
        """Sessions left live by a process that has ended: closed as interrupted with what
        was checkpointed. A session whose owner is still recording is left alone."""
        if self.read_only:
            return []
        live = self.db.execute("SELECT id, owner FROM sessions WHERE status = 'live'").fetchall()
        ids = [session_id for session_id, owner in live if self.owners.gone(owner)]
        if ids:
            with self.writing() as db:
                for session_id in ids:
                    db.execute(
                        "UPDATE sessions SET status = 'interrupted', end_reason = 'crash', "
                        "ended_at = checkpoint_at WHERE id = ? AND status = 'live'",
                        [session_id])
            log.warning("closed %d session(s) left live as interrupted: %s", len(ids), ids)
        return ids

    def adopt_orphans(self) -> int:
        """Sessions without a person (written by a roller from before people, still running
        while this one migrated the store) become the default person's: never nobody's,
        which no schedule would count."""
        if self.read_only or not self.db.execute(
                "SELECT count(*) FROM sessions WHERE person_id IS NULL").fetchone()[0]:
            return 0
        person = self.people.default()
        with self.writing() as db:
            count = db.execute("UPDATE sessions SET person_id = ? WHERE person_id IS NULL",
                               [person.id]).rowcount
        log.warning("%d session(s) without a person are %s's now", count, person.name)
        return int(count)

    def delete_session(self, session_id: int) -> None:
        """A session, its raw samples and its unsent events, gone for good."""
        self._not_recording(session_id)
        with self.writing() as db:
            self._delete(db, session_id)

    def remove_person(self, name: str, purge: bool = False) -> int:
        """Remove someone; with ``purge``, their sessions and raw samples too (how many is
        returned), else only while they have none."""
        person = self.people.named(name)
        with self.writing() as db:  # counted and checked where no session can start
            ids = self.people.session_ids(person)
            if ids and not purge:
                raise UnknownSession(f"{person.name} has {len(ids)} session(s): remove them "
                                     "too with --purge, or keep the person")
            for session_id in ids:
                self._not_recording(session_id)
                self._delete(db, session_id)
            self.people.remove(person, db)
        return len(ids)

    def _not_recording(self, session_id: int) -> None:
        row = self._row(session_id)
        if row["status"] == "live" and not self.owners.gone(row["owner"]):
            raise UnknownSession(f"session {session_id} is being recorded now: end it first")

    @staticmethod
    def _delete(db: sqlite_utils.Database, session_id: int) -> None:
        for table in (*DETAIL_TABLES, "raw_blocks"):
            db.execute(f"DELETE FROM {table} WHERE session_id = ?", [session_id])
        db.execute("DELETE FROM outbox WHERE session_id = ? AND sent_at IS NULL", [session_id])
        db.execute("DELETE FROM sessions WHERE id = ?", [session_id])

    def imported_as(self, digest: str) -> int | None:
        """The session a file with this fingerprint was imported as, if it was."""
        row = self.db.execute("SELECT id FROM sessions WHERE digest = ?", [digest]).fetchone()
        return int(row[0]) if row else None

    # -- devices -------------------------------------------------------------------------

    def pair(self, address: str, name: str, at: datetime, profile: str = "roller") -> None:
        """Pair a roller: ``roller gateway`` watches every paired one, and ``roller track``
        uses the one paired last unless told otherwise (``paired`` counts up: 0 is unpaired)."""
        with self.writing() as db:
            order = db.execute("SELECT coalesce(max(paired), 0) + 1 FROM devices").fetchone()[0]
            self._seen(db, address, name, at, paired=order, profile=profile)

    def calibrate(self, address: str, name: str, profile: str, mounting: Mounting,
                  at: datetime) -> None:
        """Keep a sensor's calibration; its sessions use it from now on."""
        with self.writing() as db:
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
        with self.writing() as db:
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
        with self.writing() as db:
            db.execute("UPDATE devices SET paired = 0 WHERE address = ?", [address])

    def paired(self) -> str | None:
        """The roller paired last: the one to use when none is named."""
        row = self.db.execute("SELECT address FROM devices WHERE paired > 0 "
                              "ORDER BY paired DESC LIMIT 1").fetchone()
        return str(row[0]) if row else None

    def paired_all(self) -> list[str]:
        """Every paired roller, in the order they were paired."""
        return [str(r[0]) for r in self.db.execute(
            "SELECT address FROM devices WHERE paired > 0 ORDER BY paired")]

    def devices(self) -> list[dict[str, Any]]:
        return list(self.db.query(
            "SELECT d.*, count(s.id) AS sessions FROM devices d LEFT JOIN sessions s "
            "ON s.device = d.address GROUP BY d.address ORDER BY d.paired DESC, d.last_seen DESC"))

    # -- reading -------------------------------------------------------------------------

    def sessions(self, since: datetime | None = None, last: int | None = None,
                 device: str | None = None, person: int | None = None,
                 origin: str | None = None) -> list[SessionRow]:
        """Sessions oldest first: all, those from ``since`` on, or the ``last`` few; of one
        ``device``, one ``person`` (an id) and one gateway (``origin``), if given. A damaged
        session is skipped and named in :attr:`damaged`."""
        clauses = [(c, v) for c, v in (("started_at >= ?", since and iso(since)),
                                       ("device = ?", device), ("person_id = ?", person),
                                       ("origin = ?", origin))
                   if v]
        where = " AND ".join(c for c, _ in clauses) or None
        args = [v for _, v in clauses]
        found = []
        self.damaged = {}
        with self._reading():
            rows = list(self.db.table("sessions").rows_where(
                where, args, order_by="started_at desc" if last else "started_at", limit=last))
        for row in rows:
            try:
                found.append(self._session_row(row))
            except DamagedSession as exc:
                self.damaged[exc.session_id] = exc.what
        return found[::-1] if last else found

    def count(self) -> int:
        with self._reading():
            return int(self.db.execute("SELECT count(*) FROM sessions").fetchone()[0])

    def session(self, session_id: int) -> SessionRow:
        return self._session_row(self._row(session_id))

    def _row(self, session_id: int) -> dict[str, Any]:
        if not 0 < session_id < 2**63:
            raise UnknownSession(f"no session {session_id} in {self.path}")
        with self._reading(session_id):
            try:
                return dict(self.db.table("sessions").get(session_id))
            except sqlite_utils.db.NotFoundError:
                raise UnknownSession(f"no session {session_id} in {self.path}") from None

    @staticmethod
    def _session_row(row: dict[str, Any]) -> SessionRow:
        try:
            return SessionRow.from_row(row)
        except (ValueError, TypeError, KeyError) as exc:
            raise DamagedSession(row.get("id", 0), str(exc)) from None

    def session_detail(self, session_id: int) -> Detail:
        self.session(session_id)

        def rows(table: str) -> Iterator[dict[str, Any]]:
            return self.db.query(f"SELECT * FROM {table} WHERE session_id = ? ORDER BY start_s",
                                 [session_id])

        with self._reading(session_id):
            return Detail(
                [Segment(r["region"], *_times(session_id, "segment", r, "start_s", "end_s"))
                 for r in rows("segments")],
                [LumbarEvent(*_times(session_id, "lumbar event", r, "start_s", "end_s",
                                     "alert_s")) for r in rows("lumbar_events")],
                [CautionEvent(*_times(session_id, "caution", r, "start_s", "end_s"))
                 for r in rows("caution_events")],
                [_part(session_id, r) for r in rows("parts")],
                [(a, b) for a, b in (_times(session_id, "lift", r, "start_s", "end_s")
                                     for r in rows("lifts"))],
            )

    def program(self, session_id: int) -> tuple[str, list[StepOutcome]] | None:
        """The program the session followed (its title) and how far it got, if it followed
        one."""
        text = self._row(session_id).get("program")
        if not text:
            return None
        try:
            return read_outcomes(json.loads(text))
        except ValueError as exc:
            raise DamagedSession(session_id, f"its program: {exc}") from None

    def recording(self, session_id: int) -> Recording | None:
        """The session's raw samples as a recording (None when fewer than two were kept):
        what re-analysis and ``export --format imu-csv`` start from."""
        row = self._row(session_id)
        raw = self.raw_samples(session_id)
        if len(raw) < 2:
            return None
        extra = {"started_at": str(row["started_at"]), "session_id": str(session_id)}
        if row.get("switches"):  # as they were asked, so a re-analysis splits it the same
            try:
                parse_parts(row["switches"])
            except ValueError as exc:
                raise DamagedSession(session_id, f"its parts: {exc}") from None
            extra["parts"] = row["switches"]
        try:
            header = Header(float(row["sample_rate_hz"]), float(row["diameter_cm"]),
                            float(row["height_cm"]), str(row["routine"]), extra)
        except (TypeError, ValueError):
            raise DamagedSession(session_id, "its rate, diameter or height is not a number") \
                from None
        if not np.isfinite(raw).all() or (np.diff(raw[:, 0]) <= 0).any():
            raise DamagedSession(session_id, "its raw samples are not finite or go back in time")
        return Recording(header, raw)

    def raw_samples(self, session_id: int) -> Array:
        """The session's stored samples, ``(n, 7)`` in recording column order."""
        blocks = []
        with self._reading(session_id):
            rows = list(self.db.query(
                "SELECT seq, t0_s, samples, data FROM raw_blocks WHERE session_id = ? "
                "ORDER BY seq", [session_id]))
        for r in rows:
            try:
                blocks.append(unpack(r["data"], float(r["t0_s"]), int(r["samples"])))
            except (zlib.error, ValueError, TypeError) as exc:
                raise DamagedSession(session_id, f"raw block {r['seq']}: {exc}") from None
        return np.concatenate(blocks) if blocks else np.empty((0, 7))

    def check(self) -> tuple[list[str], dict[int, str]]:
        """SQLite's integrity check, and every session whose values cannot be read back."""
        try:
            problems = [r[0] for r in self.db.execute("PRAGMA integrity_check").fetchall()]
        except sqlite3.DatabaseError as exc:
            problems = [explain(exc)]
        damaged: dict[int, str] = {}
        try:
            ids = [r[0] for r in self.db.execute("SELECT id FROM sessions ORDER BY id")]
        except sqlite3.DatabaseError as exc:
            return [*problems, f"the session list cannot be read: {explain(exc)}"], damaged
        for session_id in ids:
            try:
                self.session_detail(session_id)
                self.recording(session_id)
            except DamagedSession as exc:
                damaged[session_id] = exc.what
        return [p for p in problems if p != "ok"], damaged

    @contextmanager
    def _reading(self, session_id: int | None = None) -> Iterator[None]:
        """A read that meets a damaged page fails in one line, naming the session it was for."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            if session_id is not None and "malformed" in str(exc):
                raise DamagedSession(session_id, "its pages in the database file are damaged "
                                     "(roller check)") from None
            raise StoreError(f"{self.path}: {explain(exc)}") from None


def _part(session_id: int, row: dict[str, Any]) -> Part:
    asked_s, start_s, end_s = _times(session_id, "part", row, "asked_s", "start_s", "end_s")
    return Part(str(row["routine"]), asked_s, start_s, end_s, int(row["strokes"] or 0))


def _times(session_id: int, what: str, row: dict[str, Any], *names: str) -> list[float]:
    """A stored row's times, which must be finite numbers."""
    values = []
    for name in names:
        value = row[name]
        if not isinstance(value, int | float) or not np.isfinite(value):
            raise DamagedSession(session_id, f"a {what}'s {name} is {quote(value)}")
        values.append(float(value))
    return values


def open_store(path: Path | None = None) -> Store:
    """Open (creating and migrating as needed) the store; refuse what is not ours to change.
    A store that cannot be written (a read-only mount) is opened for reading only."""
    path = path or default_path()
    try:
        conn, read_only = _connect(path)
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
    try:
        if version < SCHEMA_VERSION:
            if read_only:
                raise StoreError(f"{path}: read-only, and made by an older roller: open it "
                                 "once where it can be written, to bring it up to date")
            migrate(db, path)
            _owner_only(path)
            log.info("store %s migrated from schema %d to %d", path, version, SCHEMA_VERSION)
        db.execute("PRAGMA foreign_keys = ON")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(f"{path}: {explain(exc)}") from None
    except StoreError:
        conn.close()
        raise
    return Store(db, path, read_only)


def _connect(path: Path) -> tuple[sqlite3.Connection, bool]:
    """A connection, and whether it is read-only. A new store and its directory are made
    readable by their owner only: sessions are health data."""
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    try:
        conn = sqlite3.connect(path, timeout=WAIT_S)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        if os.access(path, os.W_OK):
            return conn, False
        conn.close()
    except sqlite3.OperationalError as exc:
        if "unable to open" not in str(exc) and "readonly" not in str(exc):
            raise
    # A read-only file or mount: WAL needs a writable directory, unless SQLite is told that
    # nothing will change the file while we read it.
    for mode in ("mode=ro", "immutable=1"):
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True,
                                   timeout=WAIT_S)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn, True
        except sqlite3.OperationalError:
            continue
    raise sqlite3.OperationalError("unable to open database file")


def _owner_only(path: Path) -> None:
    """A store made by an older roller was readable by every local user; no longer."""
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(OSError):
            if file.stat().st_mode & 0o077:
                file.chmod(0o600)
