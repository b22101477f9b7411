"""The people in a store: add, rename, remove, and whose a session is when nobody says.

A session belongs to the person named for it (``--person``), else to its roller's person
(``roller people default NAME --roller ADDRESS``), else to the store's default person. A
store always has someone: the migration makes the first (:data:`FIRST_PERSON`), and the
last person cannot be removed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tracker.core import clock
from tracker.core.limits import quote, visible
from tracker.core.people import PERSONAL_RULES, Person, PersonError, check_name, name_key
from tracker.store.codec import iso
from tracker.store.connection import Connection
from tracker.store.errors import StoreError, UnknownSession, Writing
from tracker.store.prescriptions import running

if TYPE_CHECKING:
    import sqlite_utils

log = logging.getLogger(__name__)


class UnknownPerson(UnknownSession):
    """A name nobody in the store has."""


class People:
    """The store's ``people`` table. Reached as ``Store.people``."""

    def __init__(self, db: Connection, writing: Writing) -> None:
        self.db, self._writing = db, writing

    def all(self) -> list[Person]:
        return [self._person(r) for r in self.db.query("SELECT * FROM people ORDER BY id")]

    def origins(self) -> dict[int, str | None]:
        """Each person's gateway (None: this store's own), by id."""
        return {int(r["id"]): r["origin"] for r in self.db.query("SELECT id, origin FROM people")}

    def named(self, name: str) -> Person:
        rows = list(self.db.query("SELECT * FROM people WHERE name_key = ?",
                                  [name_key(name)]))
        if not rows:
            known = ", ".join(visible(p.name) for p in self.all())
            raise UnknownPerson(f"nobody called {quote(name)} (people: {known}; add one "
                                "with roller people add NAME)")
        return self._person(rows[0])

    def by_id(self, person_id: int) -> Person:
        rows = list(self.db.query("SELECT * FROM people WHERE id = ?", [person_id]))
        if not rows:
            raise UnknownPerson(f"no person {person_id} in the store")
        return self._person(rows[0])

    def default(self, device: str | None = None) -> Person:
        """Whose a session is when nobody is named: the roller's person, else the store's."""
        row = self.db.execute(
            "SELECT p.id FROM people p JOIN devices d ON d.person_id = p.id "
            "WHERE d.address = ?", [device]).fetchone() if device else None
        row = row or self.db.execute(
            "SELECT id FROM people ORDER BY is_default DESC, id LIMIT 1").fetchone()
        if row is None:
            raise StoreError("the store has nobody in it: add someone with roller people add")
        return self.by_id(int(row[0]))

    def resolve(self, name: str | None, device: str | None = None) -> Person:
        return self.named(name) if name else self.default(device)

    def add(self, name: str, height_cm: float | None = None, zone: str | None = None,
            rules: Mapping[str, Any] | None = None) -> Person:
        name = check_name(name)
        unknown = sorted(set(rules or {}) - set(PERSONAL_RULES))
        if unknown:
            raise PersonError(f"unknown schedule rule(s): {', '.join(unknown)}")
        import secrets  # a new person's uid: what only reads the store starts without it

        with self._writing() as db:
            self._free(db, name)
            db.execute("INSERT INTO people (uid, name, name_key, height_cm, zone, rules, "
                       "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [secrets.token_hex(4), name, name_key(name), height_cm, zone,
                        json.dumps(dict(rules or {})), iso(clock.now())])
        return self.named(name)

    def rename(self, old: str, new: str) -> Person:
        """A new name; the person's ``uid`` (and so their Home Assistant entities) stays."""
        person, new = self.named(old), check_name(new)
        with self._writing() as db:
            self._free(db, new, person.id)
            db.execute("UPDATE people SET name = ?, name_key = ? WHERE id = ?",
                       [new, name_key(new), person.id])
        return self.by_id(person.id)

    def make_default(self, name: str, device: str | None = None) -> Person:
        """The store's default person, or ``device``'s (which must be known)."""
        person = self.named(name)
        with self._writing() as db:
            if device is None:
                db.execute("UPDATE people SET is_default = (id = ?)", [person.id])
            elif not db.execute("UPDATE devices SET person_id = ? WHERE address = ?",
                                [person.id, device]).rowcount:
                raise UnknownSession(f"no roller {device} is known (roller devices lists them)")
        return person

    def session_ids(self, person: Person) -> list[int]:
        return [int(r[0]) for r in self.db.execute(
            "SELECT id FROM sessions WHERE person_id = ? ORDER BY id", [person.id])]

    def check_removable(self, person: Person, db: sqlite_utils.Database | None = None) -> None:
        """The last person cannot go: a store keeps someone."""
        if (db or self.db).execute("SELECT count(*) FROM people").fetchone()[0] <= 1:
            raise PersonError(f"{visible(person.name)} is the only person: a store keeps someone "
                              "(rename them instead)")

    def remove(self, person: Person, db: sqlite_utils.Database) -> None:
        """Delete ``person`` inside the caller's transaction, once their sessions are gone."""
        self.check_removable(person, db)
        db.execute("UPDATE devices SET person_id = NULL WHERE person_id = ?", [person.id])
        for table in ("prescriptions", "alerts_raised"):
            db.execute(f"DELETE FROM {table} WHERE person_id = ?", [person.id])
        db.execute("DELETE FROM people WHERE id = ?", [person.id])
        if not db.execute("SELECT count(*) FROM people WHERE is_default = 1").fetchone()[0]:
            db.execute("UPDATE people SET is_default = 1 WHERE id = (SELECT min(id) FROM "
                       "people)")

    def _person(self, row: dict[str, Any]) -> Person:
        return replace(_person(row), prescription=running(self.db, int(row["id"])))

    @staticmethod
    def _free(db: sqlite_utils.Database, name: str, but: int | None = None) -> None:
        """Nobody (but ``but``) has this name, in any case."""
        taken = db.execute("SELECT name FROM people WHERE name_key = ? AND id IS NOT ?",
                           [name_key(name), but]).fetchone()
        if taken:
            raise PersonError(f"{quote(taken[0])} is already someone's name")


def _person(row: dict[str, Any]) -> Person:
    """A person as stored (without their prescription: :meth:`People._person` adds it). A
    damaged zone or rules (a store written by hand, an older roller) is named, and the
    configuration's stand in for it: one person's damage must not stop everyone's commands."""
    name = str(row["name"])
    try:
        rules = json.loads(row["rules"])
    except (TypeError, ValueError):
        rules = None
    if not isinstance(rules, dict):
        log.warning("the schedule rules of %s are damaged (%s): the configured ones are used",
                    quote(name), quote(row["rules"]))
        rules = {}
    return Person(id=int(row["id"]), uid=str(row["uid"]), name=name,
                  height_cm=row["height_cm"], zone=_zone(name, row["zone"]), rules=rules)


def _zone(name: str, zone: object) -> str | None:
    """The person's zone if it is one; else None (the configured zone), said."""
    if not zone:
        return None
    try:
        ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("the time zone of %s is damaged (%s): the configured one is used",
                    quote(name), quote(zone))
        return None
    return str(zone)
