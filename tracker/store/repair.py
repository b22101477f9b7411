"""A store whose pages are damaged: what SQLite's integrity check finds, said by table, and
what can still be read copied into a new file.

Apart from the reads because it must work where :func:`~tracker.store.opening.open_store`
cannot (a destroyed table root, a damaged schema): it opens the file read-only with plain
``sqlite3`` and touches nothing in it.

Recovery copies row by row, each row read alone by its rowid, so one destroyed page loses the
rows on it and no others. The ``sqlite3`` shell's ``.recover`` does a deeper job, but the one
Debian ships (3.40.1) ends in "SQL logic error" even on a sound file, and a health tracker
must not depend on a shell being installed: this copy is roller's own, and ``.recover`` is
named as the next step when it cannot help.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tracker.store.errors import StoreError, explain
from tracker.store.opening import open_store
from tracker.store.reads import rowids

#: How many of SQLite's integrity lines ``roller check`` shows before it counts the rest.
SHOWN = 5


def connect_read_only(path: Path) -> sqlite3.Connection:
    """The file for reading only, whatever its directory allows (``immutable`` where SQLite
    cannot make its shared-memory file)."""
    for mode in ("mode=ro", "immutable=1"):
        with contextlib.suppress(sqlite3.OperationalError):
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
    raise StoreError(f"{path}: cannot be opened for reading")


def integrity(path: Path) -> list[str]:
    """What SQLite's integrity check finds, summarised: the tables and indexes it names, each
    once with how many problems, at most :data:`SHOWN` lines and a count of the rest; [] when
    the file is sound."""
    try:
        with contextlib.closing(connect_read_only(path)) as conn:
            roots = _roots(conn)
            try:
                lines = [str(r[0]) for r in conn.execute("PRAGMA integrity_check")]
            except sqlite3.DatabaseError as exc:  # a root page destroyed stops the check
                lines = _unreadable(conn) or [f"the file cannot be checked: {explain(exc)}"]
    except (sqlite3.DatabaseError, StoreError) as exc:
        what = explain(exc) if isinstance(exc, sqlite3.DatabaseError) else str(exc)
        return [f"the file cannot be checked: {what}"]
    if lines == ["ok"]:
        return []
    per: Counter[str] = Counter()
    for line in lines:
        line = re.sub(r"^\*\*\* in database \w+ \*\*\*\s*", "", line)
        if not line:
            continue
        if re.match(r"Page \d+ is never used", line):
            per["pages cut off by the damage (never used)"] += 1
            continue
        page = re.match(r"Page (\d+)", line)
        if page and int(page.group(1)) in roots:
            per[roots[int(page.group(1))]] += 1
            continue
        found = re.match(r"Tree (\d+) page", line) or re.search(r"in (index|table) (\w+)",
                                                                   line)
        if found and found.group(1).isdigit():
            per[roots.get(int(found.group(1)), f"page tree {found.group(1)}")] += 1
        elif found:
            per[f"{found.group(1)} {found.group(2)}"] += 1
        else:
            per[line[:120]] += 1
    said = [f"{name}: {count} problem(s)" for name, count in per.items()]
    if len(said) > SHOWN:
        said = [*said[:SHOWN], f"and {len(said) - SHOWN} more"]
    return said


def _unreadable(conn: sqlite3.Connection) -> list[str]:
    """Where SQLite's own check stops at a destroyed root: each table and index read whole
    by itself, those that cannot be named the way the check names them."""
    found = []
    for kind, name, table in conn.execute(
            "SELECT type, name, tbl_name FROM sqlite_master WHERE rootpage > 0"):
        try:
            if kind == "table":
                sql = f'SELECT count(*) FROM "{name}" NOT INDEXED'
            else:  # a column the index holds, so the index itself is what is read
                first = [r[2] for r in conn.execute(f'PRAGMA index_info("{name}")')][:1]
                column = f'"{first[0]}"' if first and first[0] else "rowid"
                sql = f'SELECT {column} FROM "{table}" INDEXED BY "{name}"'
            for _ in conn.execute(sql):
                pass
        except sqlite3.DatabaseError:
            found.append(f"in {kind} {name}")
    return found


def _roots(conn: sqlite3.Connection) -> dict[int, str]:
    """The table or index at each root page, for naming what the check found."""
    try:
        return {int(page): f"{kind} {name}" for kind, name, page in conn.execute(
            "SELECT type, name, rootpage FROM sqlite_master WHERE rootpage > 0")}
    except sqlite3.DatabaseError:
        return {}


@dataclass
class Recovered:
    """What a recovery copied: rows per table, and rows seen but unreadable."""

    copied: dict[str, int] = field(default_factory=dict)
    lost: dict[str, int] = field(default_factory=dict)
    unreadable: list[str] = field(default_factory=list)  # tables not read at all


def recover(path: Path, new: Path) -> Recovered:
    """Copy every row of ``path`` that can be read into a new store at ``new``; rows whose
    parent was lost (a segment of a lost session) are left out, so the new store is whole.
    ``new`` must not exist: nothing is ever written over."""
    if new.exists():
        raise StoreError(f"{new} exists: give a new file to recover into")
    old = connect_read_only(path)
    try:
        tables = [r[0] for r in old.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    except sqlite3.DatabaseError as exc:
        old.close()
        raise StoreError(f"{path}: its schema cannot be read ({explain(exc)}): nothing can be "
                         f"copied by roller; try sqlite3 {path} .recover") from None
    store = open_store(new)
    done = Recovered()
    try:
        conn = store.db.conn
        conn.execute("PRAGMA foreign_keys = OFF")
        with conn:
            for table in tables:
                into = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
                if not into:
                    continue  # not a table of this roller's
                try:
                    there = [r[1] for r in old.execute(f'PRAGMA table_info("{table}")')]
                except sqlite3.DatabaseError:
                    done.unreadable.append(table)
                    continue
                columns = [c for c in into if c in there]
                names = ", ".join(f'"{c}"' for c in columns)
                insert = (f'INSERT OR REPLACE INTO "{table}" ({names}) '
                          f'VALUES ({", ".join("?" * len(columns))})')
                copied = lost = 0
                for rowid in rowids(old, table):
                    try:
                        row = old.execute(f'SELECT {names} FROM "{table}" NOT INDEXED '
                                          "WHERE rowid = ?", [rowid]).fetchone()
                    except sqlite3.DatabaseError:
                        lost += 1
                        continue
                    if row is not None:
                        conn.execute(insert, row)
                        copied += 1
                done.copied[table], done.lost[table] = copied, lost
            # Rows whose parent was lost would point at nothing: dropped, counted as lost.
            for table, rowid, _, _ in list(conn.execute("PRAGMA foreign_key_check")):
                conn.execute(f'DELETE FROM "{table}" WHERE rowid = ?', [rowid])
                done.copied[table] -= 1
                done.lost[table] = done.lost.get(table, 0) + 1
        conn.execute("PRAGMA foreign_keys = ON")
    finally:
        old.close()
        store.close()
    return done
