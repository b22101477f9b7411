"""Accuracy and speed of the roll-analysis engine against the simulator's ground truth.

Generates a varied corpus (all four routines, clean / stray / deliberate-lumbar scenarios,
25-200 Hz, 10-15.2 cm rollers, every sensor and radio fault of the specification), analyses
each recording with our estimator and with the *limit*: the same pipeline fed the exact
roller rotation, which no sensor in the roller could beat because body-roller slip is
invisible to it. Prints per-metric figures for both, then times ``roller analyze --json``
over an hour of recordings in one call.

Run: ``make bench`` (or ``python -m bench.analysis --recordings 48``).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench import options
from firmware_sim.session import SimulatedSession, simulate
from tracker.core.body import REGIONS, ROUTINES, Body
from tracker.core.estimate import AreaEstimator
from tracker.core.formats.roller_analysis import Analysis
from tracker.core.formats.roller_imu import write

SCENARIOS = ("clean", "stray", "stray", "lumbar")
RATES = (25.0, 50.0, 100.0, 200.0)


@dataclass(frozen=True)
class Score:
    region_accuracy: float  # fraction of samples, away from region boundaries
    position_rms_cm: float
    must_alert: int  # lumbar episodes of >= 1 s reaching >= 2 cm into the band
    alerted: int
    latencies_s: list[float]
    false_alerts: int
    stroke_error: float  # relative
    active_error: float  # relative
    pauses_exact: bool


def corpus(count: int) -> list[SimulatedSession]:
    sessions = []
    for i in range(count):
        routine = ROUTINES[i % len(ROUTINES)]
        scenario = SCENARIOS[(i // len(ROUTINES)) % len(SCENARIOS)]
        seconds = 90.0 + (i * 37) % 211
        rate = RATES[(i // 3) % len(RATES)]
        height = 155.0 + (i * 13) % 45
        sessions.append(simulate(routine, scenario, seconds, 1000 + i, None, height, rate))
    return sessions


def run_estimator(sim: SimulatedSession, exact: bool) -> tuple[Analysis, float]:
    h = sim.header
    est = AreaEstimator(h.routine, Body(h.user_height_cm), h.roller_diameter_cm,
                        h.sample_rate_hz)
    t, x = sim.samples[:, 0], sim.samples
    start = time.perf_counter()
    if exact:
        phi = sim.truth.phi_rad
        est.feed_rotation(t, phi - phi[0])
    else:
        for chunk in np.array_split(np.arange(len(t)), max(1, len(t) // 10)):  # 10-sample packets
            est.feed(t[chunk], x[chunk, 1:4], x[chunk, 4:7])
    analysis = est.finish()
    return analysis, time.perf_counter() - start


def score(sim: SimulatedSession, a: Analysis) -> Score:
    truth, body = sim.truth, Body(sim.header.user_height_cm)
    bounds = np.array(body.bounds_cm)
    near_edge = np.min(np.abs(truth.s_cm[:, None] - bounds[None, 1:-1]), axis=1) <= 1.0
    starts = np.array([s.start_s for s in a.segments])
    names = [s.region for s in a.segments]
    idx = np.clip(np.searchsorted(starts, truth.t_s, side="right") - 1, 0, len(names) - 1)
    region_true = body.region_index(truth.s_cm)
    region_est = np.array(names)[idx]
    correct = region_est == np.array(REGIONS)[region_true]
    region_accuracy = float(correct[~near_edge].mean())
    s_true_track = np.interp(a.track_t_s, truth.t_s, truth.s_cm)
    position_rms = float(np.sqrt(np.mean((np.array(a.track_s_cm) - s_true_track) ** 2)))
    must = [e for e in truth.lumbar_episodes
            if e["end_s"] - e["start_s"] >= 1.0 and e["max_depth_cm"] >= 2.0]
    alerts = [e.alert_s for e in a.lumbar_events]
    latencies = []
    for episode in must:
        hits = [t for t in alerts if episode["start_s"] - 0.5 <= t <= episode["end_s"]]
        if hits:
            latencies.append(max(0.0, hits[0] - episode["start_s"]))
    false_alerts = sum(
        1 for t in alerts
        if not any(e["start_s"] - 0.5 <= t <= e["end_s"] + 0.5 for e in truth.lumbar_episodes)
    )
    return Score(
        region_accuracy=region_accuracy,
        position_rms_cm=position_rms,
        must_alert=len(must),
        alerted=len(latencies),
        latencies_s=latencies,
        false_alerts=false_alerts,
        stroke_error=abs(a.strokes - truth.strokes) / max(1, truth.strokes),
        active_error=abs(a.active_s - truth.active_s) / truth.active_s,
        pauses_exact=len(a.pauses) == len(truth.pauses),
    )


def summarise(name: str, scores: list[Score], hours: float) -> dict[str, float]:
    lat = sorted(x for s in scores for x in s.latencies_s)
    return {
        "region mean %": 100 * statistics.mean(s.region_accuracy for s in scores),
        "region worst %": 100 * min(s.region_accuracy for s in scores),
        "position RMS median cm": statistics.median(s.position_rms_cm for s in scores),
        "lumbar alerted %": 100 * sum(s.alerted for s in scores)
        / max(1, sum(s.must_alert for s in scores)),
        "alert latency p95 s": float(np.percentile(lat, 95)) if lat else float("nan"),
        "false alerts /h": sum(s.false_alerts for s in scores) / hours,
        "stroke error median %": 100 * statistics.median(s.stroke_error for s in scores),
        "active error median %": 100 * statistics.median(s.active_error for s in scores),
        "pause count exact %": 100 * statistics.mean(s.pauses_exact for s in scores),
    }


def cli_speed(sessions: list[SimulatedSession]) -> tuple[float, float]:
    """Seconds for one ``roller analyze --json`` call over at least an hour of recordings."""
    with tempfile.TemporaryDirectory() as tmp:
        paths, total = [], 0.0
        for i, sim in enumerate(sessions):
            path = Path(tmp) / f"rec{i:03d}.csv"
            write(path, sim.header, sim.samples)
            paths.append(str(path))
            total += sim.truth.duration_s
            if total >= 3600:
                break
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "tracker", "analyze", "--json", *paths],
                       check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - start, total


def main() -> None:
    parser = options.parser(__doc__)
    parser.add_argument("--recordings", type=int, default=48)
    args = parser.parse_args()
    sessions = corpus(2 if args.quick else args.recordings)
    hours = sum(s.truth.duration_s for s in sessions) / 3600
    ours, limit, spent = [], [], 0.0
    for sim in sessions:
        analysis, seconds = run_estimator(sim, exact=False)
        spent += seconds
        ours.append(score(sim, analysis))
        limit.append(score(sim, run_estimator(sim, exact=True)[0]))
    rates = sorted({s.header.sample_rate_hz for s in sessions})
    print(f"corpus: {len(sessions)} recordings, {hours:.2f} h, rates {rates} Hz, "
          f"{sum(s.must_alert for s in limit)} lumbar episodes to alert")
    a, b = summarise("ours", ours, hours), summarise("limit", limit, hours)
    print(f"{'metric':<26}{'ours':>10}{'limit':>10}")
    for key in a:
        print(f"{key:<26}{a[key]:>10.3f}{b[key]:>10.3f}")
    ratio = [o.position_rms_cm / max(1e-9, lim.position_rms_cm)
             for o, lim in zip(ours, limit, strict=True)]
    print(f"{'position RMS ours/limit median':<36}{statistics.median(ratio):.3f}")
    worst_gap = min(o.region_accuracy for o in ours) - min(lim.region_accuracy for lim in limit)
    print(f"{'worst recording vs limit worst (pts)':<36}{100 * worst_gap:+.3f}")
    print(f"{'in-process speed (x real time)':<36}{hours * 3600 / spent:.0f}")
    wall, covered = cli_speed(sessions)
    print(f"roller analyze --json over {covered / 3600:.2f} h of recordings: {wall:.2f} s")


if __name__ == "__main__":
    main()
