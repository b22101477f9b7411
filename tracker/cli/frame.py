"""``roller track``'s live frame: a few lines redrawn in place that fit the terminal.

The lumbar alert is what the person must see, whatever their terminal's width, so it has a
line of its own, first, in the words that fit (the full sentence, else the short form,
wrapped at a word if even that does not fit); the caution likewise when no alert says more.
Everything else follows, packed a field at a time into lines one column narrower than the
terminal: a line that filled the last column would wrap on some terminals and throw the
count of lines to redraw off. The frame is erased when the session ends, so the summary
that follows is not printed beneath a stale red banner.

The frame is written without ever waiting on the terminal (:class:`TerminalOut`): a terminal
that reads nothing (an SSH link dropped without a word: sshd holds it and reads no more)
would otherwise stop the session's loop, its alerts to Home Assistant and the signal
handlers that end it, with the roller held.
"""

from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Iterable
from typing import TYPE_CHECKING, TextIO

import click

from tracker.core.guidance import (
    ALERT,
    ALERT_SHORT,
    CAUTION,
    CAUTION_SHORT,
    ORIENTATION_UNSURE,
    ORIENTATION_UNSURE_SHORT,
)

if TYPE_CHECKING:
    from tracker.core.estimate import LiveState
    from tracker.core.status import Status

#: The terminal bell: rung once for each alert raised, not for each frame that shows it.
BELL = "\a"
#: Between two fields of a line.
GAP = "  "


def fitted(long: str, short: str, width: int) -> list[str]:
    """``long`` when it fits in ``width`` columns, else ``short``, wrapped at words when
    even that does not: the message is always whole, on as few lines as it takes."""
    if len(long) <= width:
        return [long]
    return textwrap.wrap(short, max(width, 1), break_long_words=True) or [short]


def packed(fields: Iterable[str], width: int) -> list[str]:
    """``fields`` on as few lines of at most ``width`` columns as they fit, each field whole
    on one line (wrapped at words only when it alone is wider than a line)."""
    lines: list[str] = []
    line = ""
    for field in fields:
        if not field:
            continue
        if line and len(line) + len(GAP) + len(field) <= width:
            line += GAP + field
            continue
        if line:
            lines.append(line)
        pieces = textwrap.wrap(field, max(width, 1), break_long_words=True) or [field]
        lines += pieces[:-1]
        line = pieces[-1]
    if line:
        lines.append(line)
    return lines


def banner(state: LiveState | None, width: int) -> list[str]:
    """The alert's lines (or the caution's), styled, then the question of which way round
    the roller lies if the carry could not tell; none while all is well."""
    if state is None:
        return []
    lines = []
    if state.lumbar:
        lines = [click.style(line, fg="white", bg="red", bold=True)
                 for line in fitted(ALERT, ALERT_SHORT, width)]
    elif state.caution:
        lines = [click.style(line, fg="black", bg="yellow")
                 for line in fitted(CAUTION, CAUTION_SHORT.capitalize(), width)]
    if state.orientation_unsure:
        lines += [click.style(line, fg="black", bg="yellow") for line in
                  fitted(ORIENTATION_UNSURE, ORIENTATION_UNSURE_SHORT.capitalize(), width)]
    return lines


def where(state: LiveState) -> list[str]:
    """Where the roller is and how the rolling goes."""
    return [state.region, f"{state.s_cm:.1f} ±{state.s_sd_cm:.1f} cm", f"{state.strokes} strokes",
            f"{state.cadence_cpm:.0f} cpm"]


def guidance(status: Status) -> list[str]:
    """What the person is asked to do now: put the roller down elsewhere, a program's step."""
    fields = []
    if status.state and status.state.placing:
        fields.append(f"lift the roller to your {(status.routine or '').replace('_', ' ')}")
    view = status.program
    if view and view.step:
        fields.append(f"step {view.index + 1}/{view.count} {view.step.title} "
                      f"{view.left_s:.0f} s left")
    return fields


def link(status: Status, mqtt: str | None) -> list[str]:
    """The link, the battery and the broker: the machinery, last."""
    fields = [status.link + (f" #{status.attempt}" if status.link == "reconnecting" else ""),
              f"loss {status.loss_pct:.1f}%"]
    if status.battery_pct is not None:
        fields.append(f"battery {status.battery_pct}%")
    if mqtt is not None:
        fields.append(f"mqtt {mqtt}")
    return fields


