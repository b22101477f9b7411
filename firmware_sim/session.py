"""A whole simulated session: script, kinematics, IMU samples, and the ground truth to score by.

A session rolls one area, or several (:func:`simulate_parts`): the person rolls one area,
gets off, lifts the roller to the next area (:mod:`firmware_sim.lift`), puts it down at that
area's landmark (off by their placement error), lies on it and rolls again. One roller, one
clock and one radio link throughout. A person may put the roller down end for end
(:attr:`Person.end_for_end_p`): the part after it is rolled with the roller's axis to their
right, so the sensor turns the other way for the same path on the body, exactly as if that
path were mirrored about the start.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from firmware_sim.imu import Conditions, ideal, rolling, sample_times, sense
from firmware_sim.lift import Lift
from firmware_sim.motion import Kinematics, Move, Trajectory
from firmware_sim.person import Person
from firmware_sim.routines import script
from tracker.core.body import Body
from tracker.core.formats.roller_imu import Header

Array = npt.NDArray[np.float64]
STROKE_MIN_CM = 2.0
PAUSE_MIN_S = 3.0
#: How long the roller lies still at the end of a part while the person gets off it, s.
GET_OFF_S = (0.5, 1.5)


@dataclass(frozen=True)
class TruthPart:
    """One area rolled, in the recording's clock."""

    routine: str
    asked_s: float  # the person asked to switch to it and the lift began (first: the start)
    start_s: float  # the roller is down on it: rolling may begin
    end_s: float  # the next switch, or the end of the recording
    strokes: int
    pauses: list[tuple[float, float]]
    lumbar_episodes: list[dict[str, float]]  # start_s, end_s, max_depth_cm
    reversed: bool = False  # rolled end for end to how the session began (axis to the right)

    def to_json(self) -> dict[str, Any]:
        return {
            "routine": self.routine,
            "asked_s": round(self.asked_s, 3),
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "strokes": self.strokes,
            "pauses": _round_pauses(self.pauses),
            "lumbar_episodes": _round_episodes(self.lumbar_episodes),
            "reversed": self.reversed,
        }


@dataclass(frozen=True)
class Truth:
    """What really happened, in the recording's clock. Strokes, pauses and lumbar episodes
    are those of all parts: a lifted roller touches no body."""

    duration_s: float
    pauses: list[tuple[float, float]]
    strokes: int
    lumbar_episodes: list[dict[str, float]]  # start_s, end_s, max_depth_cm
    t_s: Array  # at every recorded sample
    s_cm: Array  # NaN while the roller is lifted
    phi_rad: Array  # the exact roller rotation: what an estimator without slip error could know
    # (while lifted: the rotation it was lifted at)
    parts: list[TruthPart]

    @property
    def paused_s(self) -> float:
        return sum(t1 - t0 for t0, t1 in self.pauses)

    @property
    def lifted_s(self) -> float:
        """Between parts: from each switch until the roller is down at the next area."""
        return sum(p.start_s - p.asked_s for p in self.parts[1:])

    @property
    def active_s(self) -> float:
        """Rolling: neither paused nor lifted."""
        return self.duration_s - self.paused_s - self.lifted_s

    def to_json(self, conditions: Conditions, track_rate_hz: float = 10.0) -> dict[str, Any]:
        """The truth file; the track's ``s_cm`` is null while the roller is lifted (JSON
        has no NaN), so the track keeps its steady time step."""
        step = max(1, round(len(self.t_s) / max(1.0, self.duration_s * track_rate_hz)))
        return {
            "format": "roller-truth/1",
            "duration_s": round(self.duration_s, 3),
            "active_s": round(self.active_s, 3),
            "paused_s": round(self.paused_s, 3),
            "pauses": _round_pauses(self.pauses),
            "strokes": self.strokes,
            "lumbar_episodes": _round_episodes(self.lumbar_episodes),
            "conditions": asdict(conditions),
            "track": {
                "t_s": np.round(self.t_s[::step], 3).tolist(),
                "s_cm": [None if math.isnan(s) else s
                         for s in np.round(self.s_cm[::step], 2).tolist()],
            },
            "parts": [part.to_json() for part in self.parts],
        }


def _round_pauses(pauses: list[tuple[float, float]]) -> list[list[float]]:
    return [[round(a, 3), round(b, 3)] for a, b in pauses]


def _round_episodes(episodes: list[dict[str, float]]) -> list[dict[str, float]]:
    return [{k: round(v, 3) for k, v in e.items()} for e in episodes]


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
    return _session([(routine, seconds)], scenario, seed, conditions, height_cm,
                    sample_rate_hz, person, lead_s, tail_s)


