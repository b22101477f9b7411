"""How far the position estimate may be off, and the caution that follows from it.

Every position is measured from where the routine says the roller starts, so the largest
error is the one no sensor sees: where the person really put it. Four independent sources,
added as variances (docs/estimator.md gives the reasoning for each default):

- **placement**: the start is off by a few centimetres, the same all session;
- **scale**: foam compresses under the body and the body slides a little on the roller, so
  one turn moves the contact a few percent more or less than the nominal radius says; the
  error grows with the distance from the start;
- **creep**: the foam gives a little more one way than the other, so the body creeps along
  the roller by a fraction of every stroke, always the same way; the error grows with the
  distance rolled;
- **slip**: small shifts of the body on the mat add up like a random walk, so the error
  grows with the square root of the distance rolled.

The caution is raised while the estimate comes within reach of the lumbar band: within
``margin_cm``, the error it is sure to cover, or ``level_sd`` standard deviations when those
are wider (late in a long part): the contact is *possibly* there. It is not the ±2 SD
interval: over a long part that widens to 8 cm and more, and a caution on for a third of
every session near the band is one nobody heeds (``python -m bench.coverage`` prints the
trade-off). The alert (:mod:`tracker.core.estimate.lumbar`) still needs the estimate itself
inside: *probably* there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tracker.core.formats.roller_analysis import CautionEvent
from tracker.core.tuning import CLEAR_CM, CLEAR_S, Uncertainty

Array = npt.NDArray[np.float64]


def sd_cm(model: Uncertainty, displacement_cm: Array, travel_cm: Array) -> Array:
    """Standard deviation of the position under ``model``, given how far the contact is from
    its start and how far it has rolled since."""
    scale = model.scale_sd_percent / 100 * displacement_cm
    creep = model.creep_sd_percent / 100 * travel_cm
    slip_var = model.slip_sd_cm_per_10m**2 * travel_cm / 1000.0
    return np.sqrt(model.placement_sd_cm**2 + scale**2 + creep**2 + slip_var)


@dataclass
class PositionSpread:
    """Streaming standard deviation of the position, for a session starting at ``start_cm``."""

    model: Uncertainty
    start_cm: float
    travel_cm: float = 0.0
    _last_cm: float | None = None

    def update(self, s_cm: Array) -> Array:
        previous = s_cm[0] if self._last_cm is None else self._last_cm
        steps = np.abs(np.diff(s_cm, prepend=previous))
        travel = self.travel_cm + np.cumsum(steps)
        self.travel_cm, self._last_cm = float(travel[-1]), float(s_cm[-1])
        return sd_cm(self.model, np.abs(s_cm - self.start_cm), travel)


@dataclass
class CautionWatch:
    """Streaming caution over the band ``[top_cm, bottom_cm]``: on while the estimate is
    within reach of it (``margin_cm``, or ``level_sd`` standard deviations if wider); off
    once it has been :data:`CLEAR_CM` beyond reach for ``clear_s``, dated from when it
    cleared."""

    top_cm: float
    bottom_cm: float
    margin_cm: float = 2.0
    level_sd: float = 0.75
    clear_s: float = CLEAR_S
    events: list[CautionEvent] = field(default_factory=list)
    _since: float | None = None  # start of the caution under way
    _clear_since: float | None = None  # when its interval last cleared the band

    @property
    def active(self) -> bool:
        return self._since is not None

    def update(self, t_s: Array, s_cm: Array, sd_cm: Array) -> list[float]:
        """Feed positions and their spread; return the times of cautions raised."""
        reach = np.maximum(self.margin_cm, self.level_sd * sd_cm)
        gap = np.maximum(self.top_cm - (s_cm + reach), (s_cm - reach) - self.bottom_cm)
        near, clear = np.flatnonzero(gap <= 0), np.flatnonzero(gap > CLEAR_CM)
        raised: list[float] = []
        i, n = 0, len(t_s)
        while i < n:
            if self._since is None:
                i = _first(near, i, n)
                if i < n:
                    self._since, self._clear_since = float(t_s[i]), None
                    raised.append(self._since)
            elif self._clear_since is None:
                i = _first(clear, i, n)
                if i < n:
                    self._clear_since = float(t_s[i])
            else:
                back = _first(near, i, n)
                i = min(back, max(i, int(np.searchsorted(t_s, self._clear_since + self.clear_s))))
                if i < back:
                    self.events.append(CautionEvent(self._since, self._clear_since))
                    self._since = None
                if i < n:
                    self._clear_since = None
        return raised

    def so_far(self, now_s: float) -> list[CautionEvent]:
        """Finished cautions, plus the one under way (ending ``now_s`` for now)."""
        if self._since is None:
            return list(self.events)
        return [*self.events, CautionEvent(self._since, self._clear_since or now_s)]

    def finish(self, end_s: float) -> list[CautionEvent]:
        self.events, self._since, self._clear_since = self.so_far(end_s), None, None
        return self.events


def _first(indices: npt.NDArray[np.intp], start: int, n: int) -> int:
    """The first of the sorted ``indices`` from ``start`` on, or ``n`` if none."""
    k = int(np.searchsorted(indices, start))
    return int(indices[k]) if k < len(indices) else n
