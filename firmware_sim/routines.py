"""Scripted rolling routines: bouts of strokes, holds on tight spots, strays into the lumbar band.

Upper-back bouts last 30-60 s with 10-20 s holds on tight spots between them, as people are
taught to roll. Scenarios: ``clean`` stays in the routine's region; ``stray`` lets some strokes
slide into the lumbar band (from the upper back, or up from the glutes) for a second or two;
``lumbar`` adds a bout of deliberate lower-back rolling.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from firmware_sim.motion import Move
from tracker.core.body import Body

SCENARIOS: Final = ("clean", "stray", "lumbar")
#: The region each routine works on.
TARGET_REGION: Final = {"upper_back": 2, "glutes": 4, "hamstrings": 5, "calves": 6}


class _Script:
    """Accumulates moves while keeping track of time, position and the last stroke direction."""

    def __init__(self, start_cm: float, rng: np.random.Generator, slip: float,
                 stroke_s: tuple[float, float] | None, creep: float = 0.0) -> None:
        self.moves: list[Move] = []
        self.t_s = 0.0
        self.s_cm = start_cm
        self.rng = rng
        self.slip = slip  # the recording's systematic slip; each move adds a little of its own
        self.stroke_s = stroke_s
        self.creep = creep  # more slip toward the feet than toward the head: a steady drift

    def stroke_duration(self, distance_cm: float, speed_cm_s: float, steady: bool = False) -> float:
        """How long a one-way stroke takes: the person's own pace if they have one, else
        the distance at about the bout's speed (exactly it, ``steady``)."""
        if self.stroke_s:
            return float(self.rng.uniform(*self.stroke_s))
        if steady:
            return max(0.4, distance_cm / speed_cm_s)
        return max(0.35, distance_cm / (speed_cm_s * self.rng.uniform(0.85, 1.15)))

    def glide(self, to_cm: float, duration_s: float) -> None:
        slip = self.slip + self.rng.normal(0.0, 0.004) \
            + (self.creep if to_cm > self.s_cm else -self.creep)
        self.moves.append(Move(self.t_s, self.t_s + duration_s, self.s_cm, to_cm, slip))
        self.t_s += duration_s
        self.s_cm = to_cm

    def hold(self, duration_s: float, sway_cm: float = 0.0) -> None:
        cycles = max(1, round(duration_s / 4.0)) if sway_cm else 0  # breathing, ~4 s a breath
        self.moves.append(
            Move(self.t_s, self.t_s + duration_s, self.s_cm, self.s_cm, self.slip, sway_cm, cycles)
        )
        self.t_s += duration_s


def script(
    routine: str, scenario: str, seconds: float, body: Body, rng: np.random.Generator,
    lead_s: float = 0.0, tail_s: float = 0.0, placement_cm: float = 0.0,
    stroke_s: tuple[float, float] | None = None, margin_cm: float = 2.0, creep: float = 0.0,
) -> list[Move]:
    """Moves for one session of ``routine`` lasting ``seconds``, starting ``placement_cm``
    from its landmark (positive: toward the feet); the roller lies still for ``lead_s``
    before the rolling and ``tail_s`` after it (a roller that woke and waits, one left on
    the mat). A one-way stroke takes ``stroke_s`` (a range, s) if given, as people really
    roll; else strokes run at a brisk 8-25 cm/s. Strokes keep ``margin_cm`` inside the
    routine's region, strays aside; the body creeps along the roller by ``creep`` per cm
    rolled (:class:`firmware_sim.person.Person`)."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}, expected one of {', '.join(SCENARIOS)}")
    bounds = body.bounds_cm
    region = TARGET_REGION[routine]
    lo, hi = bounds[region] + margin_cm, bounds[region + 1] - margin_cm
    lumbar_top, lumbar_bottom = body.lumbar_cm
    landmark = body.landmark_cm(routine)
    sc = _Script(landmark + placement_cm, rng, rng.uniform(-0.03, 0.03), stroke_s, creep)
    sc.hold(rng.uniform(0.3, 1.5) + lead_s)
    strays_from = {2: "down", 4: "up"}.get(region) if scenario != "clean" else None
    deliberate_lumbar = scenario == "lumbar"
    while sc.t_s < seconds - tail_s:
        if deliberate_lumbar and sc.t_s > seconds / 3:
            _bout(sc, lumbar_top + 2.0, lumbar_bottom - 2.0, rng.uniform(15, 30), None, body)
            deliberate_lumbar = False
        else:
            _bout(sc, lo, hi, rng.uniform(30, 60), strays_from, body)
        sc.hold(rng.uniform(10, 20), sway_cm=rng.uniform(0.05, 0.2))  # a tight spot
    sc.hold(5.0 + tail_s)  # the trajectory covers the whole recording
    return sc.moves


def _bout(
    sc: _Script, lo: float, hi: float, seconds: float, stray: str | None, body: Body
) -> None:
    """Strokes back and forth around a centre inside [lo, hi] for ``seconds``."""
    rng = sc.rng
    width = hi - lo
    length = rng.uniform(0.25, 0.55) * width if width < 20 else rng.uniform(5.0, 12.0)
    centre = rng.uniform(lo + length / 2, hi - length / 2)
    speed = rng.uniform(8.0, 25.0)  # mean stroke speed, cm/s
    end = sc.t_s + seconds
    down = sc.s_cm < centre
    lumbar_top, lumbar_bottom = body.lumbar_cm
    while sc.t_s < end:
        if stray and rng.random() < 0.015:
            depth = rng.uniform(2.0, 5.0)
            target = lumbar_top + depth if stray == "down" else lumbar_bottom - depth
            sc.glide(target, sc.stroke_duration(abs(target - sc.s_cm), speed, steady=True))
            sc.hold(rng.uniform(0.6, 1.5))
            down = stray == "up"
            continue
        half = length / 2 * rng.uniform(0.8, 1.2)
        target = float(np.clip(centre + (half if down else -half), lo, hi))
        if abs(target - sc.s_cm) < 2.5:
            target = float(np.clip(sc.s_cm + (3.0 if down else -3.0), lo - 1.0, hi + 1.0))
        sc.glide(target, sc.stroke_duration(abs(target - sc.s_cm), speed))
        down = not down
