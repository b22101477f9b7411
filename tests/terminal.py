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


def in_terminal(home: Path, *args: str, columns: int, lines: int = 40,
                timeout_s: float = 120.0) -> Screenful:
    """Run ``python -m tracker ARGS`` on a pty of ``columns`` x ``lines`` until it ends."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"),
           "TERM": "xterm-256color", **passed_on()}
    proc = subprocess.Popen([sys.executable, "-m", "tracker", *args], stdin=slave,
                            stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    screen = pyte.Screen(columns, lines)
    stream = pyte.ByteStream(screen)
    seen = Screenful()
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            try:
                data = os.read(master, 65536) if ready else b""
            except OSError:  # the pty's other side is closed: the command has ended
                break
            if ready and not data:
                break
            if data:
                seen.bells += data.count(b"\a")
                stream.feed(data)
                seen.screens.append([row.rstrip() for row in screen.display])
            elif proc.poll() is not None:
                break
        else:
            raise AssertionError(f"roller {' '.join(args)} did not end in {timeout_s} s")
        seen.returncode = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        os.close(master)
    seen.last = [row.rstrip() for row in screen.display]
    return seen