def simulate_parts(
    parts: Sequence[tuple[str, float]],
    scenario: str = "clean",
    seed: int = 0,
    conditions: Conditions | None = None,
    height_cm: float = 175.0,
    sample_rate_hz: float | None = None,
    person: Person | None = None,
) -> SimulatedSession:
    """Simulate one session that rolls several areas in turn: ``parts`` are (routine,
    seconds of rolling, from putting the roller down); one part is :func:`simulate`.

    When a part's time is up the person finishes the stroke they are in (or cuts a hold
    short), gets off, and lifts the roller to the next area: that moment is the switch
    (``header.extra["parts"]``, ``truth.parts``). The last part ends after exactly its
    seconds, as :func:`simulate` does. Everything else is as in :func:`simulate`; the
    person's placement error applies to every area.
    """
    return _session(parts, scenario, seed, conditions, height_cm, sample_rate_hz, person)


@dataclass(frozen=True)
class _Part:
    """One area as simulated: its moves in its own time, which starts at ``placed_s``."""

    routine: str
    asked_s: float  # session time of the switch to it (the lift began)
    placed_s: float  # the roller is down on it
    left_s: float  # lifted off it, or the session's end
    moves: list[Move]
    trajectory: Trajectory
    reversed: bool = False  # end for end to how the session began

    def kinematics(self, t_s: Array) -> tuple[Kinematics, Kinematics]:
        """The contact's path at ``t_s`` (the part's own time), and the roller's turning as
        the sensor feels it: the same, or, end for end, that of the path mirrored about the
        start (the axis points the other way, so the same travel turns it the other way)."""
        kin = self.trajectory.at(t_s)
        if not self.reversed:
            return kin, kin
        phi0_rad = float(self.trajectory.at(np.zeros(1)).phi_rad[0])
        return kin, replace(kin, phi_rad=2 * phi0_rad - kin.phi_rad, omega_rad_s=-kin.omega_rad_s,
                            alpha_rad_s2=-kin.alpha_rad_s2)


@dataclass(frozen=True)
class _Lifted:
    start_s: float  # session time
    lift: Lift

    @property
    def end_s(self) -> float:
        return self.start_s + self.lift.duration_s


def _session(
    parts: Sequence[tuple[str, float]], scenario: str, seed: int, conditions: Conditions | None,
    height_cm: float, sample_rate_hz: float | None, person: Person | None,
    lead_s: float = 0.0, tail_s: float = 0.0,
) -> SimulatedSession:
    """The session of ``parts``; with one part, draws exactly what :func:`simulate` always
    drew, in the same order, so single-area sessions never change."""
    if not parts:
        raise ValueError("a session needs at least one part")
    rng = np.random.default_rng(seed)
    rolling_s = sum(seconds for _, seconds in parts)  # where outages may fall
    conditions = conditions or Conditions.realistic(rng, rolling_s, sample_rate_hz)
    person = person or Person()
    if person.mass_kg is not None:
        conditions = replace(conditions, compression=person.compression(rng))
    body = Body(height_cm)
    plan, lifts = _plan(parts, scenario, body, person, conditions.effective_radius_cm, rng,
                        lead_s, tail_s)
    dropouts = tuple((lifted.start_s + lifted.lift.dropout_s[0], lifted.lift.dropout_s[1])
                     for lifted in lifts if lifted.lift.dropout_s is not None)
    if dropouts:  # the radio lost during a carry
        conditions = replace(conditions, gaps_s=tuple(sorted(conditions.gaps_s + dropouts)))
    t = sample_times(conditions, plan[-1].left_s, rng)
    force_g, rate_dps, s_cm, phi_rad = _ideal(conditions, plan, lifts, t)
    stamp, accel, gyro = sense(conditions, force_g, rate_dps, t, rng)
    offset = stamp[0] - t[0]
    parts_truth = [_truth_part(p, body, float(t[-1]), offset) for p in plan]
    truth = Truth(
        duration_s=float(stamp[-1] - stamp[0]),
        pauses=[pause for p in parts_truth for pause in p.pauses],
        strokes=sum(p.strokes for p in parts_truth),
        lumbar_episodes=[episode for p in parts_truth for episode in p.lumbar_episodes],
        t_s=stamp,
        s_cm=s_cm,
        phi_rad=phi_rad,
        parts=parts_truth,
    )
    header = _header(plan, float(t[0]), conditions, height_cm, scenario, seed)
    return SimulatedSession(header, np.column_stack([stamp, accel, gyro]), truth, conditions)


def _header(
    plan: list[_Part], first_t_s: float, conditions: Conditions, height_cm: float,
    scenario: str, seed: int,
) -> Header:
    """The recording's header; a session of several parts names each switch after the
    first part as ``routine@seconds`` from the first sample: ``parts=glutes@65.200,...``."""
    extra = {"source": "firmware_sim", "scenario": scenario, "seed": str(seed)}
    if len(plan) > 1:
        extra["parts"] = ",".join(f"{p.routine}@{p.asked_s - first_t_s:.3f}" for p in plan[1:])
    return Header(
        sample_rate_hz=conditions.sample_rate_hz,
        roller_diameter_cm=round(conditions.diameter_cm, 2),
        user_height_cm=height_cm,
        routine=plan[0].routine,
        extra=extra,
    )


