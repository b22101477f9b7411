"""Sessions between stores: a finished session as a ``roller-session/1`` record (what a
gateway publishes), and a record taken into a store (what ``roller ingest`` does), once.

A record is taken in one transaction, all of it or nothing, and only if its ``uid`` is not
stored yet: a redelivered message, a gateway's replay or a second ingest change nothing.
Its person is matched by ``uid``; a new person whose name is taken here by someone else is
named after their gateway too (``me (gym-2)``), never merged with a stranger.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from typing import Any

import sqlite_utils

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


def take(store: Store, rec: SessionRecord) -> int | None:
    """Store ``rec`` unless its session is stored already; its id here, or None."""
    blocks = _blocks(rec)  # checked before anything is written
    with store.writing() as db:  # one transaction: all of it or nothing
        if db.execute("SELECT 1 FROM sessions WHERE uid = ?", [rec.uid]).fetchone():
            return None
        if rec.device:
            db.table("devices").upsert({"address": rec.device}, pk="address")
        table = db.table("sessions")
        table.insert({**rec.summary, "uid": rec.uid, "origin": rec.gateway, "device": rec.device,
                      "person_id": _person(db, rec.person, rec.gateway),
                      "checkpoint_at": rec.summary["ended_at"] or rec.summary["started_at"]})
        assert table.last_pk is not None
        session_id = int(table.last_pk)
        for name, columns in DETAIL.items():
            db.table(name).insert_all({"session_id": session_id, **dict(zip(columns, row,
                                                                            strict=True))}
                                      for row in rec.details[name])
        db.table("raw_blocks").insert_all({"session_id": session_id, "seq": seq, "t0_s": t0,
                                           "samples": n, "data": data}
                                          for seq, t0, n, data in blocks)
    return session_id


def _blocks(rec: SessionRecord) -> list[tuple[int, float, int, bytes]]:
    """The raw blocks, decoded and each one checked to unpack."""
    blocks = []
    for seq, t0_s, samples, text in rec.raw or []:
        try:
            data = base64.b64decode(text, validate=True)
            unpack(data, float(t0_s), int(samples))
        except (binascii.Error, zlib.error, ValueError):
            raise RecordError(f"raw block {seq} does not unpack") from None
        blocks.append((int(seq), float(t0_s), int(samples), data))
    return blocks


def _person(db: sqlite_utils.Database, person: PersonRecord, gateway: str) -> int:
    """The person here with ``person``'s uid, made if new."""
    found = db.execute("SELECT id FROM people WHERE uid = ?", [person.uid]).fetchone()
    if found:
        return int(found[0])
    name = next(n for n in (person.name, f"{person.name} ({gateway})",
                            f"{person.name} ({gateway} {person.uid})")
                if not db.execute("SELECT 1 FROM people WHERE name_key = ?",
                                  [name_key(n)]).fetchone())
    values: dict[str, Any] = {"uid": person.uid, "name": name, "name_key": name_key(name),
                              "height_cm": person.height_cm, "zone": person.zone,
                              "rules": json.dumps(person.rules), "is_default": 0}
    table = db.table("people")
    table.insert(values)
    assert table.last_pk is not None
    return int(table.last_pk)
