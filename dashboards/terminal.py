"""The dashboard's terminal driver: Textual's own, made to let go of a terminal that is gone.

When the terminal closes under the dashboard (a dropped SSH link, a closed tmux pane),
writing to it fails with EIO. Textual's writer thread dies on that error, its queue (30
writes) fills, and the next write blocks the event loop for good: the signal handlers that
end the session never run, and ``LinuxDriver.close`` waits on that full queue at exit. The
process lived on, holding the roller. Here output to a terminal that is gone is dropped, so
the loop never waits on it; reading from it ends the app as a hang-up does (the session
stored, as on SIGHUP), instead of a panic; and the writer thread is waited for a bounded time
at exit, since nothing it still holds can reach anyone.
"""

from __future__ import annotations

import contextlib
import queue
from typing import IO, Any, cast

from textual.drivers.linux_driver import LinuxDriver

#: How long the exit waits for the writer thread to hand the terminal its last bytes (s).
WRITER_WAIT_S = 1.0


class _Output:
    """The terminal as the writer thread writes to it: once a write fails (the terminal is
    gone), everything after is dropped instead of raised in a thread nobody watches."""

    def __init__(self, file: IO[str]) -> None:
        self._file = file
        self.gone = False

    def write(self, text: str) -> None:
        if not self.gone:
            try:
                self._file.write(text)
            except (OSError, ValueError):  # EIO: the terminal is gone; ValueError: closed
                self.gone = True

    def flush(self) -> None:
        if not self.gone:
            try:
                self._file.flush()
            except (OSError, ValueError):
                self.gone = True

    def fileno(self) -> int:
        return self._file.fileno()


class HangupDriver(LinuxDriver):
    """Textual's Linux driver, which lets go of a terminal that went away."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._output = _Output(cast("IO[str]", self._file))
        self._file = self._output  # type: ignore[assignment]  # a file as far as Textual looks

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
