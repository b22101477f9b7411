"""How far the roller has turned since the session started, from gyro and gravity together.

The gyro's x rate integrates to the rotation smoothly and exactly, except for its bias (up to
1 deg/s, drifting), which would walk the position away by centimetres a minute. Gravity's
direction in the sensor's y-z plane gives the absolute angle, but only to within what the
roller's own accelerations, ridge vibration and accelerometer errors add.

So we integrate the gyro, and track the slowly varying difference ``c = gravity - integral``
(the negative integral of the bias) with a two-state Kalman filter (``c`` and its rate).
Gravity is averaged over short blocks (0.1 s) and each block is weighted by how much the
roller's motion can disturb it: the rolling centre's own acceleration is known from the gyro
(``R * alpha``) and removed; centripetal and tangential terms of an off-axis sensor are not
known, so fast blocks count less and the still moments (stroke turns, holds) count most.

Lost packets leave no gyro to integrate: short gaps are bridged by the trapezoid rule, long
ones by the gravity angle after the gap (the whole turn nearest to where the roller has been
lately), with the filter's uncertainty widened to match.

Why not imufusion's AHRS: it estimates a 3-D orientation with a fixed gain and cannot use
what we know of rolling (one axis, the centre's acceleration), and driving it one sample at a
time from Python costs more than the whole of this estimator; see docs/estimator.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tracker.core.tuning import FusionConfig

Array = npt.NDArray[np.float64]
G_M_S2 = 9.80665
LONG_GAP_S = 0.25  # beyond this, integrating the rate across a gap is no better than a guess
TURNING_RAD_S = 0.1  # slower than this (0.5 cm/s on a 10 cm roller) the roller is not turning


def _gap_variance(gap_s: Array) -> Array:
    """Variance (rad^2) of the rotation guessed across a gap of this length."""
    return np.minimum(1.5, 4.0 * gap_s**2) ** 2


@dataclass
class _Filter:
    """Kalman filter on c (rad) and its rate v (rad/s), the bias with its sign turned."""

    c: float
    v: float
    t_s: float
    p_cc: float
    p_cv: float
    p_vv: float

    def step(self, t_s: float, z: float, r: float, q: float, extra_var: float) -> None:
        dt = t_s - self.t_s
        self.c += self.v * dt
        self.p_cc += 2 * dt * self.p_cv + dt * dt * self.p_vv + q * dt**3 / 3 + extra_var
        self.p_cv += dt * self.p_vv + q * dt * dt / 2
        self.p_vv += q * dt
        self.t_s = t_s
        s = self.p_cc + r
        k_c, k_v = self.p_cc / s, self.p_cv / s
        y = z - self.c
        self.c += k_c * y
        self.v += k_v * y
        self.p_cc, self.p_cv, self.p_vv = (
            self.p_cc - k_c * self.p_cc,
            self.p_cv - k_c * self.p_cv,
            self.p_vv - k_v * self.p_cv,
        )


class RotationEstimator:
    """Streaming, causal: each call returns the rotation (rad) since the first sample."""

    def __init__(
        self, radius_cm: float, sample_rate_hz: float, config: FusionConfig | None = None
    ) -> None:
        self.config = config or FusionConfig()
        self._radius_m = radius_cm / 100
        self._gap_s = self.config.gap_periods / sample_rate_hz
        self._t0: float | None = None
        self._last: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # t, w, integral, d
        self._filter: _Filter | None = None
        self._reference = 0.0
        self._vib_var = 0.1**2
        # Samples of the block still open: time, d, omega, gap variance, gyro integral.
        self._pending: tuple[Array, ...] = (np.empty(0),) * 5
        self._centre = 0.0  # where the rotation has been lately (rad, absolute)
        self._direction = 0.0  # which way the roller last turned (sign of the rate) ...
        self._turning_since = 0.0  # ... and since when
        self._stroke_s = 0.0  # how long the last finished one-way stroke lasted

    def feed(self, t_s: Array, accel_g: Array, gyro_dps: Array) -> Array:
        """Rotation since the first sample (rad, +x right-hand) at each of these samples."""
        if len(t_s) == 0:
            return np.empty(0)
        # Each long gap needs the filter's state at that moment, so the pieces between long
        # gaps run one after another (there are few; within a piece all is vectorised).
        t_prev = self._last[0] if self._t0 is not None else float(t_s[0])
        cuts = np.flatnonzero(np.diff(t_s, prepend=t_prev) > LONG_GAP_S)
        pieces = [
            self._feed_piece(t_s[a:b], accel_g[a:b], gyro_dps[a:b])
            for a, b in zip([0, *cuts.tolist()], [*cuts.tolist(), len(t_s)], strict=True)
            if b > a
        ]
        return np.concatenate(pieces)

    def _feed_piece(self, t_s: Array, accel_g: Array, gyro_dps: Array) -> Array:
        omega = np.radians(gyro_dps[:, 0])
        theta = np.arctan2(accel_g[:, 1], accel_g[:, 2])
        if self._t0 is None:
            self._t0 = float(t_s[0])
            self._last = (float(t_s[0]), float(omega[0]), 0.0, float(theta[0]))
        t_prev, w_prev, integral_prev, d_prev = self._last
        dt = np.diff(t_s, prepend=t_prev)
        w_before = np.concatenate(([w_prev], omega[:-1]))
        step = 0.5 * (omega + w_before) * dt
        if dt[0] > LONG_GAP_S and not self._steady_across(dt[0]):
            # The gyro knows nothing of a long gap. The person was rolling back and forth, so
            # guess the roller is back at the centre of its recent motion: gravity after the
            # gap then picks the whole turn nearest to it. Unless the strokes are slower than
            # the gap is long: the trapezoid across it is the better guess then, as a slow
            # stroke or a long glide can carry the roller over half a turn from the centre.
            step[0] = self._centre - (integral_prev + self._correction_at(float(t_s[0])))
        self._follow_direction(t_s, omega)
        integral = integral_prev + np.cumsum(step)
        d = np.unwrap(np.concatenate(([d_prev], theta - integral)))[1:]
        gap_var = np.where(dt > self._gap_s, _gap_variance(dt), 0.0)
        self._last = (float(t_s[-1]), float(omega[-1]), float(integral[-1]), float(d[-1]))
        return integral + self._blocks(t_s, d, omega, gap_var, integral)

    def _steady_across(self, gap_s: float) -> bool:
        """Whether the person's strokes (the last one finished, or the one under way) last
        longer than the gap: then it holds at most one turn back, near which the roller is
        slow, and the rate at its two ends tells best how far the roller went."""
        under_way_s = self._last[0] - self._turning_since
        return self._direction != 0 and max(self._stroke_s, under_way_s) >= gap_s

    def _follow_direction(self, t_s: Array, omega: Array) -> None:
        turning = np.abs(omega) > TURNING_RAD_S
        signs = np.sign(omega[turning])
        if not signs.size:
            return
        flips = t_s[turning][np.diff(signs, prepend=self._direction or signs[0]) != 0]
        if flips.size:
            starts = np.concatenate(([self._turning_since], flips))
            self._stroke_s = float(starts[-1] - starts[-2])
            self._turning_since = float(flips[-1])
        self._direction = float(signs[-1])

    def _correction_at(self, t_s: float) -> float:
        f = self._filter
        return f.c + f.v * (t_s - f.t_s) if f else 0.0

    def _blocks(
        self, t_new: Array, d_new: Array, w_new: Array, gap_new: Array, integral_new: Array
    ) -> Array:
        """Run the filter over the blocks that closed; return ``c`` at each new sample, less
        the start angle as it was known then (so a batch run equals a live one)."""
        cfg = self.config
        pt, pd, pw, pg, pi = self._pending
        n_old = len(pt)
        t = np.concatenate((pt, t_new))
        d = np.concatenate((pd, d_new))
        w = np.concatenate((pw, w_new))
        gv = np.concatenate((pg, gap_new))
        integral = np.concatenate((pi, integral_new))
        assert self._t0 is not None
        had_filter = self._filter is not None
        cell = np.floor((t - self._t0) / cfg.block_s)
        start = np.ones(len(t), dtype=bool)
        start[1:] = (cell[1:] != cell[:-1]) | (gv[1:] > 0)
        first = np.flatnonzero(start)
        block = np.cumsum(start) - 1
        count = np.diff(np.append(first, len(t)))
        sum_d = np.add.reduceat(d, first)
        sum_d2 = np.add.reduceat(d * d, first)
        sum_w2 = np.add.reduceat(w * w, first)
        mean_t = np.add.reduceat(t, first) / count
        mean_integral = np.add.reduceat(integral, first) / count
        last = np.append(first[1:], len(t)) - 1
        duration = t[last] - t[first]
        alpha = np.divide(w[last] - w[first], duration, out=np.zeros(len(first)),
                          where=duration > 0)
        mean_d = sum_d / count + np.arctan(alpha * self._radius_m / G_M_S2)
        spread = np.maximum(sum_d2 / count - (sum_d / count) ** 2, 0.0)
        disturbance = cfg.sensor_offset_max_m * (sum_w2 / count + np.abs(alpha)) / G_M_S2
        r_sys = (cfg.accel_floor_rad + disturbance) ** 2

        # The state after each closed block; index 0 is the state before this call's first block.
        f = self._filter
        states_c = [f.c if f else 0.0]
        states_v = [f.v if f else 0.0]
        states_t = [f.t_s if f else 0.0]
        states_ref = [self._reference]
        closed = len(first) - 1
        had_centre = had_filter
        for n, z, tm, rs, spread_b, gap_b, phi_b in zip(
            count[:closed].tolist(), mean_d[:closed].tolist(), mean_t[:closed].tolist(),
            r_sys[:closed].tolist(), spread[:closed].tolist(), gv[first[:closed]].tolist(),
            mean_integral[:closed].tolist(), strict=True,
        ):
            if n >= 3:  # learn the vibration level, for blocks too short to show it
                self._vib_var += 0.05 * (spread_b - self._vib_var)
            r = self._vib_var / n + rs
            if self._filter is None:
                self._filter = _Filter(z, 0.0, tm, r, 0.0, cfg.bias_prior_rad_s**2)
            else:
                self._filter.step(tm, z, r, cfg.bias_walk_rad2_s3, gap_b)
            f = self._filter
            if tm - self._t0 < cfg.reference_s:
                self._reference = f.c - f.v * (tm - self._t0)
            states_c.append(f.c)
            states_v.append(f.v)
            states_t.append(f.t_s)
            states_ref.append(self._reference)
            phi_b += f.c
            self._centre += (phi_b - self._centre) * (cfg.block_s / cfg.centre_s if had_centre
                                                      else 1.0)
            had_centre = True
        keep = slice(first[-1], None)
        self._pending = (t[keep], d[keep], w[keep], gv[keep], integral[keep])

        b = block[n_old:]
        t_out = t[n_old:]
        sc, sv, st = np.array(states_c), np.array(states_v), np.array(states_t)
        ref = np.array(states_ref)[b]
        c = sc[b] + sv[b] * (t_out - st[b])
        # Right after a long gap the filter's guess is stale: the gravity seen so far in the
        # block is the best we know.
        blind = gv[first] > 0.1**2
        if blind[b].any():
            total = np.cumsum(d)
            before = total[first] - d[first]
            running = (total - before[block]) / (np.arange(len(t)) - first[block] + 1)
            c = np.where(blind[b], running[n_old:], c)
        # Before the first block closes there is no filter: the gyro alone, from zero.
        if not had_filter:
            c = np.where(b == 0, ref, c)
        result: Array = c - ref
        return result
