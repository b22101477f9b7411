"""What every device profile provides: how to find it, start it, stop it and decode it.

A profile is a description plus a pure decoder; the Bluetooth I/O that uses it is
:mod:`tracker.devices.ble`'s alone, so each profile can be tested on bytes without a radio.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
Samples = tuple[Array, Array, Array]  # t_s (n,), accel_g (n, 3), gyro_dps (n, 3)
G_M_S2 = 9.80665


@dataclass
class LinkStats:
    """What a decoder has seen of a link: packets, and those lost, malformed or unknown."""

    packets: int = 0
    lost: int = 0
    malformed: int = 0
    unknown: int = 0  # well-formed frames of a kind we do not use

    @property
    def loss_pct(self) -> float:
        expected = self.packets + self.lost
        return 100.0 * self.lost / expected if expected else 0.0


class Decoder(Protocol):
    """Turns a device's notifications into timed samples; never raises on bad bytes."""

    stats: LinkStats

    def feed(self, data: bytes, arrival_s: float) -> Samples | None:
        """Samples in one notification (None when it held none), ``arrival_s`` when it came."""
        ...


@dataclass(frozen=True)
class Profile:
    """One kind of device: its GATT layout, its commands and its decoder."""

    name: str  # as given to --profile and stored per device
    label: str  # what people call it
    service_uuid: str
    notify_uuid: str
    write_uuid: str
    rates_hz: tuple[int, ...]
    name_prefixes: tuple[str, ...]  # advertised names that identify it without its service
    configure: Callable[[int], tuple[bytes, ...]]  # commands to set a rate, before notifying
    start: Callable[[int], tuple[bytes, ...]]  # commands to stream, once notifications are on
    stop: Callable[[], tuple[bytes, ...]]
    decoder: Callable[[int], Decoder]
    config_uuid: str | None = None  # a readable configuration (our roller's)
    axes_known: bool = False  # the firmware's axes follow docs/conventions.md
    command_gap_s: float = 0.0  # pause after each command; some firmware needs it

    def nearest_rate(self, rate_hz: float) -> int:
        """The supported rate closest to the one asked for."""
        return min(self.rates_hz, key=lambda r: abs(r - rate_hz))


class FrameError(ValueError):
    """Bytes that are not a frame of the profile's protocol."""
