"""What imperfect placement costs, and how well the caution and the uncertainty cover it.

Sessions of the two routines that border the lower back (upper back from above, glutes from
below), rolled at the taught pace by simulated people of 155-200 cm whose weight compresses
the foam, some of them half an hour long. The same sessions are rolled with the roller put
exactly on its landmark, put off it at random (normal, 2.5 cm standard deviation), and put
off it by fixed amounts (the offsets of our held-out evaluation), so each column differs
from the first only in placement. Prints, per column:

- caution-or-alert recall: lumbar episodes reaching 1 cm into the band while a caution or an
  alert was on (the goal: all of them);
- alert recall and latency for the episodes the alert is specified for (at least 1 s and
  2 cm deep, as ``bench.analysis``);
- false alerts per hour on sessions that never come within 3 cm of the band;
- cautions per hour on normal upper-back sessions that stay at least 8 cm above the band;
- honesty: the share of track points whose true position lies within ±2 reported SD.

The caution's trade-off, and honesty over long parts, are ``bench.coverage``'s.

Run: ``make bench`` (or ``python -m bench.placement --sessions 64``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from statistics import NormalDist

import numpy as np

from bench import options
from firmware_sim.person import Person
from firmware_sim.session import SimulatedSession, simulate
from tracker.core.body import Body
from tracker.core.estimate import AreaEstimator
from tracker.core.formats.roller_analysis import Analysis

PLACEMENT_SD_CM = 2.5
#: Columns: how the roller is placed (None: at random, normal with 2.5 cm SD; +: feet).
PLACEMENTS: dict[str, float | None] = {
    "exact": 0.0, "N(0,2.5)": None, "+2.5": 2.5, "+5": 5.0, "-5": -5.0,
}
SCENARIOS = ("stray", "lumbar", "stray", "clean")
RATES_HZ = (25.0, 50.0, 100.0)


@dataclass(frozen=True)
class Plan:
    """One session of the corpus, before placement is chosen."""

    routine: str
    scenario: str
    seconds: float
    seed: int
    height_cm: float
    rate_hz: float
    placement_q: float = 0.5  # the quantile of the random placement error
    keep_off_cm: float = 2.0

    def simulate(self, placement_cm: float | None) -> SimulatedSession:
        """The session with the roller put ``placement_cm`` off (None: at random)."""
        person = Person.realistic(np.random.default_rng(self.seed), self.height_cm)
        random_cm = NormalDist(0.0, PLACEMENT_SD_CM).inv_cdf(self.placement_q)
        person = replace(person, keep_off_cm=self.keep_off_cm,
                         placement_cm=random_cm if placement_cm is None else placement_cm)
        return simulate(self.routine, self.scenario, self.seconds, self.seed, None,
                        self.height_cm, self.rate_hz, person=person)


def _quantiles(count: int, seed: int) -> list[float]:
    """Evenly spaced quantiles in a random order: the random placements of a corpus follow
    the normal distribution closely even in a few dozen sessions, where independent draws
    could by chance be much narrower or wider, and the honesty figure with them."""
    order = np.random.default_rng(seed).permutation(count)
    return [(k + 0.5) / count for k in order.tolist()]


def plans(count: int) -> list[Plan]:
    """Bordering sessions; every eighth lasts half an hour (slip grows with distance)."""
    long = [i % 8 == 7 for i in range(count)]
    quantiles = {True: iter(_quantiles(sum(long), 1)),
                 False: iter(_quantiles(count - sum(long), 2))}
    return [
        Plan(("upper_back", "glutes")[i % 2], SCENARIOS[(i // 2) % len(SCENARIOS)],
             1800.0 if long[i] else 120.0 + (i * 97) % 420, 7000 + i,
             155.0 + (i * 13) % 45, RATES_HZ[i % len(RATES_HZ)], next(quantiles[long[i]]))
        for i in range(count)
    ]


def normal_plans(count: int) -> list[Plan]:
    """Upper-back sessions that keep 8 cm or more above the band, as people mostly roll."""
    return [Plan("upper_back", "clean", 180.0 + (i * 53) % 300, 8000 + i,
                 155.0 + (i * 17) % 45, RATES_HZ[i % len(RATES_HZ)], q, keep_off_cm=8.5)
            for i, q in enumerate(_quantiles(count, 3))]


def analysis(sim: SimulatedSession) -> Analysis:
    """The session analysed with the shipped settings, in one chunk (the estimator gives
    the same result however the samples are chunked)."""
    h, x = sim.header, sim.samples
    est = AreaEstimator(h.routine, Body(h.user_height_cm), h.roller_diameter_cm,
                        h.sample_rate_hz)
    est.feed(x[:, 0], x[:, 1:4], x[:, 4:7])
    return est.finish()


def _overlaps(start_s: float, end_s: float, events: list[tuple[float, float]]) -> bool:
    return any(a <= end_s and b >= start_s for a, b in events)


@dataclass
class Tally:
    """Counts for one column (one placement) at one caution level."""

    episodes: int = 0  # reaching 1 cm into the band
    covered: int = 0  # ... with a caution or alert on
    must_alert: int = 0
    alerted: int = 0
    latencies_s: list[float] = field(default_factory=list)
    far_hours: float = 0.0  # sessions never within 3 cm of the band
    far_alerts: int = 0
    normal_hours: float = 0.0
    normal_cautions: int = 0
    inside: int = 0  # track points within 2 SD of the truth
    points: int = 0

    def add(self, sim: SimulatedSession, a: Analysis, normal: bool) -> None:
        truth = sim.truth
        cautions = [(e.start_s, e.end_s) for e in a.caution_events]  # the recording's clock
        alerts = [(e.start_s, e.end_s) for e in a.lumbar_events]
        for ep in truth.lumbar_episodes:
            if ep["max_depth_cm"] >= 1.0:
                self.episodes += 1
                self.covered += _overlaps(ep["start_s"], ep["end_s"], cautions + alerts)
            if ep["max_depth_cm"] >= 2.0 and ep["end_s"] - ep["start_s"] >= 1.0:
                self.must_alert += 1
                hits = [e.alert_s for e in a.lumbar_events
                        if ep["start_s"] - 0.5 <= e.alert_s <= ep["end_s"]]
                if hits:
                    self.alerted += 1
                    self.latencies_s.append(max(0.0, hits[0] - ep["start_s"]))
        top, bottom = Body(sim.header.user_height_cm).lumbar_cm
        hours = truth.duration_s / 3600
        gap = np.maximum(top - truth.s_cm, truth.s_cm - bottom)
        if gap.min() >= 3.0:
            self.far_hours += hours
            self.far_alerts += len(a.lumbar_events)
        if normal:
            self.normal_hours += hours
            self.normal_cautions += len(a.caution_events)
        s_true = np.interp(a.track_t_s, truth.t_s, truth.s_cm)
        error = np.abs(np.asarray(a.track_s_cm) - s_true)
        self.inside += int((error <= 2 * np.asarray(a.track_s_sd_cm)).sum())
        self.points += len(error)


def run(count: int, normal_count: int) -> dict[str, Tally]:
    corpus = [(p, False) for p in plans(count)] + [(p, True) for p in normal_plans(normal_count)]
    table: dict[str, Tally] = {}
    for column, placement in PLACEMENTS.items():
        table[column] = tally = Tally()
        for plan, normal in corpus:
            sim = plan.simulate(placement)
            tally.add(sim, analysis(sim), normal)
    return table


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} % ({part}/{whole})" if whole else "-"


def report(table: dict[str, Tally]) -> None:
    columns = list(table)
    rows = {
        "caution-or-alert recall": lambda t: _pct(t.covered, t.episodes),
        "alert recall": lambda t: _pct(t.alerted, t.must_alert),
        "alert latency p95 s": lambda t: (f"{np.percentile(t.latencies_s, 95):.2f}"
                                          if t.latencies_s else "-"),
        "false alerts /h (>=3 cm off)": lambda t: f"{t.far_alerts / max(t.far_hours, 1e-9):.2f}"
        f" ({t.far_hours:.1f} h)",
        "cautions /h (normal, >=8 cm)": lambda t: f"{t.normal_cautions / t.normal_hours:.2f}"
        f" ({t.normal_hours:.1f} h)",
        "truth within 2 SD": lambda t: _pct(t.inside, t.points),
    }
    print("placement error (cm) per column; the shipped settings")
    print(f"{'':<30}" + "".join(f"{c:>22}" for c in columns))
    for name, cell in rows.items():
        print(f"{name:<30}" + "".join(f"{cell(table[c]):>22}" for c in columns))


def main() -> None:
    parser = options.parser(__doc__)
    parser.add_argument("--sessions", type=int, default=128)
    parser.add_argument("--normal", type=int, default=32)
    args = parser.parse_args()
    sessions, normal = (2, 1) if args.quick else (args.sessions, args.normal)
    report(run(sessions, normal))


if __name__ == "__main__":
    main()
