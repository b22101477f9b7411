"""Sample times for a stream that carries none, from when its frames arrive.

Some sensors (WitMotion's) send one frame per sample and no timestamp. Arrival times carry
the radio's jitter and bunching: BLE delivers notifications only at connection events, so
frames produced 10 ms apart arrive in clumps 7.5-50 ms apart. Used as sample times, that
jitter would become position error (the gyro integral multiplies each rate by its interval).

The device's own clock is steady, so frame ``k`` was produced at ``t0 + k * period``. We
fit that line to the arrival times by exponentially weighted least squares (the radio's
delay averages out; a constant delay shifts every sample alike and moves nothing), and
stamp each frame with the line, not its arrival. BLE retransmits notifications until they
arrive, so frames are counted one after another; only an arrival well beyond the line's
prediction (an outage, a full buffer) skips the frames that could have been sent meanwhile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class ArrivalClock:
    nominal_hz: float
    window_s: float = 20.0  # memory of the fit
    min_span_s: float = 2.0  # before this much stream, trust the nominal rate
    tolerance: float = 0.05  # the device's rate is within this fraction of nominal
    gap_s: float = 0.25  # arriving this late (beyond the radio's bunching) means frames lost

    def __post_init__(self) -> None:
        self._forget = math.exp(-1.0 / (self.window_s * self.nominal_hz))
        self._sums = [0.0] * 5  # weights, k, a, k*k, k*a (k relative to the first frame)
        self._k = -1
        self._first_s: float | None = None
        self._last_t = -math.inf

    @property
    def period_s(self) -> float:
        """The device's sample period as estimated so far."""
        return self._line()[1]

    @property
    def rate_hz(self) -> float:
        return 1.0 / self.period_s

    def stamp(self, arrival_s: float) -> tuple[float, int]:
        """The sample time of a frame that arrived at ``arrival_s``, and frames lost before it."""
        if self._first_s is None:
            self._first_s = arrival_s
        a = arrival_s - self._first_s
        k = self._k + 1
        intercept, period = self._line()
        late = a - (intercept + k * period)
        if self._k >= 0 and late > max(self.gap_s, 10 * period):
            k += round(late / period)
        lost = k - self._k - 1
        self._k = k
        self._add(k, a)
        intercept, period = self._line()
        t = max(intercept + k * period, self._last_t + 0.5 * period)
        self._last_t = t
        return self._first_s + t, lost

    def _add(self, k: int, a: float) -> None:
        s = self._sums
        f = self._forget
        for i, value in enumerate((1.0, k, a, k * k, k * a)):
            s[i] = s[i] * f + value

    def _line(self) -> tuple[float, float]:
        """Intercept and slope (the period) of arrival time against frame number."""
        w, sk, sa, skk, ska = self._sums
        nominal = 1.0 / self.nominal_hz
        if w == 0.0:
            return 0.0, nominal
        mean_k, mean_a = sk / w, sa / w
        var_k = skk / w - mean_k * mean_k
        period = nominal
        if math.sqrt(max(var_k, 0.0)) * nominal * math.sqrt(12) >= self.min_span_s:
            slope = (ska / w - mean_k * mean_a) / var_k
            period = min(max(slope, nominal * (1 - self.tolerance)),
                         nominal * (1 + self.tolerance))
        return mean_a - period * mean_k, period
