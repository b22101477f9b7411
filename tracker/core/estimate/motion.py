"""Strokes and pauses, from the contact position sampled on a regular grid (about 20 Hz).

Both run on a decimated track rather than every IMU sample: a stroke lasts a third of a
second or more and a pause three seconds, so 20 points a second see every turn, and the
per-point Python loops stay cheap at any sample rate.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]


class Decimator:
    """Keeps the first sample in each ``1 / rate_hz`` slot of the session clock."""

    def __init__(self, rate_hz: float) -> None:
        self._period_s = 1.0 / rate_hz
        self._t0: float | None = None
        self._last_slot = -1.0

    def pick(self, t_s: Array) -> npt.NDArray[np.intp]:
        """Indices of the samples in ``t_s`` that open a new slot."""
        if len(t_s) == 0:
            return np.empty(0, dtype=np.intp)
        if self._t0 is None:
            self._t0 = float(t_s[0])
        slot = np.floor((t_s - self._t0) / self._period_s)
        new = np.diff(slot, prepend=self._last_slot) > 0
        self._last_slot = float(slot[-1])
        return np.flatnonzero(new)


@dataclass
class StrokeCounter:
    """Counts runs of travel in one direction of at least ``min_cm``.

    A turn is confirmed once the contact comes back ``reversal_cm`` from the furthest point,
    so breathing sway and sensor noise never split a stroke.
    """

    min_cm: float = 2.0
    reversal_cm: float = 0.5
    count: int = 0
    _start: float | None = None
    _extreme: float = 0.0
    _direction: int = 0

    def update(self, s_cm: list[float]) -> None:
        for s in s_cm:
            if self._start is None:
                self._start = self._extreme = s
            elif self._direction == 0:
                if abs(s - self._start) >= self.reversal_cm:
                    self._direction = 1 if s > self._start else -1
                    self._extreme = s
            elif (s - self._extreme) * self._direction > 0:
                self._extreme = s
            elif (self._extreme - s) * self._direction >= self.reversal_cm:
                self._close()
                self._direction = -self._direction
                self._extreme = s

    def _close(self) -> None:
        assert self._start is not None
        if abs(self._extreme - self._start) >= self.min_cm:
            self.count += 1
        self._start = self._extreme

    @property
    def total(self) -> int:
        """Strokes so far, counting the one under way if it is already long enough."""
        ongoing = self._start is not None and abs(self._extreme - self._start) >= self.min_cm
        return self.count + int(ongoing and self._direction != 0)


@dataclass
class PauseDetector:
    """Finds stretches of at least ``min_s`` where the contact moves slower than ``speed_cm_s``.

    Speed at a point is measured between the points ``reach`` before and after it, so a
    point's verdict waits for ``reach`` more points, and the pause edges fall where motion
    stops rather than a window later.
    """

    speed_cm_s: float = 1.0
    min_s: float = 3.0
    reach: int = 3
    pauses: list[tuple[float, float]] = field(default_factory=list)
    _points: deque[tuple[float, float]] = field(default_factory=deque)
    _still_since: float | None = None
    _still_until: float = 0.0
    _judging: bool = False  # whether the buffer has filled, so its older half is judged

    def update(self, t_s: list[float], s_cm: list[float]) -> None:
        points = self._points
        for point in zip(t_s, s_cm, strict=True):
            points.append(point)
            if len(points) == 2 * self.reach + 1:
                self._judging = True
                self._judge(self.reach)
                points.popleft()

    def _judge(self, centre: int) -> None:
        points = self._points
        (t_a, s_a), (t_b, s_b) = points[max(0, centre - self.reach)], points[-1]
        t_c = points[centre][0]
        if abs(s_b - s_a) < self.speed_cm_s * (t_b - t_a):
            if self._still_since is None:
                self._still_since = t_c
            self._still_until = t_c
        elif self._still_since is not None:
            self._close()

    def _close(self) -> None:
        assert self._still_since is not None
        if self._still_until - self._still_since >= self.min_s:
            self.pauses.append((self._still_since, self._still_until))
        self._still_since = None

    def finish(self) -> list[tuple[float, float]]:
        """Judge the last points on what follows them, and close a pause under way."""
        first = self.reach if self._judging else 0
        for centre in range(first, len(self._points)):
            self._judge(centre)
        if self._still_since is not None:
            self._close()
        self._points.clear()
        return self.pauses

    def so_far(self) -> list[tuple[float, float]]:
        """Finished pauses, plus the stillness under way once it is long enough to count."""
        if self._still_since is not None and self._still_until - self._still_since >= self.min_s:
            return [*self.pauses, (self._still_since, self._still_until)]
        return list(self.pauses)

    @property
    def paused_s(self) -> float:
        return sum(b - a for a, b in self.so_far())

    @property
    def still_since(self) -> float | None:
        """When the stillness under way began (it may not be a pause yet)."""
        return self._still_since
