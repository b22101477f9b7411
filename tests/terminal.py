"""A ``roller`` command in a real terminal of a given size: a pty whose window size is set,
read through a terminal emulator (pyte), so a test sees what a person would see at that
width, not the bytes written."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyte

from tests.suite_clock import passed_on


@dataclass
class Screenful:
    """What a terminal showed while a command ran: every screen after each read, the bells
    rung, the screen it was left with, and the command's exit status."""

    screens: list[list[str]] = field(default_factory=list)
    bells: int = 0
    last: list[str] = field(default_factory=list)
    returncode: int | None = None


class _Screen(pyte.Screen):  # type: ignore[misc]
    """A screen that counts the bells it rings: a BEL on its own, not one that ends an
    escape sequence (Textual sets the window's title with one)."""

    rung = 0

    def bell(self, *args: object) -> None:
        self.rung += 1


class Terminal:
    """The pty's master side, read into a terminal emulator of the same size."""

    def __init__(self, proc: subprocess.Popen[bytes], master: int, columns: int,
                 lines: int, name: str = "") -> None:
        self.proc, self.master, self.name = proc, master, name
        self.screen = _Screen(columns, lines)
        self.stream = pyte.ByteStream(self.screen)
        self.seen = Screenful()
        self.ended = False

    def rows(self) -> list[str]:
        return [row.rstrip() for row in self.screen.display]

    def hang_up(self) -> None:
        """Close the master side, once: the terminal goes away (a dropped SSH link). Closing
        an fd twice could close whatever reused its number in between."""
        if self.master >= 0:
            os.close(self.master)
            self.master = -1

    def fill(self) -> int:
        """Fill the terminal's buffer from its other side, as output nobody reads (an SSH
        link dropped without a word): the command's next write would wait. Bytes written."""
        fd = os.open(self.name, os.O_WRONLY | os.O_NOCTTY | os.O_NONBLOCK)
        written = 0
        try:
            while True:
                written += os.write(fd, b"." * 1024)
        except BlockingIOError:
            return written
        finally:
            os.close(fd)

    def read(self, wait_s: float = 0.2) -> None:
        """What the command wrote within ``wait_s``, onto the screen."""
        ready, _, _ = select.select([self.master], [], [], wait_s)
        try:
            data = os.read(self.master, 65536) if ready else b""
        except OSError:  # the pty's other side is closed: the command has ended
            data = b""
        if ready and not data:
            self.ended = True
        if data:
            self.stream.feed(data)
            self.seen.bells = self.screen.rung
            self.seen.screens.append(self.rows())

    def until(self, shown: Callable[[list[str]], bool], timeout_s: float = 60.0) -> list[str]:
        """Read until the screen shows what ``shown`` looks for; the screen then."""
        deadline = time.monotonic() + timeout_s
        while not shown(self.rows()):
            if self.ended or time.monotonic() > deadline:
                raise AssertionError("not shown in time; the screen:\n" + "\n".join(self.rows()))
            self.read()
        return self.rows()

    def press(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def wait(self, timeout_s: float) -> Screenful:
        """Read until the command ends; what it showed."""
        deadline = time.monotonic() + timeout_s
        while not self.ended and time.monotonic() < deadline:
            self.read()
            if self.proc.poll() is not None and not select.select([self.master], [], [], 0)[0]:
                break
        if not self.ended and self.proc.poll() is None:
            raise AssertionError(f"the command did not end in {timeout_s} s")
        self.seen.returncode = self.proc.wait(timeout=30)
        self.seen.last = self.rows()
        return self.seen


@contextmanager
def terminal(home: Path, *args: str, columns: int, lines: int = 40) -> Iterator[Terminal]:
    """``python -m tracker ARGS`` on a pty of ``columns`` x ``lines``; killed if the test
    leaves it running."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"),
           "TERM": "xterm-256color", **passed_on()}
    proc = subprocess.Popen([sys.executable, "-m", "tracker", *args], stdin=slave,
                            stdout=slave, stderr=slave, env=env, start_new_session=True)
    name = os.ttyname(slave)
    os.close(slave)
    term = Terminal(proc, master, columns, lines, name)
    try:
        yield term
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        term.hang_up()
