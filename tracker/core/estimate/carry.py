"""Which way round the roller was put down: its axis' turn about the vertical over a lift.

Lying on the floor, a roller reads the same whichever end is on the person's left: gravity is
in its y-z plane either way, and rolling turns it about its own axis. Put down end for end,
its axis (+x) points to the right, so rolling away from the person turns it the other way and
every position would be read mirrored about the landmark. The carry shows it, though: the
gyro sees the axis swing round about the vertical, 180 degrees when it went down end for end
and close to none when it went down as it came up.

So the carry's angular rate is integrated as a full 3-D rotation (the roller is tilted and
turned about every axis while carried, so adding up the rates of one axis would not do), from
the moment of the lift until the roller rolls again. The axis at the end, seen in the frame of
the start, is projected onto the horizontal plane (the vertical is gravity as the roller lies
still, put down) and its angle from the axis at the start is the turn. A gyro bias of up to
1 deg/s over a 3-8 s carry adds at most 8 degrees: near 0 or 180, nowhere near the middle.

A carry that cannot be read (samples missing for longer than :data:`GAP_S` while it moved,
or a rotation that does not carry the vertical at the start to the one at the end, as a
saturated or glitching gyro would not) gives no turn, and a turn between :data:`SAME_DEG` and
:data:`FLIPPED_DEG` is not told either way: the person is asked to check, never guessed for.
"""

from __future__ import annotations

from enum import Enum

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
#: A turn of the axis up to this (deg) is the roller put down the way it came up ...
SAME_DEG = 45.0
#: ... and from this on (deg), end for end. Between them nobody can tell.
FLIPPED_DEG = 135.0
#: Samples missing for longer than this (s) leave the carry's rotation unknown: a turn at
#: carrying rates (100-300 deg/s) cannot be bridged by a guess ...
GAP_S = 0.25
#: ... unless the roller was still on both sides of the gap (every rate under
#: :data:`STILL_DPS`: lying on the floor) and it lasted at most this (s): lifting a roller,
#: turning it end for end and putting it down again takes longer.
STILL_GAP_S = 1.0
STILL_DPS = 12.0
#: The integrated rotation must bring the vertical seen before the lift to the one seen after
#: it within this (deg); otherwise the gyro did not see the whole carry.
VERTICAL_DEG = 25.0
#: Gravity is read over this long (s) at each end of the carry.
GRAVITY_S = 0.1


class Orientation(Enum):
    """How the roller lies after a lift, as the carry tells it."""

    SAME = "same"  # the way round it came up
    REVERSED = "reversed"  # end for end: travel read with its sign reversed
    UNSURE = "unsure"  # the carry cannot tell: the person is asked to check


def orientation_of(turn_deg: float | None) -> Orientation:
    """What a measured turn says (None: the carry could not be read)."""
    if turn_deg is None or not np.isfinite(turn_deg):
        return Orientation.UNSURE
    turn = abs(turn_deg)
    if turn < SAME_DEG:
        return Orientation.SAME
    if turn > FLIPPED_DEG:
        return Orientation.REVERSED
    return Orientation.UNSURE


def carry_turn_deg(t_s: Array, accel_g: Array, gyro_dps: Array) -> float | None:
    """The roller axis' turn about the vertical over a carry, in degrees (-180..180], or
    None if the carry cannot be read.

    The samples (roller axes) run from just before the lift to after the put-down; the
    vertical is read from the first and the last :data:`GRAVITY_S` of them, where the roller
    lies on the floor (or has just begun to roll: about its own axis, which leaves its
    heading alone).
    """
    turn = CarryTurn()
    turn.feed(np.asarray(t_s, dtype=float), np.asarray(accel_g, dtype=float),
              np.asarray(gyro_dps, dtype=float))
    return turn.turn_deg()


