"""Sessions of several areas: each part scored as a session is, and what lifting costs.

Three-part sessions (upper back, glutes, hamstrings or calves, in orders people use) rolled at
the taught pace by simulated people of 155-200 cm, lifted and put down between parts,
analysed from their recordings (whose header names the parts, as a live switch would). Per
part, against the simulator's truth:

- position error (RMS, cm) over the part, and the share of its time in its target region;
- stroke count error (%), and strokes lost at the part's start (rolling that began before the
  estimator saw the roller put down and rolling again);
- onset delay: from the end of the lift to the first sample the part is analysed from (s);
- anything counted during a lift (segments or lumbar events beginning in one: the goal is
  none; strokes are counted per part, so a lift has none by construction).

The first part (no lift before it) against the later ones shows what a lift costs; the same
recordings read as one area (the parts ignored) show why a lift must not be read as rolling.

Run: ``make bench`` (or ``python -m bench.parts --sessions 24``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench import options
from firmware_sim.person import TAUGHT_STROKE_S, Person
from firmware_sim.session import SimulatedSession, simulate_parts
from tracker.core.body import REGIONS, Body
from tracker.core.estimate import analyze
from tracker.core.formats.roller_analysis import Analysis
from tracker.core.formats.roller_imu import Header, Recording

ORDERS = (("upper_back", "glutes", "hamstrings"), ("glutes", "hamstrings", "calves"),
          ("upper_back", "glutes", "calves"))
TARGET = {"upper_back": "thoracic", "glutes": "glutes", "hamstrings": "hamstrings",
          "calves": "calves"}


@dataclass
class Score:
    rms_cm: list[float]
    in_region: list[float]
    stroke_error_pct: list[float]
    onset_s: list[float]


def corpus(n: int) -> list[SimulatedSession]:
    sessions = []
    for i in range(n):
        rng = np.random.default_rng(7000 + i)
        height = float(rng.uniform(155, 200))
        person = Person(float(rng.normal(0, 2.5)), None, TAUGHT_STROKE_S)
        parts = [(area, float(rng.uniform(45, 90))) for area in ORDERS[i % len(ORDERS)]]
        sessions.append(simulate_parts(parts, "clean", 7000 + i, None, height,
                                       float(rng.choice([50, 100])), person))
    return sessions


def score(sim: SimulatedSession, a: Analysis, first: Score, later: Score) -> int:
    """Add each part's figures to ``first`` or ``later``; return what a lift counted."""
    body = Body(sim.header.user_height_cm)
    t_true, s_true = sim.truth.t_s, sim.truth.s_cm
    for i, (truth, part) in enumerate(zip(sim.truth.parts, a.areas, strict=True)):
        into = first if i == 0 else later
        view = a.part(i)
        t = np.asarray(view.track_t_s)
        s = np.interp(t, t_true, s_true)
        ok = np.isfinite(s)
        into.rms_cm.append(float(np.sqrt(np.mean((np.asarray(view.track_s_cm)[ok]
                                                   - s[ok]) ** 2))))
        regions = np.asarray(REGIONS)[body.region_index(np.asarray(view.track_s_cm))]
        into.in_region.append(float(np.mean(regions == TARGET[part.routine])))
        into.stroke_error_pct.append(100 * (part.strokes - truth.strokes) / truth.strokes)
        into.onset_s.append(part.start_s - truth.start_s)
    counted = 0
    for l0, l1 in a.lifts:
        counted += sum(1 for s in a.segments if s.start_s > l0 and s.start_s < l1)
        counted += sum(1 for e in a.lumbar_events if l0 < e.start_s < l1)
    return counted


def line(name: str, s: Score) -> str:
    worst = np.max(np.abs(s.stroke_error_pct))
    return (f"{name:<18} {np.mean(s.rms_cm):6.2f} cm  {100 * np.mean(s.in_region):5.1f} %  "
            f"{np.mean(s.stroke_error_pct):+6.2f} % (|max| {worst:4.1f})"
            f"  {np.mean(s.onset_s):5.2f} s (max {np.max(s.onset_s):4.2f})")


def main() -> None:
    parser = options.parser(__doc__)
    parser.add_argument("--sessions", type=int, default=24)
    args = parser.parse_args()
    n = 1 if args.quick else args.sessions
    first, later = Score([], [], [], []), Score([], [], [], [])
    counted, one_area_rms = 0, []
    for sim in corpus(n):
        a = analyze(Recording(sim.header, sim.samples))
        counted += score(sim, a, first, later)
        h = sim.header
        one = analyze(Recording(Header(h.sample_rate_hz, h.roller_diameter_cm,
                                       h.user_height_cm, h.routine), sim.samples))
        t = np.asarray(one.track_t_s)
        s_true = np.interp(t, sim.truth.t_s, sim.truth.s_cm)
        ok = np.isfinite(s_true)
        one_area_rms.append(float(np.sqrt(np.mean((np.asarray(one.track_s_cm)[ok]
                                                          - s_true[ok]) ** 2))))
    print(f"bench.parts: {n} three-part sessions, {2 * n} lifts, taught pace, 155-200 cm")
    print(f"{'part':<18} {'pos RMS':>9}  {'in area':>7}  {'strokes':>20}  {'onset after lift':>20}")
    print(line("first (no lift)", first))
    print(line("after a lift", later))
    print(f"counted during lifts (segments, lumbar events): {counted}")
    print(f"the same recordings read as one area: position RMS "
          f"{np.mean(one_area_rms):.1f} cm")


if __name__ == "__main__":
    main()
