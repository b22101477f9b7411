"""What goes wrong with the store, said in one line; every write is one transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils


class StoreError(RuntimeError):
    """The store cannot be used; nothing in it was changed."""


class UnknownSession(StoreError):
    """A session or roller that is not in the store (the user's mistake, not the store's)."""


@contextmanager
def atomic(db: sqlite_utils.Database, path: Path) -> Iterator[sqlite_utils.Database]:
    """One transaction (``Database.atomic``); an SQLite failure is a :class:`StoreError`."""
    try:
        with db.atomic():
            yield db
    except sqlite3.OperationalError as exc:
        raise StoreError(f"{path}: {explain(exc)}; nothing was changed") from None


def explain(exc: sqlite3.Error) -> str:
    text = str(exc)
    if "not a database" in text:
        return "not a roller database (corrupt, or not an SQLite file)"
    if "locked" in text or "busy" in text:
        return "the database is locked by another program; close it and try again"
    if "disk is full" in text or "disk I/O" in text:
        return f"cannot write: {text}"
    return text
