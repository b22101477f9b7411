"""The store: one SQLite connection, and the parts of the store hung on it.

:class:`Store` is the session reads (:mod:`~tracker.store.reads`) and the session lifecycle's
writes (:mod:`~tracker.store.writes`), composed as two halves so that the many callers of
``store.sessions(...)`` and ``store.start_session(...)`` ask the store itself; the other
tables are objects reached through it: ``store.people``, ``store.prescriptions``, ``store.comfort``,
``store.devices``, ``store.outbox``. Every part writes through :meth:`Store.writing`, the
one way into a write transaction, which a store opened read-only refuses. Opening the file is
:mod:`~tracker.store.opening`'s.

Times are UTC ISO-8601 with offset; each session keeps the IANA zone it was rolled in (for
its local day). Sessions are health data: the file and its directory are readable by their
owner only.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from tracker.store.comfort import Comforts
from tracker.store.connection import Connection
from tracker.store.devices import Devices
from tracker.store.errors import WAIT_S, StoreError, atomic
from tracker.store.outbox import Outbox
from tracker.store.owner import Owners
from tracker.store.people import People
from tracker.store.prescriptions import Prescriptions
from tracker.store.reads import Reads
from tracker.store.writes import Writes

if TYPE_CHECKING:
    import sqlite_utils


class Store(Reads, Writes):
    """The roller's SQLite store. Use :func:`~tracker.store.opening.open_store`."""

    def __init__(self, db: Connection, path: Path, read_only: bool = False) -> None:
        self.db, self.path, self.read_only = db, path, read_only
        self.outbox = Outbox(db, path)
        self.people = People(db, self.writing)
        self.prescriptions = Prescriptions(db, self.writing)
        self.comfort = Comforts(db, self.writing, self.outbox)
        self.devices = Devices(db, path, self.writing)
        self.owners = Owners(path.resolve())  # one lock folder, by any path to the file
        self._owned = {}
        self.damaged = {}

    def close(self) -> None:
        self.owners.release_all()
        self._owned.clear()
        self.db.close()

    def writing(self, wait_s: float = WAIT_S) -> AbstractContextManager[sqlite_utils.Database]:
        if self.read_only:
            raise StoreError(f"{self.path}: cannot write: the database is read-only")
        return atomic(self.db.database, self.path, wait_s)
