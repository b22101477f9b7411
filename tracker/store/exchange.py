"""Sessions between stores: a finished session as a ``roller-session/1`` record (what a
gateway publishes), and a record taken into a store (what ``roller ingest`` does), once.

A record is taken all of it or nothing, in one transaction with the records that arrived
with it (one sync for many), and only if its ``uid`` is not stored yet: a redelivered
message, a gateway's replay or a second ingest change nothing.
Its person is matched by ``uid``; a new person whose name is taken here by someone else is
named after their gateway too (``me (gym-2)``), never merged with a stranger.
"""

from __future__ import annotations

import base64
import binascii
import json
import sqlite3
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from tracker.core.formats.roller_session import (
    DETAIL,
    SUMMARY,
    PersonRecord,
    RecordError,
    SessionRecord,
)
from tracker.core.people import name_key
from tracker.store.codec import unpack
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
_INSERT_RAW: Final = _insert("raw_blocks", ("session_id", "seq", "t0_s", "samples", "data"))
_INSERT_PERSON: Final = _insert("people", ("uid", "name", "name_key", "height_cm", "zone",
                                           "rules", "is_default"))


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


def check(rec: SessionRecord) -> Checked:
    """``rec`` with its raw blocks decoded; :class:`RecordError` if one does not unpack.
    Apart from :func:`take_all` so that a bad record is refused alone, never failing the
    transaction of the records taken with it."""
    blocks = []
    for seq, t0_s, samples, text in rec.raw or []:
        try:
            data = base64.b64decode(text, validate=True)
            unpack(data, float(t0_s), int(samples))
        except (binascii.Error, zlib.error, ValueError):
            raise RecordError(f"raw block {seq} does not unpack") from None
        blocks.append((int(seq), float(t0_s), int(samples), data))
    return Checked(rec, blocks)


def take(store: Store, rec: SessionRecord) -> int | None:
    """Store ``rec`` unless its session is stored already; its id here, or None."""
    return take_all(store, [check(rec)])[0]


def take_all(store: Store, records: Sequence[Checked]) -> list[int | None]:
    """Store each of ``records`` whose session is not stored yet, all in one transaction
    (one sync for them all: what lets an ingest keep up with a broker); each one's id here,
    or None. A record repeated among them is taken once."""
    if not records:
        return []
    taken: list[int | None] = []
    with store.writing() as db:  # one transaction: all of them or nothing
        conn = db.conn
        for checked in records:
            rec = checked.record
            if conn.execute("SELECT 1 FROM sessions WHERE uid = ?", [rec.uid]).fetchone():
                taken.append(None)
            else:
                taken.append(_take(conn, checked, _person(conn, rec.person, rec.gateway)))
    return taken


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
    """The person here with ``person``'s uid, made if new."""
    found = conn.execute("SELECT id FROM people WHERE uid = ?", [person.uid]).fetchone()
    if found:
        return int(found[0])
    name = next(n for n in (person.name, f"{person.name} ({gateway})",
                            f"{person.name} ({gateway} {person.uid})")
                if not conn.execute("SELECT 1 FROM people WHERE name_key = ?",
                                    [name_key(n)]).fetchone())
    cursor = conn.execute(_INSERT_PERSON, [person.uid, name, name_key(name), person.height_cm,
                                           person.zone, json.dumps(person.rules), 0])
    assert cursor.lastrowid is not None
    return cursor.lastrowid
