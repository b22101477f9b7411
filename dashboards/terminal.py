"""The dashboard's terminal driver: Textual's own, made to let go of a terminal that is gone.

When the terminal closes under the dashboard (a dropped SSH link, a closed tmux pane),
writing to it fails with EIO. Textual's writer thread dies on that error, its queue (30
writes) fills, and the next write blocks the event loop for good: the signal handlers that
end the session never run, and ``LinuxDriver.close`` waits on that full queue at exit. The
process lived on, holding the roller. A terminal that stays open but reads nothing (an SSH
link dropped without a word) fills the same queue. Here output to a terminal that is gone,
or that takes nothing, is dropped, so the loop never waits on it; reading from it ends the
app as a hang-up does (the session stored, as on SIGHUP), instead of a panic; and the writer
thread is waited for a bounded time at exit, since nothing it still holds can reach anyone.
"""

from __future__ import annotations

import contextlib
import os
import queue
from typing import IO, Any, cast

from textual.drivers.linux_driver import LinuxDriver

#: How long the exit waits for the writer thread to hand the terminal its last bytes (s).
WRITER_WAIT_S = 1.0
#: How often a stalled terminal is looked at, to draw the whole screen once it takes output.
RETRY_S = 0.5


class _Output:
    """The terminal as the writer thread writes to it: straight to its descriptor, holding
    no lock of ``sys.stderr`` (Textual draws on it) while a write waits on a terminal that
    reads nothing, so the log and the exit never wait behind it. Once a write fails (the
    terminal is gone), everything after is dropped instead of raised in a thread nobody
    watches."""

    def __init__(self, file: IO[str]) -> None:
        self._fd = file.fileno()
        self.gone = False

    def write(self, text: str) -> None:
        data = memoryview(text.encode("utf-8", "replace"))
        while data and not self.gone:
            try:
                data = data[os.write(self._fd, data):]
            except OSError:  # EIO: the terminal is gone
                self.gone = True

    def flush(self) -> None:
        """Nothing held back: each write went straight out."""

    def fileno(self) -> int:
        return self._fd


class HangupDriver(LinuxDriver):
    """Textual's Linux driver, which lets go of a terminal that went away."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._output = _Output(cast("IO[str]", self._file))
        self._file = self._output  # type: ignore[assignment]  # a file as far as Textual looks
        self._stalled = False  # output was dropped: the terminal took none
        self._suspending = False  # ctrl+z: the app goes on after it

    def write(self, data: str) -> None:
        """Queued for the writer thread, never waited for. A terminal that takes nothing
        more (an SSH link dropped without a word: sshd holds the terminal and reads no more
        of it) fills Textual's queue, and waiting on it stopped the loop: the session, its
        alerts and the signal handlers with it. What does not fit is dropped, and the whole
        screen is drawn again once the terminal takes output again (:meth:`_retry`)."""
        assert self._writer_thread is not None, "the driver is not in application mode"
        try:
            self._writer_thread._queue.put_nowait(data)  # Textual's own queue
        except queue.Full:
            if not self._stalled:
                self._stalled = True
                self._app.set_timer(RETRY_S, self._retry)

    def _retry(self) -> None:
        """The whole screen again once the terminal takes output: an idle screen (a session
        ended while nobody read) writes nothing by itself, and would stay stale."""
        writer = self._writer_thread
        if writer is None or not self._stalled:
            return
        if writer._queue.full():
            self._app.set_timer(RETRY_S, self._retry)
        else:
            self._stalled = False
            self._app.refresh()

    def stop_application_mode(self) -> None:
        """The terminal's own modes back (the main screen, the cursor, no mouse reports):
        after a stall, what still waited to be drawn is dropped to make room for them."""
        writer = self._writer_thread
        if self._stalled and writer is not None:
            with contextlib.suppress(queue.Empty):
                while True:
                    writer._queue.get_nowait()
        super().stop_application_mode()

    def suspend_application_mode(self) -> None:
        """Suspended (ctrl+z), not ending: the terminal is kept for the app's return."""
        self._suspending = True
        try:
            super().suspend_application_mode()
        finally:
            self._suspending = False

    def run_input_thread(self) -> None:
        """Input until the app ends; a terminal that can no longer be read (EIO: it was
        closed) ends the app as a hang-up does, the session under way stored first."""
        try:
            super().run_input_thread()
        except OSError:
            self._output.gone = True
            hang_up = getattr(self._app, "hang_up", None)
            if hang_up is not None:
                self._app.call_later(hang_up)

    def close(self) -> None:
        """The writer thread told to end, and waited for a bounded time: a terminal that takes
        no more output must not keep the process (and the roller) for ever."""
        writer = self._writer_thread
        if writer is None:
            return
        with contextlib.suppress(queue.Full):
            writer._queue.put(None, timeout=WRITER_WAIT_S)  # Textual's own queue
        writer.join(WRITER_WAIT_S)
        if (writer.is_alive() or self._output.gone) and not self._suspending:
            _let_go(self._output.fileno())


def _let_go(terminal: int) -> None:
    """Standard output and error to /dev/null where they are ``terminal``: it took nothing
    more, and the log's last lines and the interpreter's final flush would wait on it for
    ever (what they say is in the store). A stream sent to a file is left alone."""
    try:
        tty = os.fstat(terminal)
    except OSError:
        return
    null = os.open(os.devnull, os.O_WRONLY)
    for fd in (1, 2):
        with contextlib.suppress(OSError):
            if os.path.samestat(os.fstat(fd), tty):
                os.dup2(null, fd)
    os.close(null)
