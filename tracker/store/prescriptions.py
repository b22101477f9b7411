"""The store's prescriptions: each person's, as imported, with the one that runs.

The file's text is kept as it was imported (``roller prescription show`` prints what was
prescribed, comments and all) and parsed again when read, so what runs is always what the
text says. A person has at most one prescription not ended: importing another ends it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tracker.core import clock
from tracker.core.limits import quote
from tracker.core.people import Person
from tracker.store.codec import iso
from tracker.store.connection import Connection
from tracker.store.errors import UnknownSession, Writing

if TYPE_CHECKING:
    from tracker.core.prescription import Prescription

log = logging.getLogger(__name__)


class NoPrescription(UnknownSession):
    """A person with no prescription to end or show."""


@dataclass(frozen=True)
class Stored:
    """One imported prescription. ``prescription`` is None when its text no longer parses
    (a store written by hand, or a format a newer roller changed): it is then not followed."""

    id: int
    person_id: int
    source: str
    text: str
    imported_at: datetime
    ended_at: datetime | None
    prescription: Prescription | None


def running(db: Connection, person_id: int) -> Prescription | None:
    """The person's prescription not ended, if any (whether its dates run is the reader's)."""
    rows = list(db.query("SELECT * FROM prescriptions WHERE person_id = ? AND ended_at IS "
                         "NULL", [person_id]))
    return _stored(rows[0]).prescription if rows else None


class Prescriptions:
    """The store's ``prescriptions`` table. Reached as ``Store.prescriptions``."""

    def __init__(self, db: Connection, writing: Writing) -> None:
        self.db, self._writing = db, writing

    def all(self) -> list[Stored]:
        """Everyone's, running and ended, oldest first."""
        return [_stored(r) for r in self.db.query("SELECT * FROM prescriptions ORDER BY id")]

    def current(self, person: Person) -> Stored:
        """The person's prescription not ended; :class:`NoPrescription` when there is none."""
        rows = list(self.db.query("SELECT * FROM prescriptions WHERE person_id = ? AND "
                                  "ended_at IS NULL", [person.id]))
        if not rows:
            raise NoPrescription(f"{quote(person.name)} has no prescription (roller "
                                 "prescription import FILE --person NAME)")
        return _stored(rows[0])

    def followed(self, person: Person) -> list[tuple[Prescription, datetime | None]]:
        """Each of the person's prescriptions that reads, with when it was ended (None: not
        ended): what their sessions are held against."""
        return [(s.prescription, s.ended_at) for s in self.all()
                if s.person_id == person.id and s.prescription is not None]

    def add(self, person: Person, source: str, text: str) -> tuple[Stored, Stored | None]:
        """Import ``text`` (already parsed by the caller) for ``person``, ending the one not
        ended before it: (the new one, the one it ended or None)."""
        now = iso(clock.now())
        with self._writing() as db:
            old = next(iter(db.query("SELECT * FROM prescriptions WHERE person_id = ? AND "
                                     "ended_at IS NULL", [person.id])), None)
            if old is not None:
                db.execute("UPDATE prescriptions SET ended_at = ? WHERE id = ?", [now, old["id"]])
            new_id = db.execute("INSERT INTO prescriptions (person_id, source, text, "
                                "imported_at) VALUES (?, ?, ?, ?)",
                                [person.id, source, text, now]).lastrowid
        ended = self.by_id(int(old["id"])) if old is not None else None
        return self.by_id(int(new_id or 0)), ended

    def end(self, person: Person) -> Stored:
        """End the person's prescription now; :class:`NoPrescription` when none runs."""
        current = self.current(person)
        with self._writing() as db:
            db.execute("UPDATE prescriptions SET ended_at = ? WHERE id = ?",
                       [iso(clock.now()), current.id])
        return self.by_id(current.id)

    def by_id(self, prescription_id: int) -> Stored:
        return _stored(next(self.db.query("SELECT * FROM prescriptions WHERE id = ?",
                                          [prescription_id])))


def _stored(row: dict[str, Any]) -> Stored:
    # The format (its TOML, the programs) loads with the first prescription read: a store
    # of people who have none, and the commands that open it, never need it.
    from tracker.core.prescription import PrescriptionError, parse

    try:
        prescription: Prescription | None = parse(row["text"], row["source"])
    except PrescriptionError as exc:
        log.warning("prescription %s no longer reads (%s): it is not followed", row["id"], exc)
        prescription = None
    ended = row["ended_at"]
    return Stored(int(row["id"]), int(row["person_id"]), str(row["source"]), str(row["text"]),
                  datetime.fromisoformat(row["imported_at"]),
                  datetime.fromisoformat(ended) if ended else None, prescription)
