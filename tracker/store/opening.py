"""Opening the store's file: made if new (readable by its owner only: sessions are health
data), migrated if older, refused if newer or another program's, and opened for reading only
where it cannot be written (a read-only mount).

Apart from :class:`~tracker.store.database.Store` because it is about the file and the
connection, not the tables: it runs once, before any read or write.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from pathlib import Path

import platformdirs

from tracker.store.connection import Connection
from tracker.store.database import Store
from tracker.store.errors import WAIT_S, StoreError, explain
from tracker.store.schema import SCHEMA_VERSION, migrate

log = logging.getLogger(__name__)


def default_path() -> Path:
    return platformdirs.user_data_path("roller") / "roller.db"


def open_store(path: Path | None = None) -> Store:
    """Open (creating and migrating as needed) the store; refuse what is not ours to change.
    A store that cannot be written (a read-only mount) is opened for reading only."""
    path = path or default_path()
    try:
        conn, read_only = _connect(path)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: {explain(exc)}") from None
    if version > SCHEMA_VERSION:
        conn.close()
        raise StoreError(
            f"{path}: made by a newer roller (schema {version}, this one knows {SCHEMA_VERSION});"
            " upgrade roller"
        )
    db = Connection(conn)  # sqlite-utils is imported if it migrates, or at the first write
    try:
        if version < SCHEMA_VERSION:
            if read_only:
                raise StoreError(f"{path}: read-only, and made by an older roller: open it "
                                 "once where it can be written, to bring it up to date")
            migrate(db.database, path)
            _owner_only(path)
            log.info("store %s migrated from schema %d to %d", path, version, SCHEMA_VERSION)
        db.execute("PRAGMA foreign_keys = ON")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(f"{path}: {explain(exc)}") from None
    except StoreError:
        conn.close()
        raise
    return Store(db, path, read_only)


def _connect(path: Path) -> tuple[sqlite3.Connection, bool]:
    """A connection, and whether it is read-only. A new store and its directory are made
    readable by their owner only: sessions are health data."""
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    try:
        conn = sqlite3.connect(path, timeout=WAIT_S)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        if os.access(path, os.W_OK):
            return conn, False
        conn.close()
    except sqlite3.OperationalError as exc:
        if "unable to open" not in str(exc) and "readonly" not in str(exc):
            raise
    # A read-only file or mount: WAL needs a writable directory, unless SQLite is told that
    # nothing will change the file while we read it.
    for mode in ("mode=ro", "immutable=1"):
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True,
                                   timeout=WAIT_S)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn, True
        except sqlite3.OperationalError:
            continue
    raise sqlite3.OperationalError("unable to open database file")


def _owner_only(path: Path) -> None:
    """A store made by an older roller was readable by every local user; no longer."""
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(OSError):
            if file.stat().st_mode & 0o077:
                file.chmod(0o600)
