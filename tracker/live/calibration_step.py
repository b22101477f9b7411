"""The calibration step, live: guide the person and stream until it has been done.

:class:`Steps` follows the stream (pure): the roller must lie still, then roll away and come
back, then lie still again. :func:`record` streams from a device through :class:`Link` until
then (or a time limit) and returns the samples for :func:`tracker.core.calibration.calibrate`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from tracker.core.calibration import ROLLING_DPS, STILL_DPS, CalibrationError
from tracker.devices import Profile
from tracker.devices.ble import DeviceInfo, Link, LinkEvents

Array = npt.NDArray[np.float64]

#: What to tell the person at each step.
PROMPTS = {
    "still": "Lay the roller on the floor across in front of you, and keep it still ...",
    "roll": "Now roll it away from you{along}, hold it a moment, and roll it back. Note which "
            "end is on your left: that end is marked.",
    "settle": "Rolling ... bring it back to where it started and keep it still.",
    "done": "Done.",
}


def prompt(phase: str, distance_cm: float | None) -> str:
    along = f" exactly {distance_cm:g} cm along a tape measure" if distance_cm else ""
    return PROMPTS[phase].format(along=along)


@dataclass
class Steps:
    """Which step of the calibration the stream shows: still, roll, settle, done."""

    still_s: float = 2.0
    settle_s: float = 1.0
    phase: str = "still"
    _quiet_since: float | None = None
    _checked: bool = False
    _rates: list[Array] = field(default_factory=list)
    _times: list[Array] = field(default_factory=list)

    def feed(self, t_s: Array, gyro_dps: Array) -> bool:
        """Take samples; True when the phase changed."""
        before = self.phase
        self._times.append(t_s)
        self._rates.append(gyro_dps)
        for t, rate in zip(t_s, np.linalg.norm(gyro_dps, axis=1), strict=True):
            if rate >= STILL_DPS:
                self._quiet_since = None
                if rate > ROLLING_DPS and self.phase == "roll":
                    self.phase = "settle"
                continue
            if self._quiet_since is None:
                self._quiet_since, self._checked = t, False
            quiet = t - self._quiet_since
            if self.phase == "still" and quiet >= self.still_s:
                self.phase = "roll"
            elif self.phase == "settle" and quiet >= self.settle_s and not self._checked:
                self._checked = True  # once a pause: still out there, or back?
                if self._came_back():
                    self.phase = "done"
        return self.phase != before

    def _came_back(self) -> bool:
        """Has the roller turned back most of the way it went (not just paused out there)?"""
        t, w = np.concatenate(self._times), np.concatenate(self._rates)
        w = w - np.median(w[: max(1, len(w) // 10)], axis=0)
        rolling = w[np.linalg.norm(w, axis=1) > ROLLING_DPS]
        axis = np.linalg.eigh(rolling.T @ rolling)[1][:, 2]
        turned = np.cumsum(w @ axis * np.diff(t, prepend=t[0]))
        return bool(abs(turned[-1]) < 0.3 * np.abs(turned).max())


async def record(
    address: str, profile: Profile, on_phase: Callable[[str], None], *, rate_hz: int = 100,
    timeout_s: float = 60.0, scanner_backend: Any = None, client_backend: Any = None,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[Array, DeviceInfo]:
    """Stream the calibration step; its samples (n, 7) in the sensor's own axes."""
    steps = Steps()
    chunks: list[Array] = []
    stop = asyncio.Event()

    def on_samples(t_s: Array, accel_g: Array, gyro_dps: Array) -> None:
        chunks.append(np.column_stack([t_s, accel_g, gyro_dps]))
        if steps.feed(t_s, gyro_dps):
            on_phase(steps.phase)
            if steps.phase == "done":
                stop.set()

    link = Link(address, LinkEvents(on_samples), rate_hz, reconnect_within_s=5.0,
                scanner_backend=scanner_backend, client_backend=client_backend,
                profile=profile, clock=clock)
    on_phase(steps.phase)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(link.run(stop), timeout_s)
    if steps.phase != "done":
        raise CalibrationError(f"the calibration was not finished within {timeout_s:g} s "
                               f"(stuck at: {prompt(steps.phase, None)})")
    return np.concatenate(chunks), link.info
