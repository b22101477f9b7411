"""What goes wrong with the store, said in one line; every write is one short transaction.

Writers take the write lock when their transaction begins (``BEGIN IMMEDIATE``), so two
programs writing one store wait for each other in SQLite's busy handler (which retries with
backoff) instead of one of them failing half-way with "database is locked".
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from tracker.core.errors import InputError, MachineError

if TYPE_CHECKING:
    import sqlite_utils

#: How long a write waits for another program's transaction before it gives up (s).
WAIT_S = 10.0


class Writing(Protocol):
    """How a part of the store (people, devices) opens a write transaction:
    ``Store.writing``, waiting ``wait_s`` at most for another program's."""

    def __call__(self, wait_s: float = WAIT_S) -> AbstractContextManager[sqlite_utils.Database]:
        ...


class StoreError(MachineError):
    """The store cannot be used; nothing in it was changed."""


class UnknownSession(StoreError, InputError):
    """A session or roller that is not in the store (the user's mistake, not the store's)."""

    exit_status = InputError.exit_status


class DamagedSession(StoreError):
    """A session whose stored values cannot be read back; the other sessions are fine."""

    def __init__(self, session_id: int, what: str) -> None:
        self.session_id, self.what = session_id, what
        super().__init__(f"session {session_id} is damaged: {what}")


@contextmanager
def atomic(db: sqlite_utils.Database, path: Path,
           wait_s: float = WAIT_S) -> Iterator[sqlite_utils.Database]:
    """One write transaction, waiting up to ``wait_s`` for other writers; an SQLite failure
    is a :class:`StoreError` and leaves the store as it was."""
    try:
        db.execute(f"PRAGMA busy_timeout = {int(wait_s * 1000)}")
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: {explain(exc)}; nothing was changed") from None
    try:
        yield db
        db.execute("COMMIT")
    except sqlite3.Error as exc:
        _rollback(db)
        raise StoreError(f"{path}: {explain(exc)}; nothing was changed") from None
    except BaseException:
        _rollback(db)
        raise


def _rollback(db: sqlite_utils.Database) -> None:
    if db.conn.in_transaction:  # the failure that brought us here is the one to report
        with contextlib.suppress(sqlite3.Error):
            db.conn.rollback()


def explain(exc: sqlite3.Error) -> str:
    text = str(exc)
    if "not a database" in text:
        return "not a roller database (corrupt, or not an SQLite file)"
    if "malformed" in text:
        return "the database file is damaged (roller check lists what is affected)"
    if "locked" in text or "busy" in text:
        return "the database stayed locked by another program; try again"
    if "readonly" in text or "read-only" in text:
        return "cannot write: the database is read-only"
    if "disk is full" in text or "disk I/O" in text:
        return f"cannot write: {text}"
    return text
