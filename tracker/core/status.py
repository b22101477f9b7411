"""A live session as whoever watches it sees it: the dashboard, the status line, the bridge."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tracker.core.estimate import LiveState
from tracker.core.program_run import ProgramView

_MAC = re.compile(r"^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$")


@dataclass(frozen=True)
class Identity:
    """Who a device is, as it says of itself (Device Information) or its profile says of it.

    Empty strings are what is not known.
    """

    address: str
    name: str = ""
    manufacturer: str = ""
    model: str = ""
    firmware: str = ""

    @property
    def mac(self) -> str | None:
        """The Bluetooth MAC, upper case as Home Assistant's Bluetooth integration writes it
        (its device registry matches connections exactly, so the same sensor becomes one
        device); None where the address is not one (macOS gives each device a UUID)."""
        return self.address.upper() if _MAC.match(self.address) else None


@dataclass(frozen=True)
class Status:
    link: str  # connecting, live, reconnecting, lost
    attempt: int
    state: LiveState | None
    loss_pct: float
    battery_pct: int | None
    warning: str | None = None
    identity: Identity | None = None  # once the link has been live
    recording: bool = False  # a session is in progress (the gateway waits for rolling)
    routine: str | None = None  # the area rolled (or being placed for), while recording
    program: ProgramView | None = None  # the program followed, if any
    rssi_dbm: int | None = None  # the roller's signal when it was last found (dBm)
