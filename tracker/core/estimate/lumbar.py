"""Lumbar contact: raised at the first sample the contact is decidedly inside the band.

The alert needs the estimate ``alert_depth_cm`` inside the band, so a stroke that only
grazes the edge, or estimation noise there, does not cry wolf; the event it opens is dated
from the moment the contact crossed into the band and closes when it leaves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tracker.core.formats.roller_analysis import LumbarEvent

Array = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]


@dataclass
class LumbarWatch:
    """Streaming, causal lumbar-contact detection over ``[top_cm, bottom_cm]``."""

    top_cm: float
    bottom_cm: float
    alert_depth_cm: float = 1.0
    events: list[LumbarEvent] = field(default_factory=list)
    _inside_since: float | None = None  # when the contact last crossed into the band
    _alert_s: float | None = None  # the alert of the event under way

    @property
    def active(self) -> bool:
        return self._alert_s is not None

    def update(self, t_s: Array, s_cm: Array) -> list[float]:
        """Feed positions; return the times of alerts raised in this chunk."""
        depth = np.minimum(s_cm - self.top_cm, self.bottom_cm - s_cm)
        inside = depth > 0
        if not inside.any() and self._inside_since is None:
            return []
        deep = depth >= self.alert_depth_cm
        raised: list[float] = []
        i, n = 0, len(t_s)
        while i < n:
            if self._alert_s is not None:  # an event under way: find where it leaves the band
                out = np.flatnonzero(~inside[i:])
                if not out.size:
                    break
                i += int(out[0])
                assert self._inside_since is not None
                self.events.append(LumbarEvent(self._inside_since, float(t_s[i]), self._alert_s))
                self._alert_s = self._inside_since = None
                continue
            inward = np.flatnonzero(deep[i:])
            if not inward.size:
                break
            k = i + int(inward[0])
            outside_before = np.flatnonzero(~inside[i:k])
            if outside_before.size:
                self._inside_since = float(t_s[i + int(outside_before[-1]) + 1])
            elif self._inside_since is None:
                self._inside_since = float(t_s[i])
            self._alert_s = float(t_s[k])
            raised.append(self._alert_s)
            i = k
        self._inside_since = self._entry_at_end(t_s, inside)
        return raised

    def _entry_at_end(self, t_s: Array, inside: Mask) -> float | None:
        """When the contact entered the band, if it is inside at the end of this chunk."""
        if not inside[-1]:
            return None
        outside = np.flatnonzero(~inside)
        if outside.size:
            return float(t_s[int(outside[-1]) + 1])
        return self._inside_since if self._inside_since is not None else float(t_s[0])

    def so_far(self, now_s: float) -> list[LumbarEvent]:
        """Finished events, plus the one under way (ending ``now_s`` for now)."""
        if self._alert_s is not None and self._inside_since is not None:
            return [*self.events, LumbarEvent(self._inside_since, now_s, self._alert_s)]
        return list(self.events)

    def finish(self, end_s: float) -> list[LumbarEvent]:
        """Close an event still under way at the end of the session."""
        self.events = self.so_far(end_s)
        self._alert_s = self._inside_since = None
        return self.events
