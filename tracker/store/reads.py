"""The store's reads of sessions: the lists every command and screen shows, one session and
its timeline, program and raw samples, and the check of every session in the file.

One half of :class:`~tracker.store.database.Store` (the other is
:mod:`~tracker.store.writes`), apart because reading is what most commands do and shares
nothing with the lifecycle's transactions: a read never waits for a writer (WAL), and a
session whose values cannot be read back is skipped and named (:attr:`Reads.damaged`) or
fails alone, in one line, never the whole list. :meth:`Reads.weeks` is the one read of "a
person's weeks": bounded by how far back the schedule's rules look, so a verdict or a
picture costs the same with ten years of history as with ten days.
"""

from __future__ import annotations

import contextlib
import json
import math
import sqlite3
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracker.core import schedule
from tracker.core.body import Body
from tracker.core.formats.parts import parse_parts
from tracker.core.formats.roller_analysis import (
    Analysis,
    CautionEvent,
    LumbarEvent,
    Part,
    Segment,
    listed_parts,
)
from tracker.core.limits import quote
from tracker.store.codec import STARTED, iso, local_day, unpack, unpack_track
from tracker.store.connection import Connection
from tracker.store.errors import DamagedSession, StoreError, UnknownSession, explain
from tracker.store.rows import Detail, SessionRow

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from tracker.core.formats.roller_imu import Recording
    from tracker.core.program_run import StepOutcome

    Array = npt.NDArray[np.float64]


class Reads:
    """The session reads; :class:`~tracker.store.database.Store` sets what is declared here."""

    db: Connection
    path: Path
    #: Sessions the last read skipped because they are damaged: id -> what is damaged.
    damaged: dict[int, str]

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
        try:
            rows = list(self.db.query(
                f"SELECT * FROM sessions{f' WHERE {where}' if where else ''} "
                f"ORDER BY started_at{' DESC' if last else ''}"
                f"{' LIMIT ?' if last is not None else ''}",
                [*args, *([last] if last is not None else [])]))
        except sqlite3.DatabaseError as exc:
            if "malformed" not in str(exc):
                raise StoreError(f"{self.path}: {explain(exc)}") from None
            rows = self._salvaged(where, args, last)
        for row in rows:
            try:
                found.append(self._session_row(row))
            except DamagedSession as exc:
                self.damaged[exc.session_id] = exc.what
        return found[::-1] if last else found

    def _salvaged(self, where: str | None, args: list[Any],
                  last: int | None) -> list[dict[str, Any]]:
        """The sessions that can still be read from a file whose pages are damaged: every id
        any path still reaches (the table up to its damage, each index), each row read alone,
        so a destroyed page loses the sessions on it, named in :attr:`damaged`, and no
        others."""
        rows = []
        for session_id in rowids(self.db.conn, "sessions"):
            try:
                found = list(self.db.query(
                    f"SELECT * FROM sessions NOT INDEXED WHERE id = ?"
                    f"{f' AND ({where})' if where else ''}", [session_id, *args]))
            except sqlite3.DatabaseError:
                self.damaged[session_id] = "its pages in the database file are damaged"
                continue
            rows.extend(found)
        rows.sort(key=lambda r: str(r.get("started_at")), reverse=bool(last))
        return rows[:last] if last else rows

    def weeks(self, person: int | None, now: datetime, zone: str, rules: schedule.Rules,
              weeks: int) -> list[SessionRow]:
        """``person``'s sessions (everyone's for None), oldest first, that the last ``weeks``
        weeks at ``now`` in ``zone`` depend on under ``rules``: the week's verdict, its next
        glute day, its pictures. Read from :func:`~tracker.core.schedule.since` on, through
        the index on ``sessions (person_id, started_at)`` (``started_at`` for everyone's),
        never the years before. Sessions after ``now`` are included: the caller that asks
        about a moment in the past leaves them out."""
        return self.sessions(since=schedule.since(now, zone, rules, weeks), person=person)

    def first_day(self, person: int) -> date | None:
        """The local day of ``person``'s first session (None: none yet), where their weeks
        begin to count: in that session's own zone, as the weeks place every session."""
        found = self.db.execute(f"SELECT started_at, zone FROM sessions WHERE person_id = ? "
                                f"AND {STARTED} IS NOT NULL ORDER BY {STARTED} LIMIT 1",
                                [person]).fetchone()
        return None if found is None else local_day(*found)

    def count(self) -> int:
        """How many sessions the file holds (those some path still reaches, when its pages
        are damaged)."""
        try:
            return int(self.db.execute("SELECT count(*) FROM sessions").fetchone()[0])
        except sqlite3.DatabaseError as exc:
            if "malformed" not in str(exc):
                raise StoreError(f"{self.path}: {explain(exc)}") from None
        return len(rowids(self.db.conn, "sessions"))

    def session(self, session_id: int) -> SessionRow:
        return self._session_row(self._row(session_id))

    def _row(self, session_id: int) -> dict[str, Any]:
        if not 0 < session_id < 2**63:
            raise UnknownSession(f"no session {session_id} in {self.path}")
        with self._reading(session_id):
            rows = list(self.db.query("SELECT * FROM sessions WHERE id = ?", [session_id]))
        if not rows:
            raise UnknownSession(f"no session {session_id} in {self.path}")
        return rows[0]

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

    def analysis(self, session_id: int, detail: Detail) -> tuple[Analysis, Body] | None:
        """The session's analysis as it was stored when it ended, its track with it, and the
        body it was analysed for: what ``roller session show`` draws, without the samples,
        numpy or the estimator. ``detail`` is its timeline, as the caller read it. None when
        no track was stored: a session still live, one stored before schema 17 (``roller
        reanalyze`` stores it), closed as interrupted, or brought in by an ingest."""
        row = self._row(session_id)
        with self._reading(session_id):
            track = self.db.execute("SELECT points, data FROM tracks WHERE session_id = ?",
                                    [session_id]).fetchone()
        if track is None:
            return None
        try:
            t_s, s_cm, s_sd_cm = unpack_track(track[1], int(track[0]))
        except (TypeError, ValueError, OverflowError, zlib.error) as exc:
            raise DamagedSession(session_id, f"its track: {exc}") from None
        try:
            switches = parse_parts(row.get("switches") or "")
            body = Body(float(row["height_cm"]))
        except (TypeError, ValueError) as exc:
            raise DamagedSession(session_id, f"its parts or height: {exc}") from None
        # The store keeps every session's parts, a whole one's too.
        analysis = replace(detail.analysis(self._session_row(row)),
                           parts=listed_parts(detail.parts, detail.lifts),
                           pauses=_pauses(session_id, row.get("pauses")), track_t_s=t_s,
                           track_s_cm=s_cm, track_s_sd_cm=s_sd_cm, switches=switches)
        return analysis, body

    def program(self, session_id: int) -> tuple[str, list[StepOutcome]] | None:
        """The program the session followed (its title) and how far it got, if it followed
        one."""
        text = self._row(session_id).get("program")
        if not text:
            return None
        from tracker.core.program_run import read_outcomes  # the programs: for this read only

        try:
            return read_outcomes(json.loads(text))
        except ValueError as exc:
            raise DamagedSession(session_id, f"its program: {exc}") from None

    def recording(self, session_id: int) -> Recording | None:
        """The session's raw samples as a recording (None when fewer than two were kept):
        what re-analysis and ``export --format imu-csv`` start from. Samples are numpy
        arrays, imported by the reads of samples alone: the lists and one session's summary,
        what ``history``, ``schedule`` and ``session show`` read, do without numpy."""
        import numpy as np

        from tracker.core.formats.roller_imu import Header, Recording

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
        import numpy as np  # as the recording's (above)

        blocks = []
        with self._reading(session_id):
            rows = list(self.db.query(
                "SELECT seq, t0_s, samples, data FROM raw_blocks WHERE session_id = ? "
                "ORDER BY seq", [session_id]))
        for r in rows:
            try:
                blocks.append(unpack(r["data"], float(r["t0_s"]), int(r["samples"])))
            except (zlib.error, ValueError, TypeError, OverflowError) as exc:
                raise DamagedSession(session_id, f"raw block {r['seq']}: {exc}") from None
        return np.concatenate(blocks) if blocks else np.empty((0, 7))

    def imported_as(self, digest: str) -> int | None:
        """The session a file with this fingerprint was imported as, if it was."""
        row = self.db.execute("SELECT id FROM sessions WHERE digest = ?", [digest]).fetchone()
        return int(row[0]) if row else None

    def check(self) -> tuple[int, dict[int, str]]:
        """How many sessions the file holds, and every one whose values cannot be read back
        in full (its row, its detail, its track, its raw samples), with what is damaged. The
        ids come from every path that still reaches them, so a destroyed page of the table
        still names the sessions it held when an index knows them."""
        damaged: dict[int, str] = {}
        ids = rowids(self.db.conn, "sessions")
        for session_id in ids:
            try:
                self.analysis(session_id, self.session_detail(session_id))
                self.recording(session_id)
            except DamagedSession as exc:
                damaged[session_id] = exc.what
            except StoreError as exc:
                damaged[session_id] = str(exc).removeprefix(f"{self.path}: ")
        return len(ids), damaged

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
    return Part(str(row["routine"]), asked_s, start_s, end_s, int(row["strokes"] or 0),
                bool(row.get("end_for_end")), bool(row.get("orientation_unsure")))