class CarryTurn:
    """:func:`carry_turn_deg` fed as samples arrive, in memory that does not grow: the
    rotation is composed as it goes, and only gravity at the start and over the latest
    :data:`GRAVITY_S` is kept."""

    def __init__(self) -> None:
        self._rotation = np.eye(3)  # the frame now to the frame at the start
        self._last: Array | None = None  # the latest sample: t, a(3), g(3 rad/s)
        self._t0: float | None = None
        self._up_start = np.zeros(3)  # gravity summed over the first GRAVITY_S
        self._tail: list[Array] = []  # the latest samples, for gravity at the end
        self._broken = False  # a gap, or a rate that is not a number

    def feed(self, t_s: Array, accel_g: Array, gyro_dps: Array) -> None:
        """Add samples (roller axes): times (s), accelerations (g), rates (deg/s)."""
        if not len(t_s):
            return
        rows = np.column_stack([t_s, accel_g, np.radians(gyro_dps)])
        if not np.isfinite(rows).all():
            self._broken = True
            return
        if self._t0 is None:
            self._t0 = float(rows[0, 0])
        if self._last is not None:
            rows = np.vstack([self._last, rows])
        dt = np.diff(rows[:, 0])
        still = (np.abs(rows[:, 4:7]) < np.radians(STILL_DPS)).all(axis=1)
        bridged = (dt <= STILL_GAP_S) & still[:-1] & still[1:]
        if ((dt > GAP_S) & ~bridged).any():
            self._broken = True
        steps = (rows[1:, 4:7] + rows[:-1, 4:7]) / 2 * dt[:, None]
        for turn in _exp(steps):
            self._rotation = self._rotation @ turn
        fresh = rows[1:] if self._last is not None else rows
        self._up_start += fresh[fresh[:, 0] <= self._t0 + GRAVITY_S, 1:4].sum(axis=0)
        self._tail.append(fresh)
        end = float(fresh[-1, 0])
        kept = np.concatenate(self._tail)
        self._tail = [kept[kept[:, 0] >= end - GRAVITY_S]]
        self._last = rows[-1]

    def turn_deg(self) -> float | None:
        """The turn so far (deg), or None if the carry cannot be read."""
        if self._broken or self._last is None or not self._tail:
            return None
        up_end = _direction(self._tail[0][:, 1:4].mean(axis=0))
        up_start = _direction(self._up_start)
        if up_end is None or up_start is None:
            return None
        rotation = self._rotation
        up = rotation @ up_end  # the vertical, in the frame of the start
        if np.degrees(np.arccos(np.clip(up @ up_start, -1.0, 1.0))) > VERTICAL_DEG:
            return None
        before = _horizontal(np.array([1.0, 0.0, 0.0]), up)
        after = _horizontal(rotation[:, 0], up)  # the axis now, in the start's frame
        if before is None or after is None:
            return None  # the axis stood upright: no heading to compare
        return float(np.degrees(np.arctan2(up @ np.cross(before, after), before @ after)))


def _exp(w: Array) -> Array:
    """The rotations by the rotation vectors ``w`` (n, 3): Rodrigues, (n, 3, 3)."""
    angle = np.linalg.norm(w, axis=1)
    k = np.zeros((len(w), 3, 3))
    k[:, 0, 1], k[:, 0, 2], k[:, 1, 2] = -w[:, 2], w[:, 1], -w[:, 0]
    k[:, 1, 0], k[:, 2, 0], k[:, 2, 1] = w[:, 2], -w[:, 1], w[:, 0]
    small = angle < 1e-9
    safe = np.where(small, 1.0, angle)
    a = np.where(small, 1.0, np.sin(safe) / safe)
    b = np.where(small, 0.5, (1 - np.cos(safe)) / safe**2)
    return np.eye(3) + a[:, None, None] * k + b[:, None, None] * (k @ k)


def _direction(vector: Array) -> Array | None:
    """A unit vector along a sum of gravity readings, if there is one to speak of."""
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 1e-6 else None


def _horizontal(vector: Array, up: Array) -> Array | None:
    flat = vector - (vector @ up) * up
    norm = float(np.linalg.norm(flat))
    return flat / norm if norm > 0.3 else None
