"""The session lifecycle's writes: a session started, checkpointed, overridden, ended or
imported whole; sessions left live by a process that died closed as interrupted; sessions
and people removed for good.

One half of :class:`~tracker.store.database.Store` (the other is :mod:`~tracker.store.reads`),
apart because these are the store's transactions: each is one short transaction that waits
for other writers (:meth:`~tracker.store.database.Store.writing`) and queues, in the same
transaction, the MQTT events the change causes (:mod:`tracker.store.outbox`). A live session
is owned by the process recording it (:mod:`tracker.store.owner`); only a session whose owner
is gone is closed as interrupted, and only one nobody records may be deleted. Raw samples are
kept so any session can be re-analysed or exported.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracker.core.events import Moment, summary
from tracker.core.formats.parts import format_parts
from tracker.core.formats.roller_analysis import Analysis
from tracker.core.schedule import glutes_active_s
from tracker.store.codec import iso, pack, pack_track
from tracker.store.connection import Connection
from tracker.store.errors import WAIT_S, StoreError, UnknownSession
from tracker.store.outbox import Outbox
from tracker.store.owner import Owners
from tracker.store.people import People
from tracker.store.rows import SessionStart

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import sqlite_utils

    Array = npt.NDArray[np.float64]

log = logging.getLogger(__name__)
#: A session's own rows besides its raw samples, rewritten with each analysis.
DETAIL_TABLES = (
    "segments", "lumbar_events", "caution_events", "parts", "lifts", "tracks")


class Writes:
    """The session lifecycle; :class:`~tracker.store.database.Store` sets what is declared
    here, and gives the two methods it names for type checkers."""

    db: Connection
    path: Path
    read_only: bool
    outbox: Outbox
    people: People
    owners: Owners
    _owned: dict[int, str]  # this process's live sessions: id -> owner

    if TYPE_CHECKING:
        def writing(self, wait_s: float = WAIT_S) -> AbstractContextManager[
                sqlite_utils.Database]: ...  # the Store's

        def _row(self, session_id: int) -> dict[str, Any]: ...  # the reads'

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
        track = packed_track(analysis)
        with self.writing() as db:
            session_id = self._insert(db, start, "live", None, digest)
            self._checkpoint(db, session_id, analysis, raw, end, "complete", end_reason, None,
                             moments, start.device, track)
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
        track = packed_track(analysis) if status != "live" else None
        with self.writing(wait_s) as db:
            self._checkpoint(db, session_id, analysis, raw, at, status, end_reason, link_gaps,
                             moments, device, track)
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
                    moments: Sequence[Moment], device: str | None,
                    track: tuple[int, bytes] | None) -> None:
        for m in moments:
            self.outbox.enqueue(db, m.event_type, session_id, iso(m.at), device, **m.details())
        if status != "live":
            self.outbox.enqueue(db, "session_ended", session_id, iso(at), device,
                                end_reason=end_reason, summary=summary(analysis))
            self.outbox.enqueue_record(db, session_id, iso(at), device)
        self._write_analysis(db, session_id, analysis, track)
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
        """A re-analysis; its track too, unless the session is live (another process still
        records it: its end writes the track)."""
        track = packed_track(analysis)
        with self.writing() as db:
            live = db.execute("SELECT status = 'live' FROM sessions WHERE id = ?",
                              [session_id]).fetchone()
            self._write_analysis(db, session_id, analysis,
                                 None if live is None or live[0] else track)

    @staticmethod
    def _write_analysis(db: sqlite_utils.Database, session_id: int, a: Analysis,
                        track: tuple[int, bytes] | None) -> None:
        """The summary and the timeline; and an ended session's ``track``
        (:func:`packed_track`)."""
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
        if track is not None:
            db.execute("INSERT INTO tracks (session_id, points, data) VALUES (?, ?, ?)",
                       [session_id, *track])
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
             "end_s": p.end_s - origin, "strokes": p.strokes, "end_for_end": int(p.end_for_end),
             "orientation_unsure": int(p.orientation_unsure)} for i, p in enumerate(a.areas)
        )
        db.table("lifts").insert_all(
            {"session_id": session_id, "start_s": l0 - origin, "end_s": l1 - origin}
            for l0, l1 in a.lifts
        )

    def close_interrupted(self) -> list[int]:
        """Sessions left live by a process that has ended: closed as interrupted with what
        was checkpointed. A session whose owner is still recording is left alone.

        Each ends as any other does, in the same transaction: ``session_ended`` (reason
        ``crash``, the summary its last checkpoint wrote) and, with records on, the whole
        session for a central store. Home Assistant would otherwise never hear it ended, and
        an ingest would miss exactly the session a crash cut short."""
        if self.read_only:
            return []
        live = self.db.execute("SELECT id, owner FROM sessions WHERE status = 'live'").fetchall()
        ids = [session_id for session_id, owner in live if self.owners.gone(owner)]
        if ids:
            with self.writing() as db:
                for session_id in ids:
                    closed = db.execute(
                        "UPDATE sessions SET status = 'interrupted', end_reason = 'crash', "
                        "ended_at = checkpoint_at WHERE id = ? AND status = 'live'",
                        [session_id]).rowcount
                    if closed:
                        self._said_ended(db, session_id)
            log.warning("closed %d session(s) left live as interrupted: %s", len(ids), ids)
            self.outbox.ring()
        return ids

    def _said_ended(self, db: sqlite_utils.Database, session_id: int) -> None:
        """``session_ended`` and the record of a session closed from what the store holds
        (no analysis in memory: the summary is its row's)."""
        row = db.table("sessions").get(session_id)
        said = {key: round(row[key] or 0.0, 1) if key.endswith(("_s", "_cpm")) else row[key]
                for key in ("routine", "duration_s", "active_s", "paused_s", "strokes",
                            "cadence_cpm", "lumbar_events", "caution_events",
                            "glutes_active_s")}  # as events.summary says them
        at = row["ended_at"] or row["started_at"]
        self.outbox.enqueue(db, "session_ended", session_id, at, row["device"],
                            end_reason=row["end_reason"], summary=said)
        self.outbox.enqueue_record(db, session_id, at, row["device"])

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
        for table in (*DETAIL_TABLES, "raw_blocks", "comfort"):
            db.execute(f"DELETE FROM {table} WHERE session_id = ?", [session_id])
        db.execute("DELETE FROM outbox WHERE session_id = ? AND sent_at IS NULL", [session_id])
        db.execute("DELETE FROM sessions WHERE id = ?", [session_id])


def packed_track(a: Analysis) -> tuple[int, bytes] | None:
    """An ended session's track as the ``tracks`` table keeps it (points, blob), packed before
    the transaction (an hour's takes milliseconds, kept off the write lock). None when it
    has no points, or is not whole (a point without its uncertainty): that session's show
    analyses its samples, as one stored before tracks were kept; its end is stored as ever."""
    if not a.track_t_s:
        return None
    try:
        return len(a.track_t_s), pack_track([t - a.start_s for t in a.track_t_s],
                                            a.track_s_cm, a.track_s_sd_cm)
    except ValueError as exc:
        log.warning("session track not kept (%s): its show analyses its samples again", exc)
        return None