def _pauses(session_id: int, text: str | None) -> list[tuple[float, float]]:
    """The stored pauses (a JSON list of [start, end] in session time): finite and in order
    within each, or the session is damaged."""
    try:
        pairs = json.loads(text or "[]")
        pauses = [(float(a), float(b)) for a, b in pairs]
    except (TypeError, ValueError) as exc:
        raise DamagedSession(session_id, f"its pauses: {exc}") from None
    if not all(math.isfinite(a) and math.isfinite(b) and a <= b for a, b in pauses):
        raise DamagedSession(session_id, "a pause is not a finite span")
    return pauses


def _times(session_id: int, what: str, row: dict[str, Any], *names: str) -> list[float]:
    """A stored row's times, which must be finite numbers."""
    values = []
    for name in names:
        value = row[name]
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise DamagedSession(session_id, f"a {what}'s {name} is {quote(value)}")
        values.append(float(value))
    return values


def rowids(conn: sqlite3.Connection, table: str) -> list[int]:
    """Every rowid of ``table`` that some path can still reach: the table read forwards and
    backwards up to its damage, and each of its indexes (which hold the rowids of rows whose
    own pages are gone, so those are counted as lost, not forgotten)."""
    found: set[int] = set()
    reads = [f'SELECT rowid FROM "{table}" NOT INDEXED ORDER BY rowid',
             f'SELECT rowid FROM "{table}" NOT INDEXED ORDER BY rowid DESC']
    with contextlib.suppress(sqlite3.DatabaseError):
        reads += [f'SELECT rowid FROM "{table}" INDEXED BY "{r[1]}"'
                  for r in conn.execute(f'PRAGMA index_list("{table}")')]
    for sql in reads:
        found.update(_until_damage(conn, sql))
    return sorted(found)


def _until_damage(conn: sqlite3.Connection, sql: str) -> Iterator[int]:
    with contextlib.suppress(sqlite3.DatabaseError):
        for (rowid,) in conn.execute(sql):
            yield int(rowid)
