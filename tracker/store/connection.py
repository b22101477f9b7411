"""The store's one SQLite connection: read in plain SQL, written through sqlite-utils.

Reading is what the commands people wait for do (``history``, ``schedule``, ``session
show``), and a read is a query whose rows come back as dicts: that much is
:meth:`Connection.query`, on :mod:`sqlite3` alone. sqlite-utils, which the migrations
(``enable_wal``, tables made from dicts) and the writes (``insert``, ``upsert`` with its type
conversions) use, is imported the first time a command writes or migrates
(:attr:`Connection.database`): its import costs more than numpy's (it imports numpy, pluggy,
dateutil and more), and a command that only reads never pays it (``tests/test_startup.py``).
Both work on the same connection, so a write sees what a read saw, and a read inside a
write's transaction sees the write.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlite_utils

#: A statement's parameters, as :mod:`sqlite3` and sqlite-utils both take them.
Params = Sequence[Any] | dict[str, Any] | None


class Connection:
    """Reads on :attr:`conn` with the calls of :class:`sqlite_utils.Database` (``query``,
    ``execute``), so that a read is written once and runs alike on this and inside a write's
    transaction; writes through :attr:`database`."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, parameters: Params = None) -> sqlite3.Cursor:
        """``sql`` run; a write outside a transaction is committed at once, as sqlite-utils'
        ``execute`` commits it: the implicit transaction :mod:`sqlite3` opens for it would
        otherwise stay open, and the next write's ``BEGIN IMMEDIATE`` fail."""
        was_in_transaction = self.conn.in_transaction
        try:
            cursor = self.conn.execute(sql, parameters or ())
        except sqlite3.Error:
            if not was_in_transaction and self.conn.in_transaction:
                self.conn.rollback()
            raise
        if not was_in_transaction and self.conn.in_transaction:
            self.conn.commit()
        return cursor

    def query(self, sql: str, params: Params = None) -> Iterator[dict[str, Any]]:
        """Each row of ``sql`` as a dict of its columns, as sqlite-utils' ``query`` gives it."""
        cursor = self.conn.execute(sql, params or ())
        keys = [column[0] for column in cursor.description]
        for row in cursor:
            yield dict(zip(keys, row, strict=True))

    @cached_property
    def database(self) -> sqlite_utils.Database:
        """sqlite-utils on this connection, for migrations and writes. Without its plugins:
        finding them reads every installed package's entry points (10 ms), and another
        package's hooks have no place in the connection to a person's sessions."""
        import sqlite_utils

        return sqlite_utils.Database(self.conn, execute_plugins=False)

    def close(self) -> None:
        self.conn.close()
