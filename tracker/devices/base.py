"""What every device profile provides: how to find it, start it, stop it and decode it.

A profile is a description plus a pure decoder; the Bluetooth I/O that uses it is
:mod:`tracker.devices.ble`'s alone, so each profile can be tested on bytes without a radio.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from tracker.core.errors import MachineError
from tracker.core.status import Identity

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
    torn: int = 0  # frames split across notifications (some profiles can tell)
    restarts: int = 0  # the device started again (its counters from zero) mid-session

    @property
    def loss_pct(self) -> float:
        expected = self.packets + self.lost
        return 100.0 * self.lost / expected if expected else 0.0


class Decoder(Protocol):
    """Turns a device's notifications into timed samples; never raises on bad bytes."""

    stats: LinkStats
    log: RollerLog  # names the roller in each line: its link sets it (``ble.Link``)

    def feed(self, data: bytes, arrival_s: float) -> Samples | None:
        """Samples in one notification (None when it held none), ``arrival_s`` when it came."""
        ...

    def reconnected(self) -> None:
        """A new connection to the same device begins (it may have slept and woken): what
        the decoder checks packet by packet against the one before starts afresh."""
        ...


@dataclass(frozen=True)
class Profile:
    """One kind of device: its GATT layout, its commands and its decoder."""

    name: str  # as given to --profile and stored per device
    label: str  # what people call it
    manufacturer: str  # who makes it, and its model: when the device does not say
    model: str
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
    #: Devices that report the rate they took (WitMotion): the commands that ask, the
    #: answer read off the decoder (Hz; None until it comes), and further ways to set a
    #: rate, tried in turn while the rate in force is not the one asked.
    rate_query: tuple[bytes, ...] = ()
    rate_answer: Callable[[Decoder], int | None] | None = None
    retry_rate: Callable[[int], tuple[tuple[bytes, ...], ...]] = lambda rate_hz: ()
    #: What the link's own figures say to check, given the rate in force (doctor, summary).
    advice: Callable[[Decoder, int], tuple[str, ...]] = lambda decoder, rate_hz: ()

    def identity(self, address: str, said: Identity | None = None) -> Identity:
        """Who the device is: what it ``said`` of itself, the rest from this profile; a name
        from the model and the address's end, so two sensors of a kind stay apart."""
        said = said or Identity(address)
        return Identity(address, said.name or f"{self.model} {address.replace(':', '')[-4:]}",
                        said.manufacturer or self.manufacturer, said.model or self.model,
                        said.firmware)

    def nearest_rate(self, rate_hz: float) -> int:
        """The supported rate closest to the one asked for."""
        return min(self.rates_hz, key=lambda r: abs(r - rate_hz))


class FrameError(MachineError, ValueError):
    """Bytes that are not a frame of the profile's protocol: a fault of the device or the link
    (exit 1), still a ``ValueError`` to the decoders that skip a bad frame."""


class RollerLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """A logger whose every line names its roller (``C0:FF:EE:00:00:01: dropped ...``) and
    carries it as ``record.roller``: a gateway watches many rollers, and a line that does not
    say which is no use; the repeat filter (``tracker.cli.logs``) counts by it."""

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]
                ) -> tuple[Any, MutableMapping[str, Any]]:
        roller = str((self.extra or {}).get("roller", ""))
        kwargs["extra"] = {**(kwargs.get("extra") or {}), "roller": roller}
        return (f"{roller}: {msg}" if roller else msg), kwargs


def roller_log(logger: logging.Logger, address: str = "") -> RollerLog:
    """``logger`` naming ``address`` (none: a decoder not yet told its roller's)."""
    return RollerLog(logger, {"roller": address})
