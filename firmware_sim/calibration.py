"""The calibration step, simulated: a sensor taped into a roller at any angle, rolled on a floor.

The person keeps the roller still, then rolls it away from them along a tape measure for a
stated distance, holds it there a moment, and rolls it back. Rolling away turns the roller
positively about its axis pointing to the person's left (docs/conventions.md), which in
this simulator's terms is the contact moving to negative ``s``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt

from firmware_sim.imu import Conditions, measure, sample_times
from firmware_sim.motion import Move, Trajectory

Array = npt.NDArray[np.float64]
STILL_S = 3.0
ROLL_S = 2.5


def simulate_calibration(
    axes: Array, distance_cm: float = 60.0, seed: int = 0, rate_hz: float = 100.0,
    conditions: Conditions | None = None,
) -> tuple[Array, Conditions]:
    """Samples (n, 7: t_s, accel_g, gyro_dps) of one calibration, and the conditions used."""
    rng = np.random.default_rng(seed)
    base = conditions or Conditions.realistic(rng, 12.0, rate_hz)
    cond = dataclasses.replace(base, axes=tuple(np.asarray(axes, float).ravel()), gaps_s=())
    moves = [
        Move(0.0, STILL_S, 0.0, 0.0),
        Move(STILL_S, STILL_S + ROLL_S, 0.0, -distance_cm),
        Move(STILL_S + ROLL_S, STILL_S + ROLL_S + 1.0, -distance_cm, -distance_cm),
        Move(STILL_S + ROLL_S + 1.0, STILL_S + 2 * ROLL_S + 1.0, -distance_cm, 0.0),
        Move(STILL_S + 2 * ROLL_S + 1.0, STILL_S + 2 * ROLL_S + 3.0, 0.0, 0.0),
    ]
    trajectory = Trajectory(moves, cond.effective_radius_cm, rng.uniform(-np.pi, np.pi))
    t = sample_times(cond, trajectory.end_s, rng)
    stamp, accel, gyro = measure(cond, trajectory.at(t), t, rng)
    return np.column_stack([stamp, accel, gyro]), cond
