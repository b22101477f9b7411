"""Calibration of a sensor taped into a roller: which way its axes point, and the roller's size.

A sensor in a hollow roller sits at any angle; the estimator wants the roller axis as +x,
pointing to the person's left (docs/conventions.md). The guided step gives us what we need:

1. The roller lies still: the gyro reads only its bias, the accelerometer only gravity.
2. The person rolls it away from them and back: the bias-free rates all point along the
   roller axis (the largest principal axis of the rates; how flat the rest is says whether
   the roll was clean), and rolling *away* turns it positively about +x, which fixes the sign.
3. Optionally along a tape measure for a stated distance: the furthest turn gives the
   effective radius (foam under load rolls a few percent smaller than its nominal size).

Only the roller axis matters: turning the frame about it just moves the angle the estimator
starts from, so y and z are chosen with z along gravity at rest. All of it is pure: samples in,
a :class:`Mounting` out, or a :class:`CalibrationError` that says what to do again.
:class:`AxisCheck` re-checks the axis at the start of each session.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tracker.core.errors import MachineError

Array = npt.NDArray[np.float64]
ROLLING_DPS = 30.0  # faster than this is rolling; a still roller's gyro reads < 10 deg/s
STILL_DPS = 10.0


class CalibrationError(MachineError):
    """Samples a calibration cannot be made from (its steps not done, or not as asked), with
    what to do differently: another try may well work."""


@dataclass(frozen=True)
class Mounting:
    """How a sensor sits in its roller: its axes into the roller's, its gyro bias, the size."""

    rotation: tuple[tuple[float, float, float], ...]  # rows: roller x, y, z in sensor axes
    gyro_bias_dps: tuple[float, float, float] = (0.0, 0.0, 0.0)
    diameter_cm: float | None = None  # effective, when measured along a tape

    def apply(self, accel_g: Array, gyro_dps: Array) -> tuple[Array, Array]:
        """Sensor-frame samples (n, 3) into the roller's frame, gyro bias removed."""
        turn = np.array(self.rotation).T
        return accel_g @ turn, (gyro_dps - np.array(self.gyro_bias_dps)) @ turn

    @property
    def axis(self) -> Array:
        """The roller axis (+x, to the person's left) in sensor axes."""
        return np.array(self.rotation[0])

    def to_json(self) -> dict[str, Any]:
        return {"rotation": [[round(v, 6) for v in row] for row in self.rotation],
                "gyro_bias_dps": [round(v, 4) for v in self.gyro_bias_dps],
                "diameter_cm": None if self.diameter_cm is None else round(self.diameter_cm, 2)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Mounting:
        rotation = np.array(data["rotation"], dtype=float)
        if rotation.shape != (3, 3) or not np.allclose(rotation @ rotation.T, np.eye(3),
                                                       atol=1e-4):
            raise ValueError("a mounting's rotation must be a 3x3 rotation matrix")
        bias = _vector(np.array(data.get("gyro_bias_dps", (0.0, 0.0, 0.0)), dtype=float))
        diameter = data.get("diameter_cm")
        return cls(_rows(rotation), bias, None if diameter is None else float(diameter))


@dataclass(frozen=True)
class Calibration:
    mounting: Mounting
    spread_deg: float  # how far the rates strayed from one axis (a clean roll: a few degrees)
    tilt_deg: float  # the axis against the floor (flat floor: about 0)
    turn_deg: float  # the furthest the roller turned away from the start


def calibrate(t_s: Array, accel_g: Array, gyro_dps: Array, distance_cm: float | None = None,
              still_s: float = 1.5) -> Calibration:
    """The mounting from a still phase followed by rolling away and back (sensor frame)."""
    rates = np.linalg.norm(gyro_dps, axis=1)
    moving = np.flatnonzero(rates > ROLLING_DPS)
    if len(moving) == 0:
        raise CalibrationError("the roller never rolled: roll it away from you and back")
    first = moving[0]
    still = rates[:first] < STILL_DPS
    if first == 0 or t_s[first - 1] - t_s[0] < still_s or still.mean() < 0.9:
        raise CalibrationError(f"keep the roller still for {still_s + 0.5:g} s before rolling it")
    bias = gyro_dps[:first][still].mean(axis=0)
    gravity = accel_g[:first][still].mean(axis=0)
    w = gyro_dps - bias
    rolling = w[np.linalg.norm(w, axis=1) > ROLLING_DPS]
    values, vectors = np.linalg.eigh(rolling.T @ rolling)  # ascending
    axis = vectors[:, 2]
    spread = math.degrees(math.atan(math.sqrt(max(values[1], 0.0) / values[2])))
    if spread > 15.0:
        raise CalibrationError(f"the roller wobbled ({spread:.0f} deg off one axis): roll it "
                               "straight along the floor, without twisting it")
    dt = np.diff(t_s, prepend=t_s[0])
    turned = np.cumsum(w @ axis * dt)  # degrees about the axis since the start
    beyond = np.flatnonzero(np.abs(turned) > 45.0)
    if len(beyond) == 0:
        raise CalibrationError("the roller turned less than 45 deg: roll it further away")
    if turned[beyond[0]] < 0:  # the first roll, away from the person, turns positively
        axis, turned = -axis, -turned
    tilt = math.degrees(math.asin(min(1.0, abs(gravity @ axis) / np.linalg.norm(gravity))))
    if tilt > 15.0:
        raise CalibrationError(f"the roller axis is tilted {tilt:.0f} deg: lay the roller "
                               "flat on the floor, across the way you roll it")
    z = gravity - (gravity @ axis) * axis
    z /= np.linalg.norm(z)
    y = np.cross(z, axis)
    turn_deg = float(turned.max())
    diameter = None
    if distance_cm is not None:
        diameter = 2 * distance_cm / math.radians(turn_deg)
        if not 4.0 <= diameter <= 40.0:
            raise CalibrationError(f"rolling {distance_cm:g} cm turned the roller {turn_deg:.0f}"
                                   f" deg, a {diameter:.1f} cm roller: roll exactly the stated "
                                   "distance along the tape, then back")
    mounting = Mounting(_rows(np.array([axis, y, z])), _vector(bias), diameter)
    return Calibration(mounting, spread, tilt, turn_deg)


def _vector(v: Array) -> tuple[float, float, float]:
    if v.shape != (3,):
        raise ValueError("a vector of three numbers is needed")
    return float(v[0]), float(v[1]), float(v[2])


def _rows(matrix: Array) -> tuple[tuple[float, float, float], ...]:
    return tuple(_vector(row) for row in matrix)


@dataclass
class AxisCheck:
    """Does the roller still turn about the calibrated axis? Decided from the first rolling.

    Fed roller-frame rates; once ``need_s`` of rolling has been seen, ``off_deg`` holds how
    far the rolling axis is from +x, and ``wrong`` whether that is beyond ``limit_deg``
    (the sensor has moved in its roller, or this is another roller's calibration).
    """

    rate_hz: float
    need_s: float = 2.0
    limit_deg: float = 20.0
    off_deg: float | None = None

    def __post_init__(self) -> None:
        self._sum = np.zeros((3, 3))
        self._count = 0

    @property
    def wrong(self) -> bool:
        return self.off_deg is not None and self.off_deg > self.limit_deg

    def feed(self, gyro_dps: Array) -> bool:
        """Take rates (n, 3); True once, when the verdict is reached."""
        if self.off_deg is not None:
            return False
        rolling = gyro_dps[np.linalg.norm(gyro_dps, axis=1) > ROLLING_DPS]
        self._sum += rolling.T @ rolling
        self._count += len(rolling)
        if self._count < self.need_s * self.rate_hz:
            return False
        axis = np.linalg.eigh(self._sum)[1][:, 2]
        self.off_deg = math.degrees(math.acos(min(1.0, abs(float(axis[0])))))
        return True
