"""The contact's path along the body and the roller rotation it causes.

A session is a list of :class:`Move`: the contact glides from ``s0_cm`` to ``s1_cm`` with a
half-cosine speed profile (zero speed at both ends, as a person's strokes are), optionally with
a small breathing sway on top (the holds on tight spots). Everything is analytic in time, so
any instant can be evaluated on its own: the live peripheral streams the same model in chunks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Move:
    """One glide of the contact point (a stroke, a transition, or a hold when s0 == s1)."""

    t0_s: float
    t1_s: float
    s0_cm: float
    s1_cm: float
    slip: float = 0.0  # body travel per roller travel, minus one, during this move
    sway_cm: float = 0.0  # breathing sway amplitude on a hold
    sway_cycles: int = 0


@dataclass(frozen=True)
class Kinematics:
    """The state of contact and roller at given instants (SI inside, cm for positions)."""

    s_cm: Array
    v_cm_s: Array
    a_cm_s2: Array
    phi_rad: Array  # roller rotation about its axis (+x, right-hand rule)
    omega_rad_s: Array
    alpha_rad_s2: Array
    travel_cm: Array  # cumulative surface travel, for the texture's vibration phase


class Trajectory:
    """Evaluate a sequence of moves at any instants, vectorised."""

    def __init__(self, moves: Sequence[Move], radius_cm: float, phi0_rad: float = 0.0) -> None:
        if not moves:
            raise ValueError("a trajectory needs at least one move")
        self.moves = tuple(moves)
        self.radius_cm = radius_cm
        self._t0 = np.array([m.t0_s for m in moves])
        self._t1 = np.array([m.t1_s for m in moves])
        self._s0 = np.array([m.s0_cm for m in moves])
        self._ds = np.array([m.s1_cm - m.s0_cm for m in moves])
        self._slip = np.array([m.slip for m in moves])
        self._sway = np.array([m.sway_cm for m in moves])
        self._cycles = np.array([m.sway_cycles for m in moves], dtype=float)
        roll = -self._ds / (radius_cm * (1.0 + self._slip))
        self._phi0 = phi0_rad + np.concatenate(([0.0], np.cumsum(roll)[:-1]))
        self._travel0 = np.concatenate(([0.0], np.cumsum(np.abs(self._ds))[:-1]))

    @property
    def end_s(self) -> float:
        return float(self._t1[-1])

    def at(self, t_s: npt.ArrayLike) -> Kinematics:
        t = np.asarray(t_s, dtype=float)
        k = np.clip(np.searchsorted(self._t0, t, side="right") - 1, 0, len(self._t0) - 1)
        duration = self._t1[k] - self._t0[k]
        inside = (t >= self._t0[k]) & (t <= self._t1[k])
        tau = np.clip((t - self._t0[k]) / duration, 0.0, 1.0)
        ds, sway, cycles = self._ds[k], self._sway[k], self._cycles[k]
        w_sway = 2 * np.pi * cycles
        s = self._s0[k] + ds * (1 - np.cos(np.pi * tau)) / 2 + sway * np.sin(w_sway * tau)
        v = ds * np.pi / (2 * duration) * np.sin(np.pi * tau)
        v += sway * w_sway / duration * np.cos(w_sway * tau)
        a = ds * (np.pi / duration) ** 2 / 2 * np.cos(np.pi * tau)
        a -= sway * (w_sway / duration) ** 2 * np.sin(w_sway * tau)
        v, a = np.where(inside, v, 0.0), np.where(inside, a, 0.0)
        scale = -1.0 / (self.radius_cm * (1.0 + self._slip[k]))
        phi = self._phi0[k] + (s - self._s0[k]) * scale
        travel = self._travel0[k] + np.abs(ds) * (1 - np.cos(np.pi * tau)) / 2
        return Kinematics(s, v, a, phi, v * scale, a * scale, travel)
