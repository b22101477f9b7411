"""Where roller's log lines go and how they look: the command line owns the handler, library
code only logs (``logging.getLogger(__name__)``).

Each line is ``TIME LEVEL LOGGER: MESSAGE``, ``TIME`` the local time with its offset to the
millisecond (``2026-11-21T10:00:00.123+01:00``) on roller's clock (``--now`` moves it as it
moves every other "now"), as Zigbee2MQTT and Theengs Gateway stamp theirs. Under systemd,
where stderr is the journal (``$JOURNAL_STREAM`` names it), the journal stamps each line
itself, so roller leaves the time out and starts the line with its syslog priority
(``<4>`` a warning, ``<6>`` info), which journald takes as the line's priority
(``journalctl -p warning``).

The level is roller's own: ``debug`` shows every library's debug lines too, any other level
leaves the libraries (bleak, aiomqtt, asyncio) at warnings.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import IO, Any, TextIO

from tracker.core import clock

#: roller's own loggers: what ``[log] level`` sets.
OWN = ("tracker", "dashboards", "firmware_sim")
#: The syslog priority journald reads from a line's ``<N>`` prefix.
PRIORITIES = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3,
              logging.CRITICAL: 2}


def on_journal(stream: TextIO, env: Mapping[str, str]) -> bool:
    """Is ``stream`` the systemd journal? systemd sets ``JOURNAL_STREAM=DEVICE:INODE`` for
    the stream it connected to the journal; a child whose stderr was redirected inherits
    the variable, so the stream itself must be that one."""
    device, _, inode = env.get("JOURNAL_STREAM", "").partition(":")
    try:
        status = os.fstat(stream.fileno())
        return (status.st_dev, status.st_ino) == (int(device), int(inode))
    except (ValueError, OSError, AttributeError):  # unset, malformed, or no file (a test's)
        return False


class Lines(logging.Formatter):
    """One log record as one line (a traceback under it): stamped, or for the journal
    prefixed with its priority."""

    def __init__(self, journal: bool) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")
        self.journal = journal

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if self.journal:
            return f"<{PRIORITIES.get(record.levelno, 6)}>{text}"
        return f"{self.moment(record)} {text}"

    @staticmethod
    def moment(record: logging.LogRecord) -> str:
        """When ``record`` was made, on roller's clock, in local time with its offset."""
        at = clock.now() - timedelta(seconds=time.time() - record.created)
        return at.astimezone().isoformat(timespec="milliseconds")


def level_of(name: str) -> int:
    """A level's number from its name in :data:`tracker.config.LOG_LEVELS`."""
    return int(logging.getLevelName(name.upper()))


#: A warning repeated within this many seconds is counted, not said again.
REPEAT_WINDOW_S = 60.0


class Repeats(logging.Filter):
    """A warning said once, then counted: one line, then at most one a minute saying how many
    more like it came (``... (and 9,839 more like this in the last 60 s)``). A flood of
    ignored MQTT commands, or a radio dropping packet after packet, would otherwise write
    thousands of lines that bury the one that matters and fill a Pi's journal.

    Lines are alike when they come from the same logger with the same message template and
    the same roller (``record.roller``, set by :class:`tracker.devices.base.RollerLog`): the
    values in the message (a sequence number, a topic) may differ. Info and debug lines pass
    untouched. ``now`` is roller's one clock (``tracker.core.clock.now``), injectable."""

    def __init__(self, now: Callable[[], datetime] = clock.now,
                 window_s: float = REPEAT_WINDOW_S) -> None:
        super().__init__()
        self.now, self.window = now, timedelta(seconds=window_s)
        #: Per kind of line: when its window began, how many were hidden, and the last one.
        self._seen: dict[tuple[str, str, str],
                         tuple[datetime, int, logging.LogRecord | None]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, str(record.msg), str(getattr(record, "roller", "")))
        now = self.now()
        start, hidden, _ = self._seen.get(key, (None, 0, None))
        if start is not None and now - start < self.window:
            self._seen[key] = (start, hidden + 1, record)
            return False
        if len(self._seen) > 1000:  # many different lines: forget the old windows
            self._seen = {k: v for k, v in self._seen.items() if now - v[0] < self.window}
        self._seen[key] = (now, 0, None)
        if hidden and start is not None:
            _counted(record, hidden, now - start)
        return True

    def held(self) -> list[logging.LogRecord]:
        """The last of each kind of line still being counted, with its count: said when the
        process ends, so a flood that stopped within its minute is not left unsaid."""
        now, records = self.now(), []
        for start, hidden, last in self._seen.values():
            if hidden and last is not None:
                last.created = time.time()  # said now, in order with the lines before it
                records.append(_counted(last, hidden - 1, now - start) if hidden > 1 else last)
        self._seen.clear()
        return records


def _counted(record: logging.LogRecord, more: int, over: timedelta) -> logging.LogRecord:
    """``record`` saying how many more like it were not written."""
    record.msg = f"{record.msg} (and {more:,} more like this in the last " \
        f"{over.total_seconds():.0f} s)"
    return record


class Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """roller's own handler: the one :func:`configure` replaces (others are left alone)."""

    def close(self) -> None:
        """Say what :class:`Repeats` still holds before closing (``logging.shutdown`` closes
        every handler as the process ends)."""
        for kept in self.filters:
            if isinstance(kept, Repeats):
                for record in kept.held():
                    self.emit(record)
        super().close()


def configure(level: str, stream: TextIO | None = None,
              env: Mapping[str, str] | None = None) -> None:
    """Log roller's lines at ``level`` and up to ``stream`` (stderr), in place of the handler
    an earlier call set."""
    stream = stream or sys.stderr
    handler = Handler(stream)
    handler.setFormatter(Lines(on_journal(stream, os.environ if env is None else env)))
    handler.addFilter(Repeats())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, Handler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    own = level_of(level)
    root.setLevel(own if own == logging.DEBUG else max(own, logging.WARNING))
    for name in OWN:
        logging.getLogger(name).setLevel(own)


@contextmanager
def logged_to(stream: IO[str] | Any | None) -> Iterator[None]:
    """roller's lines written to ``stream`` while this lasts (None: where they were): the
    live frame's terminal writer, so that a warning during a session never waits on a
    terminal that reads nothing."""
    handlers = [h for h in logging.getLogger().handlers if isinstance(h, Handler)]
    before = [h.setStream(stream) for h in handlers] if stream is not None else []
    try:
        yield
    finally:
        for handler, old in zip(handlers, before, strict=False):
            handler.setStream(old)


def at_least(level: str) -> None:
    """roller's own lines from ``level`` on, when nobody chose a level (the gateway's info)."""
    for name in OWN:
        logging.getLogger(name).setLevel(level_of(level))
