"""The IMU inside the roller, with the faults real hardware has.

Given the roller's kinematics, produce what a 6-axis IMU strapped off-centre and slightly
askew inside a textured roller reports: gravity plus the roller's own accelerations
(its centre accelerates as it rolls on the floor; an off-axis sensor feels centripetal and
tangential terms), ridge vibration, biases that drift, scale errors, noise, int16
quantisation, clock jitter, and lost radio packets.

Rolling (:func:`rolling`) and the lift between two areas (:mod:`firmware_sim.lift`) both
say how the roller's centre moves (:class:`CentreMotion`); :func:`ideal` turns that into a
perfect off-axis sensor's reading, and :func:`sense` adds every fault, the same for both.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from firmware_sim.motion import Kinematics

Array = npt.NDArray[np.float64]
G_M_S2 = 9.80665
ACCEL_LSB_G = 16.0 / 32768  # +-16 g full scale
GYRO_LSB_DPS = 2000.0 / 32768  # +-2000 deg/s full scale


@dataclass(frozen=True)
class Conditions:
    """Everything about one roller, sensor and radio link that the estimator must survive."""

    sample_rate_hz: float = 100.0
    diameter_cm: float = 15.0
    compression: float = 0.0  # effective radius under load is (1 - compression) * nominal
    sensor_offset_cm: tuple[float, float] = (0.0, 0.0)  # sensor position off the axis (y, z)
    mount: tuple[float, float, float] = (0.0, 0.0, 0.0)  # small mount rotation vector, radians
    # How the sensor is turned in the roller: row i is sensor axis i in roller axes (a
    # sensor taped in at random); the identity is our own firmware's layout.
    axes: tuple[float, ...] = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
    gyro_bias_dps: tuple[float, float, float] = (0.0, 0.0, 0.0)
    gyro_drift_dps_per_min: tuple[float, float, float] = (0.0, 0.0, 0.0)
    gyro_noise_dps: float = 0.05
    accel_bias_g: tuple[float, float, float] = (0.0, 0.0, 0.0)
    accel_scale: tuple[float, float, float] = (1.0, 1.0, 1.0)
    accel_noise_g: float = 0.003
    vibration_g: float = 0.0  # ridge vibration amplitude at full rolling speed
    ridge_spacing_cm: float = 1.5
    jitter_s: float = 0.0  # timestamp jitter (standard deviation)
    packet_samples: int = 5  # samples per radio packet; a lost packet loses them all
    packet_loss: float = 0.0
    gaps_s: tuple[tuple[float, float], ...] = ()  # (start, length) of radio outages
    clock_start_s: float = 0.0  # device clock at the first sample

    @property
    def radius_cm(self) -> float:
        return self.diameter_cm / 2

    @property
    def effective_radius_cm(self) -> float:
        return self.radius_cm * (1.0 - self.compression)

    @classmethod
    def realistic(
        cls, rng: np.random.Generator, seconds: float, sample_rate_hz: float | None = None
    ) -> Conditions:
        """A random roller and link inside the ranges the estimator is specified for."""
        rate = sample_rate_hz or float(rng.choice([25, 50, 100, 200]))
        n_gaps = int(rng.integers(0, 4)) if seconds >= 15 else 0  # outages need room
        gaps = tuple(
            sorted((float(rng.uniform(5, seconds - 5)), float(rng.uniform(0.1, 1.2)))
                   for _ in range(n_gaps))
        )
        textured = rng.random() < 0.6
        return cls(
            sample_rate_hz=rate,
            diameter_cm=float(rng.uniform(10.0, 15.2)),
            compression=float(rng.uniform(0.0, 0.04)),
            sensor_offset_cm=tuple(rng.uniform(-2.1, 2.1, 2)),  # type: ignore[arg-type]
            mount=tuple(rng.uniform(-1.0, 1.0, 3) * np.radians(3.0) / np.sqrt(3)),  # type: ignore[arg-type]
            gyro_bias_dps=tuple(rng.uniform(-1.0, 1.0, 3)),  # type: ignore[arg-type]
            gyro_drift_dps_per_min=tuple(rng.uniform(-0.2, 0.2, 3)),  # type: ignore[arg-type]
            accel_bias_g=tuple(rng.uniform(-0.03, 0.03, 3)),  # type: ignore[arg-type]
            accel_scale=tuple(1.0 + rng.uniform(-0.03, 0.03, 3)),  # type: ignore[arg-type]
            vibration_g=float(rng.uniform(0.1, 0.35)) if textured else 0.0,
            ridge_spacing_cm=float(rng.uniform(0.8, 2.5)),
            jitter_s=float(rng.uniform(0.0, 0.15)) / rate,
            packet_samples=max(1, round(rate / 20)),
            packet_loss=float(rng.uniform(0.0, 0.05)),
            gaps_s=gaps,
            clock_start_s=float(rng.uniform(0.0, 5000.0)),
        )


def _rotation(vector: Array) -> Array:
    """Rotation matrix for a rotation vector (Rodrigues)."""
    angle = float(np.linalg.norm(vector))
    if angle == 0.0:
        return np.eye(3)
    k = vector / angle
    cross = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(angle) * cross + (1 - np.cos(angle)) * cross @ cross


def axis_orientations() -> list[Array]:
    """The 24 ways a sensor's axes can line up with a roller's: signed permutations, det +1."""
    turns = []
    for order in itertools.permutations(range(3)):
        for signs in itertools.product((1.0, -1.0), repeat=3):
            turn = np.zeros((3, 3))
            turn[range(3), order] = signs
            if np.linalg.det(turn) > 0:
                turns.append(turn)
    return turns


def sample_times(conditions: Conditions, seconds: float, rng: np.random.Generator) -> Array:
    """Instants (s from the session start) of the samples that reach the receiver."""
    n = int(seconds * conditions.sample_rate_hz)
    t = np.arange(n) / conditions.sample_rate_hz
    packet = np.arange(n) // conditions.packet_samples
    lost = rng.random(packet[-1] + 1) < conditions.packet_loss
    keep = ~lost[packet]
    for start, length in conditions.gaps_s:
        keep &= ~((t >= start) & (t < start + length))
    keep[0] = True  # the session starts with a sample at the landmark
    return t[keep]


@dataclass(frozen=True)
class CentreMotion:
    """How the roller's centre moves, in roller axes (n rows): the ideal a sensor there
    would feel. Rolling and lifting both produce one, so one model turns either into samples."""

    force_m_s2: Array  # specific force (acceleration minus gravity), m/s^2
    omega_rad_s: Array  # angular rate
    alpha_rad_s2: Array  # angular acceleration


def rolling(conditions: Conditions, kin: Kinematics) -> CentreMotion:
    """The centre of a roller rolling on the floor (its axis +x horizontal), turned by phi."""
    n = len(kin.phi_rad)
    c, s = np.cos(kin.phi_rad), np.sin(kin.phi_rad)
    radius_m = conditions.effective_radius_cm / 100
    # Specific force at the roller's centre, in the world: the centre rolls on the floor.
    f_horizontal = -kin.alpha_rad_s2 * radius_m
    speed = np.abs(kin.omega_rad_s) * radius_m * 100  # surface speed, cm/s
    ridge = conditions.vibration_g * G_M_S2 * np.minimum(1.0, speed / 10.0)
    ridge *= np.sin(2 * np.pi * kin.travel_cm / conditions.ridge_spacing_cm)
    f_y_world = f_horizontal + 0.3 * ridge
    f_z_world = G_M_S2 + ridge
    # Into the roller frame (rotated by phi about +x).
    fy = c * f_y_world + s * f_z_world
    fz = -s * f_y_world + c * f_z_world
    zeros = np.zeros(n)
    return CentreMotion(
        np.stack([zeros, fy, fz], axis=1),
        np.stack([kin.omega_rad_s, zeros, zeros], axis=1),
        np.stack([kin.alpha_rad_s2, zeros, zeros], axis=1),
    )


def ideal(conditions: Conditions, motion: CentreMotion) -> tuple[Array, Array]:
    """What a perfect sensor off the axis reads, in roller axes: force (g), rate (deg/s).

    The sensor sits ``sensor_offset_cm`` from the centre, so it also feels the tangential
    and centripetal accelerations of the roller's turning.
    """
    offset_m = np.array([0.0, *conditions.sensor_offset_cm]) / 100
    omega, alpha = motion.omega_rad_s, motion.alpha_rad_s2
    # w x (w x r) = w (w.r) - r |w|^2: written so, rolling about x stays bit-for-bit as before.
    centripetal = omega * (omega @ offset_m)[:, None] - np.outer(np.sum(omega * omega, axis=1),
                                                                  offset_m)
    lever = np.cross(alpha, offset_m) + centripetal
    return (motion.force_m_s2 + lever) / G_M_S2, np.degrees(omega)


def sense(
    conditions: Conditions, force_g: Array, rate_dps: Array, t_s: Array, rng: np.random.Generator
) -> tuple[Array, Array, Array]:
    """Timestamps (device clock, s), accelerations (g) and rates (deg/s) that the sensor
    reports for ideal ``force_g`` and ``rate_dps`` (roller axes) at ``t_s``: the mount and
    axes turn, scale errors, biases, drift, noise, int16 quantisation and clock jitter."""
    n = len(t_s)
    turn = np.array(conditions.axes).reshape(3, 3) @ _rotation(np.array(conditions.mount))
    force, rate = force_g @ turn.T, rate_dps @ turn.T
    accel = force * np.array(conditions.accel_scale) + np.array(conditions.accel_bias_g)
    accel += rng.normal(0.0, conditions.accel_noise_g, accel.shape)
    drift = np.outer(t_s / 60.0, conditions.gyro_drift_dps_per_min)
    gyro = rate + np.array(conditions.gyro_bias_dps) + drift
    gyro += rng.normal(0.0, conditions.gyro_noise_dps, gyro.shape)
    accel = np.round(accel / ACCEL_LSB_G) * ACCEL_LSB_G
    gyro = np.round(gyro / GYRO_LSB_DPS) * GYRO_LSB_DPS
    # Jitter stays under 0.4 sample periods, so the device clock never runs backwards.
    bound = 0.4 / conditions.sample_rate_hz
    jitter = np.clip(rng.normal(0.0, conditions.jitter_s, n), -bound, bound)
    return conditions.clock_start_s + t_s + jitter, accel, gyro


def measure(
    conditions: Conditions, kin: Kinematics, t_s: Array, rng: np.random.Generator
) -> tuple[Array, Array, Array]:
    """Timestamps (device clock, s), accelerations (g) and rates (deg/s) for ``kin`` at ``t_s``."""
    return sense(conditions, *ideal(conditions, rolling(conditions, kin)), t_s, rng)
