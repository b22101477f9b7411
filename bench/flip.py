"""A roller put down end for end after a lift: read the right way round, as well as one put
down the way it came up.

Three-part sessions whose later parts border the lower back (upper back, glutes), rolled at
the taught pace with strays into the lumbar band by simulated people of 155-200 cm, placed
off their landmarks at random (normal, 2.5 cm SD). The same sessions (the same numbers drawn)
twice: every lift puts the roller down end for end, and every lift puts it down the way it
came up, each up to 20 degrees off square. Per column, over the parts after a lift (where
it matters) and over whole sessions:

- caution-or-alert recall: lumbar episodes reaching 1 cm into the band while a caution or an
  alert was on (the goal: all of them);
- position error (RMS, cm) against the truth, while rolling;
- region agreement: the share of track points in the region the contact really was in;
- the carry's measured turn of the roller's axis about the vertical (deg), the least and the
  most, and the carries that could not be read (the radio lost while carrying: the
  corpus' link outages fall anywhere);
- the parts marked unsure (after a carry that could not tell, and every part after that
  one) and their position RMS: the person was told to check the roller's marked end, and
  the figures above leave them out; read blind, nothing is marked.

A third column shows the end-for-end corpus read as before this was measured (every part
taken to lie the way the session began: ``--blind`` alone prints it too): what the person got.

Run: ``make bench`` (or ``python -m bench.flip --sessions 48``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from unittest import mock

import numpy as np

from bench import options
from firmware_sim.person import Person
from firmware_sim.session import SimulatedSession, simulate_parts
from tracker.core.body import Body
from tracker.core.estimate import session as estimate_session
from tracker.core.estimate.carry import Orientation
from tracker.core.estimate.session import SessionEstimator
from tracker.core.formats.roller_analysis import Analysis

ORDERS = (("hamstrings", "upper_back", "glutes"), ("calves", "glutes", "upper_back"),
          ("upper_back", "glutes", "upper_back"))
SCENARIOS = ("stray", "lumbar")
DEPTH_CM = 1.0  # episodes at least this deep are to be caught


@dataclass
class Score:
    caught: int = 0
    episodes: int = 0
    rms_cm: list[float] = field(default_factory=list)
    agree: list[float] = field(default_factory=list)
    turns_deg: list[float] = field(default_factory=list)
    unread: int = 0
    unsure_rms_cm: list[float] = field(default_factory=list)  # parts marked unsure

    def line(self, name: str) -> str:
        recall = 100 * self.caught / self.episodes if self.episodes else float("nan")
        turns = np.abs(self.turns_deg) if self.turns_deg else np.array([np.nan])
        return (f"{name:<26} {self.caught:>6}/{self.episodes:<3} {recall:5.1f} %    "
                f"{np.mean(self.rms_cm):6.2f} cm  {100 * np.mean(self.agree):5.1f} %  "
                f"{turns.min():5.1f}-{turns.max():5.1f} deg  {self.unread:>2}  "
                f"{len(self.unsure_rms_cm):>2} {_mean(self.unsure_rms_cm):5.1f} cm")


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else float("nan")


def corpus(n: int, end_for_end: bool) -> list[SimulatedSession]:
    """The corpus: lifts all end for end, or all the way round they came up."""
    sessions = []
    for i in range(n):
        rng = np.random.default_rng(9100 + i)
        height = float(rng.uniform(155, 200))
        person = replace(Person.realistic(rng, height), end_for_end_p=1.0 if end_for_end else 0.0,
                         carry_dropout_p=0.0)
        parts = [(area, float(rng.uniform(60, 120))) for area in ORDERS[i % len(ORDERS)]]
        sessions.append(simulate_parts(parts, SCENARIOS[i % len(SCENARIOS)], 9100 + i, None,
                                       height, float(rng.choice([25, 50, 100])), person))
    return sessions


def analyse(sim: SimulatedSession) -> tuple[Analysis, list[float | None]]:
    h = sim.header
    t0 = float(sim.samples[0, 0])
    estimator = SessionEstimator(h.routine, Body(h.user_height_cm), h.roller_diameter_cm,
                                 h.sample_rate_hz, None,
                                 [replace(p, at_s=t0 + p.at_s) for p in h.parts])
    x = sim.samples
    estimator.feed(x[:, 0], x[:, 1:4], x[:, 4:7])
    return estimator.finish(), estimator.carry_turns_deg


@contextmanager
def blind() -> Iterator[None]:
    """The estimator as it was: every carry taken to put the roller down as it came up."""
    with mock.patch.object(estimate_session, "orientation_of",
                           lambda turn_deg: Orientation.SAME):
        yield


def score(sim: SimulatedSession, a: Analysis, turns: list[float | None], later: Score,
          whole: Score) -> None:
    body = Body(sim.header.user_height_cm)
    flagged = [(c.start_s, c.end_s) for c in a.caution_events] + \
        [(e.start_s, e.end_s) for e in a.lumbar_events]
    for i, (truth, part) in enumerate(zip(sim.truth.parts, a.areas, strict=True)):
        into = [whole, later] if i else [whole]
        view = a.part(i)
        t = np.asarray(view.track_t_s)
        s_true = np.interp(t, sim.truth.t_s, sim.truth.s_cm)
        ok = np.isfinite(s_true)
        s_est = np.asarray(view.track_s_cm)
        error = float(np.sqrt(np.mean((s_est[ok] - s_true[ok]) ** 2)))
        agree = float(np.mean(body.region_index(s_est[ok]) == body.region_index(s_true[ok])))
        deep = [e for e in truth.lumbar_episodes if e["max_depth_cm"] >= DEPTH_CM]
        caught = sum(1 for e in deep
                     if any(f0 <= e["end_s"] and f1 >= e["start_s"] for f0, f1 in flagged))
        for s in into:
            if part.orientation_unsure:  # told apart: the person was asked to check
                s.unsure_rms_cm.append(error)
                continue
            s.rms_cm.append(error)
            s.agree.append(agree)
            s.episodes += len(deep)
            s.caught += caught
    for s in (later, whole):
        s.turns_deg += [t for t in turns if t is not None]
        s.unread += sum(t is None for t in turns)


def main() -> None:
    parser = options.parser(__doc__)
    parser.add_argument("--sessions", type=int, default=48)
    parser.add_argument("--blind", action="store_true",
                        help="only the end-for-end corpus, read as before the carry was read")
    args = parser.parse_args()
    n = 1 if args.quick else args.sessions
    columns: list[tuple[str, bool, bool]] = [
        ("as it came up", False, False), ("end for end", True, False),
        ("end for end, read blind", True, True)]
    if args.blind:
        columns = columns[2:]
    scores = []
    for name, flipped, unseeing in columns:
        later, whole = Score(), Score()
        for sim in corpus(n, flipped):
            if unseeing:
                with blind():
                    a, turns = analyse(sim)
            else:
                a, turns = analyse(sim)
            score(sim, a, turns, later, whole)
        scores.append((name, later, whole))
    print(f"bench.flip: {n} three-part sessions, {2 * n} lifts, taught pace, strays, "
          "placement N(0, 2.5 cm), 155-200 cm")
    header = (f"{'':<26} {'caution/alert recall':>20}  {'pos RMS':>8}  {'region':>6}  "
              f"{'carry turn':>15}  {'unread':>6}  {'unsure, RMS':>11}")
    for title, pick in (("parts after a lift", 1), ("whole sessions", 2)):
        print(f"{title}:")
        print(header)
        for name, later, whole in scores:
            print((later, whole)[pick - 1].line(name))


if __name__ == "__main__":
    main()
