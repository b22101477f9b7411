"""Device profiles: what arrival timing costs a WitMotion, how well calibration recovers a
sensor's axes, and what decoding each profile's notifications costs.

1. Timing. WitMotion frames carry no time. Simulated sessions from a sensor whose oscillator
   is 1 % fast (101 Hz for a nominal 100 Hz), delivered at 30 ms BLE connection events (and
   sometimes one or two later), are analysed with four clocks: the true sample times (the
   best any clock could do), the raw arrival times, the nominal rate (k / 100 Hz), and our
   ArrivalClock. Position RMS against the truth, after removing each clock's constant delay.
2. Calibration: all 24 sensor orientations x 5 random rollers: axis error and diameter error.
3. Decoding: microseconds per notification for each profile, from the recorded streams.

Run: ``make bench`` (or ``python -m bench.devices``).
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from pathlib import Path

import numpy as np

from bench import options
from firmware_sim.calibration import simulate_calibration
from firmware_sim.imu import Conditions, axis_orientations
from firmware_sim.session import SimulatedSession, simulate
from tracker.core.body import Body
from tracker.core.calibration import calibrate
from tracker.core.estimate import SessionEstimator
from tracker.devices import PROFILES
from tracker.devices.clock import ArrivalClock

STREAMS = Path(__file__).parent.parent / "tests" / "data" / "streams"


def fast_oscillator_session(i: int) -> SimulatedSession:
    rng = np.random.default_rng(500 + i)
    cond = dataclasses.replace(Conditions.realistic(rng, 150.0, 101.0), packet_loss=0.0,
                               gaps_s=(), jitter_s=0.0, clock_start_s=0.0)
    routine = ("upper_back", "glutes")[i % 2]
    return simulate(routine, "stray", 150.0, 500 + i, cond)


def arrivals(t_s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    events = np.ceil(t_s / 0.03) + rng.choice([0, 0, 0, 1, 2], len(t_s))
    return np.maximum.accumulate(events * 0.03 + rng.uniform(0, 0.002, len(t_s)))


def position_rms(sim: SimulatedSession, t_s: np.ndarray) -> float:
    h, x = sim.header, sim.samples
    est = SessionEstimator(h.routine, Body(h.user_height_cm), h.roller_diameter_cm, 100.0)
    for chunk in np.array_split(np.arange(len(t_s)), len(t_s) // 10):
        est.feed(t_s[chunk], x[chunk, 1:4], x[chunk, 4:7])
    a = est.finish()
    delay = float(np.median(t_s - sim.truth.t_s))
    truth = np.interp(np.array(a.track_t_s) - delay, sim.truth.t_s, sim.truth.s_cm)
    return float(np.sqrt(np.mean((np.array(a.track_s_cm) - truth) ** 2)))


def timing(count: int = 8) -> None:
    results: dict[str, list[float]] = {"true times": [], "arrival clock": [],
                                       "nominal rate": [], "raw arrivals": []}
    stamp_errors, rates = [], []
    for i in range(count):
        sim = fast_oscillator_session(i)
        true_t = sim.samples[:, 0]
        arrived = arrivals(true_t, np.random.default_rng(i))
        clock = ArrivalClock(100)
        stamped = np.array([clock.stamp(a)[0] for a in arrived])
        nominal = true_t[0] + np.arange(len(true_t)) / 100.0
        for name, t in (("true times", true_t), ("arrival clock", stamped),
                        ("nominal rate", nominal), ("raw arrivals", arrived)):
            results[name].append(position_rms(sim, t))
        err = stamped - true_t
        settled = true_t - true_t[0] > 10
        stamp_errors.append(np.abs(err[settled] - np.median(err))[::10])
        rates.append(abs(clock.rate_hz / 101.0 - 1))
    errors = np.concatenate(stamp_errors)
    scatter = np.std(np.diff(arrived)) * 1000
    print(f"timing, {count} WitMotion sessions of 150 s (1 % fast oscillator, 30 ms events):")
    print(f"  arrivals: interval std {scatter:.1f} ms; arrival clock: time error p50 "
          f"{np.percentile(errors, 50) * 1000:.2f} ms, p99 {np.percentile(errors, 99) * 1000:.2f}"
          f" ms, rate error max {max(rates) * 100:.3f} %")
    for name, values in results.items():
        print(f"  position RMS median {statistics.median(values):6.2f} cm, worst "
              f"{max(values):6.2f} cm  with {name}")


def calibration(seeds: int = 5) -> None:
    axis_err, diameter_err, spent = [], [], 0.0
    for turn in axis_orientations():
        for seed in range(seeds):
            samples, cond = simulate_calibration(turn, 60.0, seed)
            start = time.perf_counter()
            m = calibrate(samples[:, 0], samples[:, 1:4], samples[:, 4:7], 60.0).mounting
            spent += time.perf_counter() - start
            axis_err.append(np.degrees(np.arccos(min(1.0, float(m.axis @ turn[:, 0])))))
            assert m.diameter_cm is not None
            diameter_err.append(abs(m.diameter_cm / (2 * cond.effective_radius_cm) - 1))
    n, right = len(axis_err), sum(e < 10.0 for e in axis_err)
    print(f"calibration, 24 orientations x {seeds} rollers: axis and sign right {right}/{n}; "
          f"axis error median {statistics.median(axis_err):.2f} deg, max {max(axis_err):.2f} "
          f"deg (the sensor is taped up to 3 deg askew); diameter error median "
          f"{100 * statistics.median(diameter_err):.2f} %, max {100 * max(diameter_err):.2f} %;"
          f" {1000 * spent / n:.1f} ms each")


def decoding(repeat: int = 200) -> None:
    parts = []
    for name, profile in PROFILES.items():
        lines = [line.split() for line in (STREAMS / f"{name}.stream").read_text().splitlines()]
        data = [(float(a), bytes.fromhex(h)) for a, h in lines]
        start = time.perf_counter()
        for _ in range(repeat):
            decoder = profile.decoder(100)
            for arrival, packet in data:
                decoder.feed(packet, arrival)
        micro = (time.perf_counter() - start) / (repeat * len(data)) * 1e6
        per_s = len(data) / 4.0
        parts.append(f"{name} {micro:.0f} us x {per_s:.0f}/s = {micro * per_s / 1e4:.2f} % CPU")
    print("decoding per notification: " + "; ".join(parts))


def main() -> None:
    quick = options.parser(__doc__).parse_args().quick
    timing(1 if quick else 8)
    calibration(1 if quick else 5)
    decoding(5 if quick else 200)


if __name__ == "__main__":
    main()
