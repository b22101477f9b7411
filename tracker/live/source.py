"""Where a session's samples come from: a sensor's address and, for the simulator, the bleak
backends that reach it and its air clock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Source:
    """A sensor to stream from; bleak's own backends unless a test or ``--sim`` gives others."""

    address: str
    scanner_backend: Any = None
    client_backend: Any = None
    finished: asyncio.Event | None = None  # set when a simulated session has run out
    profile: str | None = None  # the device's kind, when not the stored one
    clock: Callable[[], float] = time.monotonic  # when notifications arrive
    speed: float = 1.0  # the simulated world's time runs this many times real time

    @property
    def kind(self) -> str:
        """What a session records it came from: ``sim`` when this process is the radio (the
        simulator's backends), else ``live`` (bleak's own backends, or the proxies')."""
        live = self.client_backend is None or getattr(self.client_backend, "live", False)
        return "live" if live else "sim"
