"""Sessions of several areas: each part from its own landmark, the lifts between them
neither rolling nor stillness, through analysis, the store, the CLI and the live path."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Callable
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from firmware_sim.bleak_backend import AIR, SimClient, SimScanner
from firmware_sim.peripheral import SimulatedRoller
from firmware_sim.session import SimulatedSession, simulate, simulate_parts
from tests.suite_clock import stamped
from tracker.config import load
from tracker.core import clock
from tracker.core.body import Body
from tracker.core.estimate import SessionEstimator, analyze
from tracker.core.formats.roller_imu import Header, Recording, write
from tracker.core.lifecycle import Lifecycle
from tracker.core.schedule import Rolled, Rules, glute_days, glutes_active_s
from tracker.live.recorder import store_recording
from tracker.live.session import LiveSession
from tracker.store.opening import open_store
from tracker.store.rows import SessionStart

Run = Callable[..., subprocess.CompletedProcess[str]]
THREE = [("upper_back", 60.0), ("glutes", 60.0), ("hamstrings", 50.0)]
TARGET = {"upper_back": "thoracic", "glutes": "glutes", "hamstrings": "hamstrings"}


@pytest.fixture(scope="module")
def three_parts() -> SimulatedSession:
    return simulate_parts(THREE, "clean", seed=1, sample_rate_hz=50.0)


def test_three_parts_each_in_its_region(three_parts: SimulatedSession) -> None:
    sim = three_parts
    a = analyze(Recording(sim.header, sim.samples))
    assert [p.routine for p in a.areas] == [r for r, _ in THREE]
    for i, (truth, part) in enumerate(zip(sim.truth.parts, a.areas, strict=True)):
        regions = a.part(i).time_in_regions()
        assert max(regions, key=regions.__getitem__) == TARGET[part.routine]
        assert truth.start_s <= part.start_s < truth.start_s + 3.0  # rolling, once put down
        assert abs(part.strokes - truth.strokes) <= 3
    # One glute session for the schedule, however many parts.
    rolled = Rolled(clock.now(), "UTC", a.routine, glutes_active_s(a),
                    tuple(p.routine for p in a.areas))
    assert glutes_active_s(a) >= 30 and len(glute_days([rolled], Rules())) == 1


def test_lifting_adds_no_strokes_no_lumbar_no_active_time(three_parts: SimulatedSession) -> None:
    sim = three_parts
    a = analyze(Recording(sim.header, sim.samples))
    assert len(a.lifts) == 2 and a.lifted_s >= 2 * 3.0  # each lift is 3-8 s, then placing
    for l0, l1 in a.lifts:
        for s in a.segments:
            assert s.end_s <= l0 + 1e-6 or s.start_s >= l1 - 1e-6
        for e in [*a.lumbar_events, *a.caution_events]:
            assert e.end_s <= l0 or e.start_s >= l1
        assert not [p for p in a.pauses if l0 < p[0] < l1]
    assert a.active_s + a.paused_s + a.lifted_s == pytest.approx(a.duration_s)
    assert abs(a.strokes - sim.truth.strokes) <= 6
    # The same samples read as one area: the lifts roll it, and every position is wrong.
    h = sim.header
    one = analyze(Recording(Header(h.sample_rate_hz, h.roller_diameter_cm, h.user_height_cm,
                                   h.routine), sim.samples))
    assert "glutes" not in one.time_in_regions()


def test_parts_through_the_store_and_cli(tmp_path: Path, three_parts: SimulatedSession,
                                         roller: Run) -> None:
    db, rec = str(tmp_path / "r.db"), tmp_path / "three.csv"
    write(rec, three_parts.header, three_parts.samples)
    assert roller("--db", db, "import", str(stamped(rec))).returncode == 0
    shown = roller("--db", db, "session", "show", "1").stdout
    assert "upper back + glutes + hamstrings" in shown
    assert "1. upper back" in shown and "3. hamstrings" in shown and "pace" in shown
    analysis = json.loads(roller("analyze", "--json", str(rec)).stdout)
    assert [p["routine"] for p in analysis["parts"]] == ["upper_back", "glutes", "hamstrings"]
    assert len(analysis["lifts"]) == 2
    exported = roller("--db", db, "export", "1", "--format", "imu-csv").stdout
    assert "# parts=glutes@" in exported  # a re-analysis splits it the same way
    assert roller("--db", db, "reanalyze", "1").returncode == 0
    with closing(open_store(Path(db))) as store:
        row = store.session(1)
        assert row.areas == ("upper_back", "glutes", "hamstrings")
        detail = store.session_detail(1)
        assert [p.routine for p in detail.parts] == list(row.areas) and len(detail.lifts) == 2
    week = roller("--db", db, "schedule").stdout
    assert "1 of 3 done" in week


@pytest.mark.bluetooth
def test_three_parts_through_the_live_path(tmp_path: Path) -> None:
    """Switched as a person would, just before each lift, over the simulated Bluetooth link."""
    settings = load(env={"ROLLER_USER_TIMEZONE": "UTC"})
    store = open_store(tmp_path / "r.db")
    AIR.clear()
    sensor = SimulatedRoller(parts=[(r, s / 2) for r, s in THREE], seed=4, speed=6)
    AIR[sensor.address] = sensor
    assert sensor.session is not None
    t0 = float(sensor.session.samples[0, 0])
    asked = [t0 + p.asked_s - float(sensor.session.truth.parts[0].asked_s)
             for p in sensor.session.truth.parts[1:]]
    switches = list(zip(asked, [p.routine for p in sensor.session.truth.parts[1:]],
                        strict=True))

    def on_status(status: object) -> None:
        state = getattr(status, "state", None)
        if state is not None and switches and state.t_s >= switches[0][0] - 0.3:
            live.switch(switches.pop(0)[1])

    live = LiveSession(settings, store, "upper_back", sensor.address, on_status, SimScanner,
                       SimClient, source="sim", status_every_s=0.0)

    async def main() -> None:
        async def end() -> None:
            await sensor.finished.wait()
            live.end("stopped")
        ender = asyncio.get_running_loop().create_task(end())
        await live.run()
        ender.cancel()

    asyncio.run(main())
    with closing(store):
        (row,) = store.sessions()
        assert row.areas == ("upper_back", "glutes", "hamstrings")
        detail = store.session_detail(row.id)
        assert len(detail.lifts) == 2 and row.lumbar_events == 0
        for part in detail.parts:
            inside = [s for s in detail.segments if part.start_s <= s.start_s <= part.end_s]
            longest = max(inside, key=lambda s: s.end_s - s.start_s)
            assert longest.region == TARGET[part.routine]
        assert abs(row.strokes - sensor.session.truth.strokes) <= 8


def test_a_switch_without_a_lift_stays_in_the_part_under_way() -> None:
    """Slid along instead of lifted: the contact is followed on from where it was (never
    restarted at a landmark it is not at), and no part begins until a lift."""
    sim = simulate("upper_back", "clean", 90.0, seed=5, sample_rate_hz=50.0)
    h = sim.header
    plain = analyze(Recording(sim.header, sim.samples))
    switched = analyze(Recording(Header(h.sample_rate_hz, h.roller_diameter_cm,
                                        h.user_height_cm, h.routine, {"parts": "glutes@40"}),
                                 sim.samples))
    assert [p.routine for p in switched.areas] == ["upper_back"] and switched.lifts == []
    assert switched.strokes == plain.strokes and switched.segments == plain.segments


def test_the_same_parts_however_the_samples_are_chunked(three_parts: SimulatedSession) -> None:
    """Live notifications or a whole file: one result (the estimator's promise)."""
    sim, h = three_parts, three_parts.header
    whole = analyze(Recording(h, sim.samples))
    t0 = float(sim.samples[0, 0])
    plan = [replace(p, at_s=t0 + p.at_s) for p in h.parts]
    est = SessionEstimator(h.routine, Body(h.user_height_cm), h.roller_diameter_cm,
                           h.sample_rate_hz, None, plan)
    for chunk in np.array_split(sim.samples, len(sim.samples) // 7):
        est.feed(chunk[:, 0], chunk[:, 1:4], chunk[:, 4:7])
    chunked = est.finish()
    assert [(p.routine, p.strokes) for p in chunked.areas] == \
        [(p.routine, p.strokes) for p in whole.areas]
    for a, b in zip(chunked.areas, whole.areas, strict=True):
        assert a.start_s == pytest.approx(b.start_s, abs=0.15)
    assert chunked.strokes == whole.strokes and len(chunked.lumbar_events) == len(
        whole.lumbar_events)


def test_simulate_several_parts_from_the_command_line(tmp_path: Path, roller: Run) -> None:
    rec = tmp_path / "two.csv"
    made = roller("simulate", "--parts", "upper_back:40,calves:40", "--seed", "3", "-o",
                  str(rec))
    assert made.returncode == 0, made.stderr
    truth = json.loads(rec.with_name("two.truth.json").read_text())
    assert [p["routine"] for p in truth["parts"]] == ["upper_back", "calves"]
    analysis = json.loads(roller("analyze", "--json", str(rec)).stdout)
    assert [p["routine"] for p in analysis["parts"]] == ["upper_back", "calves"]


def test_rolling_that_shows_on_a_resting_sample_starts_the_part_there() -> None:
    """The sample that carries the turn past 30 degrees may itself be turning slowly."""
    def block(t0: float, n: int, gx: float = 0.0, ax: float = 0.0) -> tuple[np.ndarray, ...]:
        return (t0 + np.arange(n) / 100, np.tile([ax, 0.0, 1.0], (n, 1)),
                np.tile([gx, 0.0, 0.0], (n, 1)))

    est = SessionEstimator("upper_back", Body(175), 15, 100.0)
    est.feed(*block(0, 500, gx=20.0))
    est.switch("glutes", 5.0)
    for args in ((5.0, 100, 0.0, 0.9), (6.0, 100), (7.0, 29, 100.0), (7.29, 1, 99.0),
                 (7.30, 1, 4.9)):
        state = est.feed(*block(*args))
    assert state.part == 1 and not state.placing


@pytest.mark.parametrize("second_s", [0.0, 3.5, 6.0])
def test_a_reanalysis_splits_a_session_as_it_was_split_live(
        tmp_path: Path, three_parts: SimulatedSession, second_s: float) -> None:
    """Switched twice (a change of mind while lifting), or ended mid-lift: what the store
    keeps re-analyses to the same parts."""
    sim, h = three_parts, three_parts.header
    t0 = float(sim.samples[0, 0])
    first = sim.header.parts[0]
    plan = [replace(first, routine="hamstrings", at_s=t0 + first.at_s),
            replace(first, at_s=t0 + first.at_s + second_s)]
    end = int(np.searchsorted(sim.samples[:, 0], t0 + first.at_s + 4.0))  # mid-lift
    samples = sim.samples if second_s else sim.samples[:end]
    live = SessionEstimator(h.routine, Body(h.user_height_cm), h.roller_diameter_cm,
                            h.sample_rate_hz, None, plan)
    store = open_store(tmp_path / "r.db")
    with closing(store):
        start = SessionStart(h.routine, clock.now(), "UTC", "import", h.sample_rate_hz,
                             h.roller_diameter_cm, h.user_height_cm, t0)
        session_id = store_recording(store, start, live, Recording(h, samples), "x",
                                     Lifecycle())
        stored = store.session_detail(session_id)
        recording = store.recording(session_id)
        assert recording is not None
        again = analyze(recording)
    assert [(p.routine, p.strokes) for p in again.areas] == \
        [(p.routine, p.strokes) for p in stored.parts]
    assert len(again.lifts) == len(stored.lifts)


def test_a_recorded_program_session_keeps_its_parts(tmp_path: Path, roller: Run) -> None:
    """roller track --record: the file re-analyses as the live session was split."""
    folder = tmp_path / "config" / "roller" / "programs"
    folder.mkdir(parents=True)
    (folder / "two.toml").write_text(
        '[[program]]\nname = "two"\ntitle = "Two"\n\n'
        '[[program.step]]\narea = "upper_back"\ntarget_s = 15\n\n'
        '[[program.step]]\narea = "hamstrings"\ntarget_s = 15\n', encoding="utf-8")
    rec = tmp_path / "live.csv"
    tracked = roller("--db", str(tmp_path / "r.db"), "track", "--sim", "--program", "two",
                     "--speed", "20", "--scenario", "clean", "--record", str(rec), "--json")
    assert tracked.returncode == 0, tracked.stderr
    live = json.loads(tracked.stdout)
    assert [p["routine"] for p in live["parts"]] == ["upper_back", "hamstrings"]
    assert "# parts=hamstrings@" in rec.read_text(encoding="utf-8")
    again = json.loads(roller("analyze", "--json", str(rec)).stdout)
    assert [(p["routine"], p["strokes"]) for p in again["parts"]] == \
        [(p["routine"], p["strokes"]) for p in live["parts"]]
