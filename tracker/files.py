"""What roller reads from a path it is given: a regular file, and a bounded one.

Every path a command reads (the configuration, program files, recordings, the MQTT password
file and credential, TLS files) goes through here first. A FIFO, a device or a directory is
refused in one line (exit 2) instead of blocking forever (``--config`` a named pipe nobody
writes) or reading until memory runs out (``--config /dev/zero``); a text meant for a person
to write (configuration, programs, a password) is read up to :data:`MAX_TEXT_BYTES`.

This is the I/O edge below every layer that reads files (``tracker.config``, ``tracker.mqtt``,
the commands) and above the core, which stays pure: the core's readers are handed what was
read here, or a path checked here.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Final

from tracker.core.errors import InputError

#: The most a configuration, program or password file may hold: far above any written by
#: hand, far below what would hurt.
MAX_TEXT_BYTES: Final = 1 << 20


def _refused(path: Path | str, fail: Callable[[str], Exception],
             mode: int) -> Exception:
    kind = ("a directory" if stat.S_ISDIR(mode) else "a named pipe (FIFO)"
            if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "not a plain file")
    return fail(f"{kind}, not a regular file")


def default_fail(path: Path | str) -> Callable[[str], Exception]:
    """``PATH: reason`` as an :class:`InputError` (exit 2)."""
    return lambda reason: InputError(f"{path}: {reason}")


def regular_file(path: Path | str, fail: Callable[[str], Exception] | None = None) -> None:
    """Refuse ``path`` unless it is a regular file (a symbolic link to one is one): for a
    reader that opens the path itself (a recording read line by line; TLS files, which
    :mod:`ssl` opens). ``fail`` makes the exception from a reason; :class:`InputError` by
    default."""
    fail = fail or default_fail(path)
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise fail(exc.strerror or str(exc)) from None
    if not stat.S_ISREG(mode):
        raise _refused(path, fail, mode)


def read_text(path: Path | str, fail: Callable[[str], Exception] | None = None,
              limit: int = MAX_TEXT_BYTES) -> str:
    """The UTF-8 text of the regular file at ``path``, at most ``limit`` bytes; else
    ``fail(reason)`` raised. Opened without blocking (``O_NONBLOCK``) and checked on the open
    descriptor, so a FIFO put in the file's place between a check and the open cannot hang
    the reader either."""
    fail = fail or default_fail(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise fail(exc.strerror or str(exc)) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise _refused(path, fail, mode)
    with os.fdopen(fd, "rb") as file:
        try:
            data = file.read(limit + 1)
        except OSError as exc:
            raise fail(exc.strerror or str(exc)) from None
    if len(data) > limit:
        raise fail(f"larger than {limit // 1024} KiB; is it the right file?")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise fail("not UTF-8 text") from None
