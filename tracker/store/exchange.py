"""Sessions between stores: a finished session as a ``roller-session/1`` record (what a
gateway publishes), and a record taken into a store (what ``roller ingest`` does), once.

A record is taken all of it or nothing, in one transaction with the records that arrived
with it (one sync for many), and only if its ``uid`` is not stored yet: a redelivered
message, a gateway's replay or a second ingest change nothing.
Its person is matched by ``uid`` within its gateway (the origin, which the ingest takes
from the topic the record came on): a uid known from one gateway names someone else when
another gateway sends it, never given the first one's sessions. A new person whose name is
taken here by someone else is named after their gateway too (``me (gym-2)``), never merged
with a stranger.

:func:`check` holds a record to what this store and every command reading it can use
(names, rules, the program, the raw samples inflated under a bound from their declared
size); a record it refuses goes to the ``quarantine`` table with its topic, why and its
bytes (:func:`take_all`), so a poison message is kept for a person to look at and never
blocks the intake.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import math
import secrets
import sqlite3
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, Final

import numpy as np

from tracker.core import clock
from tracker.core.formats.roller_session import (
    DETAIL,
    MAX_BLOCK_S,
    SUMMARY,
    PersonRecord,
    RecordError,
    SessionRecord,
)
from tracker.core.limits import visible
from tracker.core.people import PERSONAL_RULES, PersonError, check_name, name_key
from tracker.core.schedule import Rules
from tracker.store.codec import iso, unpack
from tracker.store.database import Store
from tracker.store.errors import UnknownSession

#: A taken session's row: the record's summary, and where and whose it is.
_SESSION_COLUMNS: Final = (*SUMMARY, "uid", "origin", "device", "person_id", "checkpoint_at")


def _insert(table: str, columns: tuple[str, ...]) -> str:
    return (f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})")


# Plain statements, prepared once by sqlite3's cache: sqlite-utils' insert() looks the table
# up anew on every call (12 of its 32 SQL calls a session), more than the writing costs.
_INSERT_SESSION: Final = _insert("sessions", _SESSION_COLUMNS)
_INSERT_DETAIL: Final = {table: _insert(table, ("session_id", *columns))
                         for table, columns in DETAIL.items()}
#: A score given again (or after the session's record first went out) replaces an older one.
_UPSERT_COMFORT: Final = (f"{_INSERT_DETAIL['comfort']} ON CONFLICT (session_id, seq) DO "
                          "UPDATE SET area = excluded.area, score = excluded.score, given_at = "
                          "excluded.given_at WHERE excluded.given_at > comfort.given_at")
_INSERT_RAW: Final = _insert("raw_blocks", ("session_id", "seq", "t0_s", "samples", "data"))
_INSERT_PERSON: Final = _insert("people", ("uid", "name", "name_key", "height_cm", "zone",
                                           "rules", "is_default", "origin", "origin_uid"))
_INSERT_QUARANTINE: Final = _insert("quarantine", ("received_at", "topic", "reason",
                                                   "payload"))
#: The quarantine is evidence, not a second store: its newest entries, each payload's
#: start. A hostile gateway that floods it costs the central store at most about 64 MiB.
QUARANTINE_KEPT: Final = 1000
QUARANTINE_PAYLOAD_BYTES: Final = 64 * 1024
#: A topic's start: a gateway id in it may be as long as the broker lets a topic be.
QUARANTINE_TOPIC_CHARS: Final = 256


def quarantined(store: Store) -> list[dict[str, Any]]:
    """What the ingest refused, oldest first: when, on which topic, why (and the bytes)."""
    return list(store.db.query("SELECT id, received_at, topic, reason, payload FROM "
                               "quarantine ORDER BY id"))


def record(store: Store, session_id: int, gateway: str, raw: bool = False) -> SessionRecord:
    """The stored session as a record, with its raw samples if ``raw``."""
    cursor = store.db.execute("SELECT * FROM sessions WHERE id = ?", [session_id])
    found = cursor.fetchone()
    if found is None:
        raise UnknownSession(f"no session {session_id} in {store.path}")
    values = dict(zip([c[0] for c in cursor.description], found, strict=True))
    person = store.people.by_id(int(values["person_id"]))
    details = {table: [list(r) for r in store.db.execute(
        f"SELECT {', '.join(names)} FROM {table} WHERE session_id = ? ORDER BY rowid",
        [session_id])] for table, names in DETAIL.items()}
    blocks = [[seq, t0, samples, base64.b64encode(data).decode()] for seq, t0, samples, data
              in store.db.execute("SELECT seq, t0_s, samples, data FROM raw_blocks WHERE "
                                  "session_id = ? ORDER BY seq", [session_id])] if raw else None
    return SessionRecord(
        uid=str(values["uid"]), gateway=values["origin"] or gateway, device=values["device"],
        person=PersonRecord(person.uid, person.name, person.height_cm, person.zone,
                            dict(person.rules)),
        summary={key: values[key] for key in SUMMARY}, details=details, raw=blocks)


@dataclass(frozen=True)
class Checked:
    """A record ready to be taken: its raw blocks decoded, each one shown to unpack."""

    record: SessionRecord
    blocks: list[tuple[int, float, int, bytes]]


@dataclass(frozen=True)
class Refused:
    """A message the ingest will not store as a session: kept in the quarantine instead."""

    topic: str
    reason: str
    payload: bytes


def check(rec: SessionRecord) -> Checked:
    """``rec`` as this store keeps it (its person's name NFC), its raw blocks decoded;
    :class:`RecordError` saying what no command could use. Apart from :func:`take_all` so
    that a bad record is refused alone, never failing the transaction of the records taken
    with it."""
    person = _checked_person(rec.person)
    _check_program(rec.summary["program"])
    rate = float(rec.summary["sample_rate_hz"])
    most = int(rate * MAX_BLOCK_S) + 1  # a block spans one checkpoint at most
    blocks = []
    last_t = -math.inf
    for seq, t0_s, samples, text in sorted(rec.raw or [], key=lambda b: int(b[0])):
        if samples > most:
            raise RecordError(f"raw block {seq} says {samples} samples, more than "
                              f"{MAX_BLOCK_S:g} s at {rate:g} Hz")
        try:
            data = base64.b64decode(text, validate=True)
            block = unpack(data, float(t0_s), int(samples))
        except (binascii.Error, zlib.error, ValueError):
            raise RecordError(f"raw block {seq} does not unpack") from None
        times = block[:, 0]
        if not np.isfinite(block).all() or times[0] <= last_t or (np.diff(times) <= 0).any():
            raise RecordError(f"raw block {seq} is not finite or goes back in time")
        last_t = float(times[-1])
        blocks.append((int(seq), float(t0_s), int(samples), data))
    if len({b[0] for b in blocks}) != len(blocks):
        raise RecordError("raw blocks repeat a seq")
    return Checked(rec if person is rec.person else dataclasses.replace(rec, person=person),
                   blocks)


def _checked_person(person: PersonRecord) -> PersonRecord:
    """A name any person here could have (printable, NFC), and rules the schedule takes."""
    try:
        name = check_name(person.name)
    except PersonError as exc:
        raise RecordError(f"person name: {exc}") from None
    unknown = sorted(set(person.rules) - set(PERSONAL_RULES))
    if unknown:
        raise RecordError(f"person rules: unknown {visible(', '.join(unknown)[:80])}")
    kinds = {f.name: f.type for f in fields(Rules)}
    for key, value in person.rules.items():
        if isinstance(value, bool) or not isinstance(
                value, int if kinds[key] == "int" else int | float) \
                or not math.isfinite(value):
            raise RecordError(f"person rules: {key} is {value!r:.40}")
    try:
        dataclasses.replace(Rules(), **person.rules)
    except (TypeError, ValueError) as exc:
        raise RecordError(f"person rules: {exc}") from None
    return person if name == person.name else dataclasses.replace(person, name=name)


def _check_program(text: str | None) -> None:
    """The program run as ``session show`` reads it, its words printable."""
    if not text:
        return
    from tracker.core.program_run import read_outcomes  # the programs: for this check only

    try:
        title, outcomes = read_outcomes(json.loads(text))
    except ValueError as exc:
        raise RecordError(f"summary program: {exc}") from None
    words = [title, *(o.title for o in outcomes), *(o.reason for o in outcomes)]
    if any(visible(w) != w or len(w) > 200 for w in words) or len(outcomes) > 1000 or \
            not all(math.isfinite(o.seconds) and 0 <= o.seconds <= 1e6 for o in outcomes):
        raise RecordError("summary program: a title, reason or time no screen can show")


def take(store: Store, rec: SessionRecord) -> int | None:
    """Store ``rec`` unless its session is stored already; its id here, or None."""
    return take_all(store, [check(rec)])[0]


def take_all(store: Store, records: Sequence[Checked],
             refused: Sequence[Refused] = ()) -> list[int | None]:
    """Store each of ``records`` whose session is not stored yet, and each of ``refused`` in
    the quarantine, all in one transaction (one sync for them all: what lets an ingest keep
    up with a broker); each record's id here, or None. A record repeated among them is
    taken once; one of a session stored already, from the gateway it came from, brings only
    the comfort scores given since (the rest of a finished session does not change)."""
    if not records and not refused:
        return []
    taken: list[int | None] = []
    with store.writing() as db:  # one transaction: all of them or nothing
        conn = db.conn
        if refused:
            _quarantine(conn, refused)
        for checked in records:
            rec = checked.record
            known = conn.execute("SELECT id, origin FROM sessions WHERE uid = ?",
                                 [rec.uid]).fetchone()
            if known:
                if known[1] == rec.gateway:  # its own gateway's: scores given since
                    conn.executemany(_UPSERT_COMFORT, [(known[0], *row)
                                                       for row in rec.details["comfort"]])
                taken.append(None)
            else:
                taken.append(_take(conn, checked, _person(conn, rec.person, rec.gateway)))
    return taken


def _quarantine(conn: sqlite3.Connection, refused: Sequence[Refused]) -> None:
    """``refused`` kept, each payload cut to :data:`QUARANTINE_PAYLOAD_BYTES` (its reason
    says so), and only the newest :data:`QUARANTINE_KEPT` entries of all."""
    now = iso(clock.now())
    conn.executemany(_INSERT_QUARANTINE, [
        (now, r.topic[:QUARANTINE_TOPIC_CHARS], r.reason if len(r.payload) <=
         QUARANTINE_PAYLOAD_BYTES else f"{r.reason} (the first {QUARANTINE_PAYLOAD_BYTES:,} "
         f"of {len(r.payload):,} bytes kept)", r.payload[:QUARANTINE_PAYLOAD_BYTES])
        for r in refused])
    conn.execute("DELETE FROM quarantine WHERE id <= (SELECT id FROM quarantine ORDER BY id "
                 "DESC LIMIT 1 OFFSET ?)", [QUARANTINE_KEPT])


def _take(conn: sqlite3.Connection, checked: Checked, person_id: int) -> int:
    """One record's rows, inside the caller's transaction; its session's id."""
    rec = checked.record
    if rec.device:
        conn.execute("INSERT INTO devices (address) VALUES (?) ON CONFLICT DO NOTHING",
                     [rec.device])
    summary = rec.summary
    cursor = conn.execute(_INSERT_SESSION, [
        *(summary[key] for key in SUMMARY), rec.uid, rec.gateway, rec.device, person_id,
        summary["ended_at"] or summary["started_at"]])
    session_id = cursor.lastrowid
    assert session_id is not None
    for name, insert in _INSERT_DETAIL.items():
        conn.executemany(insert, [(session_id, *row) for row in rec.details[name]])
    conn.executemany(_INSERT_RAW, [(session_id, *block) for block in checked.blocks])
    return session_id


def _person(conn: sqlite3.Connection, person: PersonRecord, gateway: str) -> int:
    """The person here whom ``gateway`` calls by ``person``'s uid, made if new: never
    someone another gateway (or this store) knows by that uid. A new person keeps their uid
    here unless it is taken, then has one of their own."""
    found = conn.execute("SELECT id FROM people WHERE origin = ? AND origin_uid = ?",
                         [gateway, person.uid]).fetchone()
    if found:
        return int(found[0])
    uid = person.uid
    while conn.execute("SELECT 1 FROM people WHERE uid = ?", [uid]).fetchone():
        uid = secrets.token_hex(4)
    name = next(n for n in (person.name, f"{person.name} ({gateway})",
                            f"{person.name} ({gateway} {person.uid})")
                if not conn.execute("SELECT 1 FROM people WHERE name_key = ?",
                                    [name_key(n)]).fetchone())
    cursor = conn.execute(_INSERT_PERSON, [uid, name, name_key(name), person.height_cm,
                                           person.zone, json.dumps(person.rules), 0, gateway,
                                           person.uid])
    assert cursor.lastrowid is not None
    return cursor.lastrowid
