"""Has the roller begun to roll? The gateway's trigger for a session. Pure.

A roller that wakes is picked up, carried and placed before anyone rolls it: those turn it
about every axis, briefly. Rolling turns it about its own axis (+x), steadily one way; at
the taught pace slowly: a short glute stroke is 3 cm in 4 s, 23 degrees on a 15 cm roller.
So rolling has begun once the roller has turned :data:`ROLLED_DEG` about +x within
:data:`WINDOW_S`: 2 cm of contact travel on a 15 cm roller, the shortest stroke counted. A
gyro bias (up to 1 degree a second: 3 in the window), or breathing on a held spot (a few
millimetres), comes nowhere near it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
ROLLED_DEG = 15.0
WINDOW_S = 3.0
#: Turning slower than this about +x is resting (deg/s).
REST_DPS = 5.0


class RollingStart:
    """Fed the stream in the roller's axes; says when rolling begins, and how long the roller
    has rested (for waiting until a person has stopped before watching again)."""

    def __init__(self) -> None:
        self._t: Array = np.empty(0)
        self._angle: Array = np.empty(0)  # turned about +x since the first sample (deg)
        self._moved_at: float | None = None

    def feed(self, t_s: Array, gyro_dps: Array) -> bool:
        """Whether the roller has turned :data:`ROLLED_DEG` within :data:`WINDOW_S`, up to
        the last of these samples."""
        gx = gyro_dps[:, 0]
        if len(self._t):
            dt = np.diff(np.concatenate(([self._t[-1]], t_s)))
            start = self._angle[-1]
        else:
            dt = np.concatenate(([0.0], np.diff(t_s)))
            start = 0.0
        angle = start + np.cumsum(gx * np.clip(dt, 0.0, 0.1))
        moving = np.flatnonzero(np.abs(gx) >= REST_DPS)
        if len(moving):
            self._moved_at = float(t_s[moving[-1]])
        elif self._moved_at is None:
            self._moved_at = float(t_s[0])
        self._t = np.concatenate((self._t, t_s))
        self._angle = np.concatenate((self._angle, angle))
        keep = self._t >= self._t[-1] - WINDOW_S
        self._t, self._angle = self._t[keep], self._angle[keep]
        return bool(np.ptp(self._angle) >= ROLLED_DEG)

    def rested_s(self) -> float:
        """How long the roller has not turned about its axis, up to the last sample."""
        if not len(self._t) or self._moved_at is None:
            return 0.0
        return float(self._t[-1] - self._moved_at)

    def reset(self) -> None:
        """Forget what was rolled: after a session, watch for the next one afresh."""
        self._t, self._angle = np.empty(0), np.empty(0)
        self._moved_at = None
