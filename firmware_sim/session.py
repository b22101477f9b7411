"""A whole simulated session: script, kinematics, IMU samples, and the ground truth to score by."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from firmware_sim.imu import Conditions, measure, sample_times
from firmware_sim.motion import Move, Trajectory
from firmware_sim.person import Person
from firmware_sim.routines import script
from tracker.body import Body
from tracker.recording import Header

Array = npt.NDArray[np.float64]
STROKE_MIN_CM = 2.0
PAUSE_MIN_S = 3.0


@dataclass(frozen=True)
class Truth:
    """What really happened, in the recording's clock."""

    duration_s: float
    pauses: list[tuple[float, float]]
    strokes: int
    lumbar_episodes: list[dict[str, float]]  # start_s, end_s, max_depth_cm
    t_s: Array  # at every recorded sample
    s_cm: Array
    phi_rad: Array  # the exact roller rotation: what an estimator without slip error could know

    @property
    def paused_s(self) -> float:
        return sum(t1 - t0 for t0, t1 in self.pauses)

    @property
    def active_s(self) -> float:
        return self.duration_s - self.paused_s

    def to_json(self, conditions: Conditions, track_rate_hz: float = 10.0) -> dict[str, Any]:
        step = max(1, round(len(self.t_s) / max(1.0, self.duration_s * track_rate_hz)))
        return {
            "format": "roller-truth/1",
            "duration_s": round(self.duration_s, 3),
            "active_s": round(self.active_s, 3),
            "paused_s": round(self.paused_s, 3),
            "pauses": [[round(a, 3), round(b, 3)] for a, b in self.pauses],
            "strokes": self.strokes,
            "lumbar_episodes": [
                {k: round(v, 3) for k, v in e.items()} for e in self.lumbar_episodes
            ],
            "conditions": asdict(conditions),
            "track": {
                "t_s": np.round(self.t_s[::step], 3).tolist(),
                "s_cm": np.round(self.s_cm[::step], 2).tolist(),
            },
        }


@dataclass(frozen=True)
class SimulatedSession:
    header: Header
    samples: Array  # (n, 7) in recording column order
    truth: Truth
    conditions: Conditions


def simulate(
    routine: str,
    scenario: str = "clean",
    seconds: float = 120.0,
    seed: int = 0,
    conditions: Conditions | None = None,
    height_cm: float = 175.0,
    sample_rate_hz: float | None = None,
    lead_s: float = 0.0,
    tail_s: float = 0.0,
    person: Person | None = None,
) -> SimulatedSession:
    """Simulate one session of ``routine``; the same arguments always give the same session.

    Without ``conditions``, the roller and link are drawn at random (from ``seed``) within
    the specified ranges, at ``sample_rate_hz`` if given. The roller lies still for
    ``lead_s`` before rolling and ``tail_s`` after (both within ``seconds``). A ``person``
    puts the roller off its landmark, compresses the foam with their weight and rolls at
    their own pace; without one, the roller starts exactly at the landmark.
    """
    rng = np.random.default_rng(seed)
    conditions = conditions or Conditions.realistic(rng, seconds, sample_rate_hz)
    person = person or Person()
    if person.mass_kg is not None:
        conditions = replace(conditions, compression=person.compression(rng))
    body = Body(height_cm)
    moves = script(routine, scenario, seconds, body, rng, lead_s, tail_s,
                   person.placement_cm, person.stroke_s, person.keep_off_cm)
    trajectory = Trajectory(moves, conditions.effective_radius_cm, rng.uniform(-np.pi, np.pi))
    t = sample_times(conditions, seconds, rng)
    kin = trajectory.at(t)
    stamp, accel, gyro = measure(conditions, kin, t, rng)
    header = Header(
        sample_rate_hz=conditions.sample_rate_hz,
        roller_diameter_cm=round(conditions.diameter_cm, 2),
        user_height_cm=height_cm,
        routine=routine,
        extra={"source": "firmware_sim", "scenario": scenario, "seed": str(seed)},
    )
    offset = stamp[0] - t[0]
    truth = Truth(
        duration_s=float(stamp[-1] - stamp[0]),
        pauses=[(float(a + offset), float(b + offset)) for a, b in _pauses(moves, float(t[-1]))],
        strokes=_strokes(moves, float(t[-1])),
        lumbar_episodes=[
            {"start_s": float(a + offset), "end_s": float(b + offset), "max_depth_cm": d}
            for a, b, d in _lumbar_episodes(trajectory, body, float(t[-1]))
        ],
        t_s=stamp,
        s_cm=kin.s_cm,
        phi_rad=kin.phi_rad,
    )
    samples = np.column_stack([stamp, accel, gyro])
    return SimulatedSession(header, samples, truth, conditions)


def _pauses(moves: list[Move], end_s: float) -> list[tuple[float, float]]:
    holds = [(m.t0_s, min(m.t1_s, end_s)) for m in moves if m.s0_cm == m.s1_cm and m.t0_s < end_s]
    return [(a, b) for a, b in holds if b - a >= PAUSE_MIN_S]


def _strokes(moves: list[Move], end_s: float) -> int:
    """Runs of travel in one direction of at least 2 cm (holds do not end a run)."""
    runs: list[float] = []
    for m in moves:
        if m.t0_s >= end_s or m.s0_cm == m.s1_cm:
            continue
        travel = m.s1_cm - m.s0_cm
        if m.t1_s > end_s:  # the recording ends inside this move
            tau = (end_s - m.t0_s) / (m.t1_s - m.t0_s)
            travel *= (1 - np.cos(np.pi * tau)) / 2
        if runs and np.sign(runs[-1]) == np.sign(travel):
            runs[-1] += travel
        else:
            runs.append(travel)
    return sum(1 for r in runs if abs(r) >= STROKE_MIN_CM)


def _lumbar_episodes(
    trajectory: Trajectory, body: Body, end_s: float
) -> list[tuple[float, float, float]]:
    """Every stretch of time the contact is in the lumbar band, with its greatest depth."""
    t = np.arange(0.0, end_s, 0.001)
    s = trajectory.at(t).s_cm
    top, bottom = body.lumbar_cm
    depth = np.minimum(s - top, bottom - s)
    inside = np.concatenate(([False], depth > 0, [False]))
    edges = np.flatnonzero(np.diff(inside.astype(np.int8)))
    return [
        (float(t[a]), float(t[b - 1]), float(depth[a:b].max()))
        for a, b in zip(edges[::2], edges[1::2], strict=True)
    ]
