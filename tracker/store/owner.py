"""Who records a live session, and who holds a roller or the MQTT bridge: locks the operating
system holds for the process.

Each live session names an owner; the owner holds an exclusive lock on a small file beside
the database (``roller.db.locks/<owner>.lock``). The operating system releases that lock
when the process ends, however it ends (exit, crash, ``kill -9``, power cut), so any other
program can tell a session being recorded from one left behind, without clocks or
heartbeats: the status word ``live`` alone says nothing about whether anyone is still there.

The same locks, by name, say which process holds a roller (``roller gateway`` watches every
paired one; ``roller track`` the one it streams from) and which publishes the MQTT bridge's
state and will: exactly one process per store, whichever started first.

``filelock`` is imported when a lock is first taken or tested: a command that only reads the
store never does, and starts without it.
"""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from filelock import FileLock


class Owners:
    """The owners of a store's live sessions, and the locks this process holds."""

    def __init__(self, db_path: Path) -> None:
        self.dir = db_path.with_name(db_path.name + ".locks")
        self._held: dict[str, FileLock] = {}

    def claim(self) -> str:
        """A new owner, locked by this process until :meth:`release` or the process ends."""
        from filelock import FileLock

        self.dir.mkdir(mode=0o700, exist_ok=True)
        token = uuid.uuid4().hex
        lock = FileLock(self._file(token), mode=0o600)
        lock.acquire(timeout=0)
        self._held[token] = lock
        return token

    def release(self, token: str) -> None:
        lock = self._held.pop(token, None)
        if lock is not None:
            with contextlib.suppress(OSError):
                self._who(token).unlink()
            lock.release()
            with contextlib.suppress(OSError):
                self._file(token).unlink()

    def release_all(self) -> None:
        for token in list(self._held):
            self.release(token)

    def gone(self, token: str | None) -> bool:
        """Whether the owner of a live session has ended (a session from before owners had
        none). When it cannot be told (a read-only directory), the owner is taken as alive."""
        if not token or not token.isalnum():
            return True
        if token in self._held:
            return False
        path = self._file(token)
        if not path.exists():
            return True
        from filelock import FileLock, Timeout

        probe = FileLock(path)
        try:
            probe.acquire(timeout=0)
        except (Timeout, OSError):  # held, or cannot be told: alive
            return False
        probe.release()
        with contextlib.suppress(OSError):
            path.unlink()
        return True

    def hold(self, name: str, who: str) -> str | None:
        """Hold the lock ``name`` (a roller, the MQTT bridge) for this process's life; None
        when it is ours now, else who holds it (as they said, e.g. ``roller gateway, pid 7``)."""
        if name in self._held:
            return None
        from filelock import FileLock, Timeout

        self.dir.mkdir(mode=0o700, exist_ok=True)
        lock = FileLock(self._file(name), mode=0o600)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            try:
                return self._who(name).read_text(encoding="utf-8").strip() or "another program"
            except (OSError, UnicodeDecodeError):
                return "another program"
        self._held[name] = lock
        with contextlib.suppress(OSError):
            self._who(name).write_text(who + "\n", encoding="utf-8")
        return None

    def _file(self, token: str) -> Path:
        return self.dir / f"{token}.lock"

    def _who(self, name: str) -> Path:
        return self.dir / f"{name}.who"