def _plan(
    parts: Sequence[tuple[str, float]], scenario: str, body: Body, person: Person,
    radius_cm: float, rng: np.random.Generator, lead_s: float, tail_s: float,
) -> tuple[list[_Part], list[_Lifted]]:
    """Every part's moves and every lift between them, on the session's time line."""
    plan: list[_Part] = []
    lifts: list[_Lifted] = []
    for i, (routine, seconds) in enumerate(parts):
        last = i == len(parts) - 1
        moves = script(routine, scenario, seconds, body, rng, 0.0 if lifts else lead_s,
                       tail_s if last else 0.0, person.placement_cm, person.stroke_s,
                       person.keep_off_cm, person.creep)
        phi0_rad = lifts[-1].lift.phi_end_rad if lifts else rng.uniform(-np.pi, np.pi)
        flipped = plan[-1].reversed != lifts[-1].lift.end_for_end if lifts else False
        asked_s, placed_s = (lifts[-1].start_s, lifts[-1].end_s) if lifts else (0.0, 0.0)
        if not last:
            moves = _stop(moves, seconds, rng.uniform(*GET_OFF_S))
        trajectory = Trajectory(moves, radius_cm, phi0_rad)
        left_s = placed_s + (seconds if last else trajectory.end_s)
        plan.append(_Part(routine, asked_s, placed_s, left_s, moves, trajectory, flipped))
        if not last:
            phi_end_rad = float(plan[-1].kinematics(np.array([trajectory.end_s]))[1].phi_rad[0])
            lifts.append(_Lifted(left_s, Lift.draw(rng, phi_end_rad, person.end_for_end_p,
                                                   person.carry_dropout_p)))
    return plan, lifts


def _stop(moves: list[Move], seconds: float, still_s: float) -> list[Move]:
    """A part's moves when its time is up at ``seconds``: the person finishes the stroke
    they are in (or cuts a hold short), and the roller lies still ``still_s`` while they get
    off it. So the lift starts from rest, and the samples run on without a jump."""
    kept = [m for m in moves if m.t0_s < seconds]
    last = kept[-1]
    if last.s0_cm == last.s1_cm:  # a hold: its breathing sway stops too
        return [*kept[:-1], replace(last, t1_s=seconds + still_s, sway_cm=0.0, sway_cycles=0)]
    return [*kept, Move(last.t1_s, last.t1_s + still_s, last.s1_cm, last.s1_cm)]


def _ideal(
    conditions: Conditions, plan: list[_Part], lifts: list[_Lifted], t_s: Array
) -> tuple[Array, Array, Array, Array]:
    """What a perfect sensor reads at ``t_s`` (force g, rate deg/s), and where the contact
    is (cm, NaN while lifted) and the roller's rotation about its axis (rad)."""
    n = len(t_s)
    force_g, rate_dps = np.zeros((n, 3)), np.zeros((n, 3))
    s_cm, phi_rad = np.full(n, np.nan), np.zeros(n)
    for part in plan:
        at = (t_s >= part.placed_s) & (t_s < part.left_s)
        kin, felt = part.kinematics(t_s[at] - part.placed_s)
        force_g[at], rate_dps[at] = ideal(conditions, rolling(conditions, felt))
        s_cm[at], phi_rad[at] = kin.s_cm, felt.phi_rad
    for lifted in lifts:
        at = (t_s >= lifted.start_s) & (t_s < lifted.end_s)
        force_g[at], rate_dps[at] = ideal(conditions, lifted.lift.motion(t_s[at] - lifted.start_s))
        phi_rad[at] = lifted.lift.phi_start_rad
    return force_g, rate_dps, s_cm, phi_rad


def _truth_part(part: _Part, body: Body, last_t_s: float, offset_s: float) -> TruthPart:
    """A part's truth in the recording's clock (``offset_s`` from session time); the
    recording may end inside the last part, at ``last_t_s``."""
    end_s = min(part.left_s, last_t_s)
    own_end_s = end_s - part.placed_s  # in the part's own time
    shift = offset_s + part.placed_s
    return TruthPart(
        routine=part.routine,
        asked_s=float(part.asked_s + offset_s),
        start_s=float(shift),
        end_s=float(end_s + offset_s),
        strokes=_strokes(part.moves, own_end_s),
        pauses=[(float(a + shift), float(b + shift)) for a, b in _pauses(part.moves, own_end_s)],
        lumbar_episodes=[
            {"start_s": float(a + shift), "end_s": float(b + shift), "max_depth_cm": d}
            for a, b, d in _lumbar_episodes(part.trajectory, body, own_end_s)
        ],
        reversed=part.reversed,
    )


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
