"""Session store figures: checkpoint cost, history on ten years of sessions, size of raw data,
and what a start's admission check costs on 84 days of sessions and on ten years of them.

Run: ``make bench`` (or ``python -m bench.store``).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from bench import options
from firmware_sim.session import simulate
from tracker.config import load
from tracker.core import clock
from tracker.core.body import Body
from tracker.core.estimate import SessionEstimator
from tracker.core.schedule import glute_days
from tracker.live.admission import check_start
from tracker.live.recorder import Recorder
from tracker.store.database import Store
from tracker.store.opening import open_store
from tracker.store.rows import SessionStart


def start_of(sim_header: object, t0: float, at: datetime) -> SessionStart:
    h = sim_header
    return SessionStart(h.routine, at, "Europe/Berlin", "sim", h.sample_rate_hz,  # type: ignore[attr-defined]
                        h.roller_diameter_cm, h.user_height_cm, t0)  # type: ignore[attr-defined]


def live_checkpoints(store: Store, minutes: float = 30.0) -> tuple[list[float], float, float]:
    """A 30-minute 100 Hz session fed a second at a time; times each checkpoint."""
    sim = simulate("upper_back", "stray", 60 * minutes, 21, sample_rate_hz=100.0)
    h, x = sim.header, sim.samples
    est = SessionEstimator(h.routine, Body(h.user_height_cm), h.roller_diameter_cm,
                           h.sample_rate_hz)
    recorder = Recorder(store, start_of(h, float(x[0, 0]), clock.now()), est)
    costs: list[float] = []
    original = store.checkpoint

    def timed(*args: object, **kwargs: object) -> None:
        begin = time.perf_counter()
        original(*args, **kwargs)  # type: ignore[arg-type]
        costs.append(time.perf_counter() - begin)

    store.checkpoint = timed  # type: ignore[method-assign]
    for chunk in np.array_split(x, int(x[-1, 0] - x[0, 0])):
        recorder.feed(chunk[:, 0], chunk[:, 1:4], chunk[:, 4:7])
    recorder.finish()
    store.checkpoint = original  # type: ignore[method-assign]
    raw_bytes = store.db.execute(
        "SELECT sum(length(data)) FROM raw_blocks WHERE session_id = ?",
        [recorder.session_id]).fetchone()[0]
    hours = (x[-1, 0] - x[0, 0]) / 3600
    return costs, raw_bytes / hours / 1e6, len(x) * 7 * 8 / hours / 1e6


FIRST = datetime(2016, 11, 1, 18, tzinfo=UTC)  # ten years of evenings from here
DAYS = 3653
AFTER = FIRST + timedelta(days=DAYS)  # the evening after the last one


def history(path: Path, days: int = DAYS) -> int:
    """The last ``days`` days of ten years of evenings (two sessions on most), each session
    with raw samples: the whole ten years are about 7,000 sessions."""
    store = open_store(path)
    sim = simulate("glutes", "clean", 60.0, 3, sample_rate_hz=25.0)
    h, x = sim.header, sim.samples
    est = SessionEstimator(h.routine, Body(h.user_height_cm), h.roller_diameter_cm,
                           h.sample_rate_hz)
    est.feed(x[:, 0], x[:, 1:4], x[:, 4:7])
    analysis = est.finish()
    count = 0
    for day in range(DAYS - days, DAYS):
        for extra in range(1 if day % 10 == 0 else 2):
            at = FIRST + timedelta(days=day, hours=extra * 3)
            session_id = store.start_session(start_of(h, float(x[0, 0]), at))
            store.checkpoint(session_id, analysis, [(0, x)], at + timedelta(minutes=1),
                             "complete", "stopped")
            count += 1
    store.close()
    return count


def admission(path: Path, runs: int = 200) -> tuple[float, float, str]:
    """The median cost (ms) of a glute session's admission check (``check_start``) the
    evening after the last session; of reading the person's whole history, as that check
    did before it read their weeks; and its verdict."""
    store = open_store(path)
    person = store.people.default()
    settings = load(env={}).for_person(person)
    checks, whole = [], []
    for _ in range(runs):
        begin = time.perf_counter()
        verdict, allowed, _ = check_start(store, settings, "glutes", AFTER)
        checks.append(time.perf_counter() - begin)
    for _ in range(5):
        begin = time.perf_counter()
        glute_days([s.rolled() for s in store.sessions(person=person.id)
                    if s.started_at < AFTER], settings.rules)
        whole.append(time.perf_counter() - begin)
    store.close()
    return (float(np.median(checks)) * 1000, float(np.median(whole)) * 1000,
            f"{verdict}, next allowed {allowed}")


def main() -> None:
    quick = options.parser(__doc__).parse_args().quick
    minutes, days, runs = (1.0, 120, 5) if quick else (30.0, DAYS, 200)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "live.db")
        costs, mb_per_hour, mb_plain = live_checkpoints(store, minutes)
        costs_ms = np.array(costs) * 1000
        print(f"checkpoint of a live 100 Hz session ({minutes:.0f} min, {len(costs)} checkpoints): "
              f"median {np.median(costs_ms):.2f} ms, p99 {np.percentile(costs_ms, 99):.2f} ms, "
              f"max {costs_ms.max():.2f} ms")
        print(f"raw samples stored: {mb_per_hour:.1f} MB per hour at 100 Hz "
              f"(float64 would be {mb_plain:.1f} MB)")
        path = Path(tmp) / "ten_years.db"
        begin = time.perf_counter()
        count = history(path, days)
        print(f"{days / 365.25:.1f} years: {count} sessions with raw samples written in "
              f"{time.perf_counter() - begin:.1f} s; file {path.stat().st_size / 1e6:.0f} MB")
        for args in (["history"], ["history", "--json"], ["schedule"]):
            begin = time.perf_counter()
            subprocess.run([sys.executable, "-m", "tracker", "--db", str(path), *args],
                           check=True, stdout=subprocess.DEVNULL)
            print(f"roller {' '.join(args)} on {count} sessions: "
                  f"{time.perf_counter() - begin:.2f} s (start-up included)")
        recent = Path(tmp) / "84_days.db"
        few = history(recent, 84)
        check_few_ms, whole_few_ms, said = admission(recent, runs)
        check_ms, whole_ms, said_too = admission(path, runs)
        assert said == said_too, (said, said_too)  # the same weeks, the same verdict
        print(f"admission of a glute session ({said}): on 84 days ({few} sessions) "
              f"{check_few_ms:.2f} ms, on {days / 365.25:.1f} years ({count} sessions) "
              f"{check_ms:.2f} ms: "
              f"{check_ms / check_few_ms:.2f} x (reading the whole history, as it did "
              f"before: {whole_few_ms:.1f} ms and {whole_ms:.0f} ms)")


if __name__ == "__main__":
    main()