def frame_lines(status: Status, mqtt: str | None, width: int) -> list[str]:
    """The frame for ``status`` in a terminal ``width`` columns wide: the alert (or the
    caution) first and on lines of its own, then where the roller is, what to do, the link,
    and a warning in full. No line reaches the last column."""
    room = max(width - 1, 1)
    lines = banner(status.state, room)
    if status.state is not None:
        lines += packed(where(status.state), room)
    lines += packed(guidance(status), room)
    lines += packed(link(status, mqtt), room)
    if status.warning:
        lines += packed([f"WARNING: {status.warning}"], room)
    return lines


def terminal_size(stream: TextIO | TerminalOut) -> os.terminal_size:
    """The size of the terminal ``stream`` writes to (the frame goes to stderr, which may be
    a terminal while stdout is a file); the environment's or 80x24 when it is none."""
    try:
        return os.get_terminal_size(stream.fileno())
    except (OSError, ValueError):
        return shutil.get_terminal_size()


class TerminalOut:
    """A terminal written on an open file description of its own, never waited for: what the
    terminal does not take at once is dropped (the frame is drawn whole again next time),
    and once it is gone (EIO) nothing more is written. Its own description, so the
    non-blocking mode is not the shell's, nor standard error's."""

    def __init__(self, stream: TextIO) -> None:
        self._fd = os.open(os.ttyname(stream.fileno()),
                           os.O_WRONLY | os.O_NOCTTY | os.O_NONBLOCK | os.O_CLOEXEC)
        self.dropped = False  # some output was lost since the last look

    def write(self, text: str) -> int:
        data = memoryview(text.encode("utf-8", "replace"))
        while data:
            try:
                data = data[os.write(self._fd, data):]
            except BlockingIOError:  # full: the rest is dropped, never waited for
                self.dropped = True
                break
            except OSError:  # EIO: the terminal is gone
                self.dropped = True
                break
        return len(text)

    def flush(self) -> None:
        """Nothing held back: each write went out at once, or was dropped."""

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return True

    def close(self) -> None:
        os.close(self._fd)


class LiveFrame:
    """The frame on a terminal: drawn over the last one, interrupted by a line said in
    full (a program's step), rung once per alert, erased at the end."""

    def __init__(self, stream: TextIO | TerminalOut) -> None:
        self.stream = stream
        self._drawn = 0  # lines of the frame on the screen, the cursor at the end of the last
        self._rung: LiveState | None = None  # the state whose alerts have been rung for

    def draw(self, status: Status, mqtt: str | None = None) -> None:
        """Redraw the frame for ``status``, ringing the bell if it raises an alert."""
        size = terminal_size(self.stream)
        lines = frame_lines(status, mqtt, size.columns)[:max(size.lines - 1, 1)]
        self._write(self._home() + "\n".join("\x1b[2K" + line for line in lines) + "\x1b[J"
                    + self._bell(status.state))
        self._drawn = len(lines)

    def say(self, text: str) -> None:
        """``text`` in full above the frame, wrapped at words to the terminal's width, to
        stay in the scrollback; the frame is drawn again beneath it at the next status."""
        room = max(terminal_size(self.stream).columns - 1, 1)
        wrapped = "\n".join(textwrap.fill(line, room) for line in text.split("\n"))
        self._write(self._home() + "\x1b[J" + wrapped + "\n")
        self._drawn = 0

    def clear(self) -> None:
        """Erase the frame (the session is over: what it showed is no longer true)."""
        if self._drawn:
            self._write(self._home() + "\x1b[J")
            self._drawn = 0

    def _home(self) -> str:
        """To the start of the frame's first line; after output was dropped, where the
        frame is cannot be known: the screen is cleared and it starts at the top."""
        if isinstance(self.stream, TerminalOut) and self.stream.dropped:
            self.stream.dropped = False
            return "\x1b[H\x1b[J"
        up = self._drawn - 1
        return "\r" + (f"\x1b[{up}A" if up > 0 else "")

    def _bell(self, state: LiveState | None) -> str:
        """The bell, once for a state that raised an alert: a status can be shown again
        (the link's news carries the latest state), an alert is rung for once."""
        if state is None or state is self._rung or not state.alerts_s:
            return ""
        self._rung = state
        return BELL

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()
