"""The roller lifted off the floor between two areas of one session: an analytic path.

Between two parts the person gets off the roller, picks it up (its axis tilts as one end
comes up first), turns it in their hands, carries it (spinning it about its own axis), turns
it back and puts it down under the next area. World axes: x along the roller's axis as it
lies on the floor (the person's left), z up. The roller's orientation R(t) turns roller
axes into world axes; on the floor it is a rotation by phi about +x, the frame
:func:`firmware_sim.imu.rolling` uses, so the samples run on without a jump at both ends.

A person may put the roller down end for end (:attr:`Lift.end_heading_rad` near 180
degrees: they turned it on past the way back), with the axis pointing to their right from
then on. Lying on the floor the roller reads the same either way (gravity is in its y-z plane,
rolling turns it about its own axis), so only the carry shows it: the gyro sees the axis
swing round about the vertical (:mod:`tracker.core.estimate.carry`). Nobody puts a roller
down exactly square, so with the feature on the heading ends up to 20 degrees off 0 or 180;
a roller put down a few degrees askew rolls the same, at right angles to its axis. A carry
may also lose the radio for a while (:attr:`Lift.dropout_s`: the roller carried behind the
body, out of the phone's reach), which leaves its turn unknown to the estimator.

Every phase is a smooth step whose first two derivatives vanish at its ends, so rates and
accelerations start and end at zero. The angular rate comes from R(t) by central
differences; the centre's acceleration is analytic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from firmware_sim.imu import G_M_S2, CentreMotion

Array = npt.NDArray[np.float64]
#: How long picking the roller up (and putting it down) takes, s.
HANDLE_S = (0.4, 0.8)
#: How long turning it in the hands (and back) takes, s.
TURN_S = (0.4, 0.8)
#: The whole lift, s (at least a second of carrying).
DURATION_S = (3.0, 8.0)
MIN_CARRY_S = 1.0
TILT_DEG = (40.0, 60.0)  # of the axis from the horizontal, either way
TURN_DEG = (45.0, 90.0)  # of the heading, either way
HEIGHT_M = (0.3, 0.6)
CARRY_M = (0.1, 0.5)  # across the floor, any direction
#: How far off square (0 or 180 degrees) a roller is put down, either way (deg).
SQUARE_DEG = 20.0
#: How long the radio is lost when a carry loses it (s).
DROPOUT_S = (0.5, 2.0)
_H_S = 1e-4  # the step of the central differences


@dataclass(frozen=True)
class Lift:
    """One lift, from the moment the roller leaves the floor (t = 0) to ``duration_s``."""

    duration_s: float
    handle_s: float
    turn_s: float
    phi_start_rad: float  # the rotation about x it was lifted at
    phi_end_rad: float  # and put down at (unwrapped: the spin is phi_end - phi_start)
    tilt_rad: float  # about world y: the axis out of the horizontal
    turn_rad: float  # about world z: the heading
    height_m: float
    carry_m: tuple[float, float]  # horizontal displacement (x, y) from pick-up to put-down
    end_heading_rad: float = 0.0  # the heading put down at (about pi: end for end)
    dropout_s: tuple[float, float] | None = None  # the radio lost: (start, length) from t = 0

    @property
    def end_for_end(self) -> bool:
        """Put down the other way round: its axis points the other way across the body."""
        return bool(np.cos(self.end_heading_rad) < 0)

    @classmethod
    def draw(cls, rng: np.random.Generator, phi_start_rad: float,
             end_for_end_p: float | None = None, dropout_p: float = 0.0) -> Lift:
        """A lift drawn at random, starting from a roller lying at ``phi_start_rad``; it is
        put down at any rotation about its axis. With ``end_for_end_p`` (the chance that it
        goes down end for end; ``dropout_p``, that the carry loses the radio), it is put
        down up to :data:`SQUARE_DEG` off square; those numbers are drawn after all the
        others, and only then, so a lift drawn without them is the lift it always was, and
        two people who differ only in the chances draw the same numbers."""
        handle_s, turn_s = float(rng.uniform(*HANDLE_S)), float(rng.uniform(*TURN_S))
        shortest_s = 2 * (handle_s + turn_s) + MIN_CARRY_S
        duration_s = float(rng.uniform(max(DURATION_S[0], shortest_s), DURATION_S[1]))
        signs = rng.choice([-1.0, 1.0], 2)
        heading = rng.uniform(-np.pi, np.pi)
        carry_m = float(rng.uniform(*CARRY_M))
        end_heading_rad, dropout_s = 0.0, None
        if end_for_end_p is not None:
            end_heading_rad = float(np.radians(rng.uniform(-SQUARE_DEG, SQUARE_DEG)))
            if rng.random() < end_for_end_p:  # turned on past the way back
                end_heading_rad += float(np.pi * signs[1])
            if rng.random() < dropout_p:
                length_s = float(rng.uniform(*DROPOUT_S))
                dropout_s = (float(rng.uniform(0.0, max(0.0, duration_s - length_s))), length_s)
        return cls(
            duration_s=duration_s,
            handle_s=handle_s,
            turn_s=turn_s,
            phi_start_rad=phi_start_rad,
            phi_end_rad=phi_start_rad + float(rng.uniform(-np.pi, np.pi)),
            tilt_rad=float(signs[0] * np.radians(rng.uniform(*TILT_DEG))),
            turn_rad=float(signs[1] * np.radians(rng.uniform(*TURN_DEG))),
            height_m=float(rng.uniform(*HEIGHT_M)),
            carry_m=(carry_m * float(np.cos(heading)), carry_m * float(np.sin(heading))),
            end_heading_rad=end_heading_rad,
            dropout_s=dropout_s,
        )

    def _phases(self) -> tuple[float, float, float, float, float]:
        """Ends of the pick-up, the turn, the carry, the turn back and the put-down."""
        up, turned = self.handle_s, self.handle_s + self.turn_s
        end = self.duration_s
        return up, turned, end - turned, end - up, end

    def orientation(self, t_s: Array) -> Array:
        """R(t), (n, 3, 3): roller axes to world axes, t from the lift's start."""
        up, turned, carried, back, end = self._phases()
        tilt = self.tilt_rad * (_step(t_s, 0.0, up)[0] - _step(t_s, back, end)[0])
        down = _step(t_s, carried, back)[0]
        # The turn back ends at the heading put down at (0: where it began, bit for bit).
        turn = self.turn_rad * (_step(t_s, up, turned)[0] - down) + self.end_heading_rad * down
        spin = self.phi_end_rad - self.phi_start_rad
        phi = self.phi_start_rad + spin * _step(t_s, turned, carried)[0]
        return _about(2, turn) @ _about(1, tilt) @ _about(0, phi)

    def centre_acceleration(self, t_s: Array) -> Array:
        """The centre's acceleration in the world, (n, 3) m/s^2: lifting and carrying."""
        _, turned, carried, _, end = self._phases()
        across = _step(t_s, 0.0, end)[1]
        rise, fall = _step(t_s, 0.0, turned)[1], _step(t_s, carried, end)[1]
        return np.stack(
            [self.carry_m[0] * across, self.carry_m[1] * across, self.height_m * (rise - fall)],
            axis=1,
        )

    def motion(self, t_s: Array) -> CentreMotion:
        """What the roller's centre feels at ``t_s`` (from the lift's start), roller axes."""
        t = np.asarray(t_s, dtype=float)
        rotation = self.orientation(t)
        world = self.centre_acceleration(t) + np.array([0.0, 0.0, G_M_S2])
        force = np.einsum("nji,nj->ni", rotation, world)  # R^T (a + g z)
        omega = self.body_rate(t)
        alpha = (self.body_rate(t + _H_S) - self.body_rate(t - _H_S)) / (2 * _H_S)
        return CentreMotion(force, omega, alpha)

    def body_rate(self, t_s: Array) -> Array:
        """The angular rate in roller axes, (n, 3) rad/s: vee(R^T dR/dt)."""
        rotation = self.orientation(t_s)
        derivative = (self.orientation(t_s + _H_S) - self.orientation(t_s - _H_S)) / (2 * _H_S)
        w = np.einsum("nji,njk->nik", rotation, derivative)
        return np.stack(
            [w[:, 2, 1] - w[:, 1, 2], w[:, 0, 2] - w[:, 2, 0], w[:, 1, 0] - w[:, 0, 1]], axis=1
        ) / 2


def _step(t_s: Array, t0_s: float, t1_s: float) -> tuple[Array, Array]:
    """0 before ``t0_s``, 1 after ``t1_s``, a smootherstep between: the value and its second
    time derivative. The first two derivatives vanish at both ends: nothing jerks at a
    phase boundary, and rates and accelerations are zero on the floor."""
    length_s = t1_s - t0_s
    u = np.clip((np.asarray(t_s, dtype=float) - t0_s) / length_s, 0.0, 1.0)
    value = u**3 * (10.0 - 15.0 * u + 6.0 * u**2)
    acceleration = 60.0 * u * (1.0 - u) * (1.0 - 2.0 * u) / length_s**2
    return value, acceleration


def _about(axis: int, angle_rad: Array) -> Array:
    """Rotations by ``angle_rad`` about one world axis (0: x, 1: y, 2: z), (n, 3, 3)."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    i, j = (axis + 1) % 3, (axis + 2) % 3
    turn = np.zeros((len(c), 3, 3))
    turn[:, axis, axis] = 1.0
    turn[:, i, i], turn[:, i, j], turn[:, j, i], turn[:, j, j] = c, -s, s, c
    return turn
