"""Calibration: every one of the 24 ways a sensor can sit in a roller, the errors a person
can make, the stored mounting, and whole calibrated sessions of each profile through bleak."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from firmware_sim.bleak_backend import AIR, SimClient, SimScanner
from firmware_sim.calibration import simulate_calibration
from firmware_sim.imu import axis_orientations
from firmware_sim.peripheral import TAPED_AXES, SimulatedRoller
from tracker.config import load
from tracker.core.calibration import AxisCheck, CalibrationError, Mounting, calibrate
from tracker.core.status import Status
from tracker.devices import PROFILES
from tracker.live.calibration_step import Steps, record
from tracker.live.session import LiveSession, Result
from tracker.store.opening import open_store

Run = Callable[..., subprocess.CompletedProcess[str]]
TURNS = axis_orientations()


def _calibrate(samples: np.ndarray, distance_cm: float | None = 60.0) -> Mounting:
    return calibrate(samples[:, 0], samples[:, 1:4], samples[:, 4:7], distance_cm).mounting


@pytest.mark.parametrize("index", range(24))
def test_every_axis_orientation_is_recovered(index: int) -> None:
    turn = TURNS[index]  # row i: sensor axis i in roller axes
    samples, conditions = simulate_calibration(turn, 60.0, seed=index)
    mounting = _calibrate(samples)
    # The roller axis (and its sign) in sensor axes is the turn's first column, up to the
    # few degrees a hand-taped sensor is askew (the simulator's mount error, <= 3 deg).
    off = np.degrees(np.arccos(np.clip(mounting.axis @ turn[:, 0], -1, 1)))
    assert off < 3.5
    assert mounting.diameter_cm == pytest.approx(2 * conditions.effective_radius_cm, rel=0.015)
    # In roller axes, the rates are about +x, and gravity at rest is in the y-z plane.
    accel, gyro = mounting.apply(samples[:, 1:4], samples[:, 4:7])
    rolling = np.linalg.norm(gyro, axis=1) > 30
    assert np.abs(gyro[rolling, 0]).mean() > 20 * np.abs(gyro[rolling, 1:]).mean()
    assert abs(accel[:100, 0].mean()) < 0.06


def test_the_sign_follows_the_first_roll_away() -> None:
    """Rolling away turns the roller positively about +x (to the person's left)."""
    samples, _ = simulate_calibration(TURNS[5], 60.0, seed=3)
    _, gyro = _calibrate(samples).apply(samples[:, 1:4], samples[:, 4:7])
    first = np.flatnonzero(np.abs(gyro[:, 0]) > 30)[0]
    assert gyro[first, 0] > 0


def test_without_a_distance_the_diameter_is_left_alone() -> None:
    samples, _ = simulate_calibration(TURNS[2], 60.0, seed=1)
    assert _calibrate(samples, None).diameter_cm is None


def _mistake(kind: str) -> np.ndarray:
    samples, _ = simulate_calibration(TURNS[9], 60.0, seed=2)
    rng = np.random.default_rng(0)
    if kind == "no still":
        return samples[250:]
    if kind == "never rolled":
        return samples[:250]
    if kind == "wobble":
        samples[:, 4:7] += rng.normal(0, 1, (len(samples), 3)) * np.linalg.norm(
            samples[:, 4:7], axis=1, keepdims=True) * 0.6
    if kind == "tilted":  # gravity along the roller axis: it stood on its end
        quarter = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])
        samples[:, 1:4] = samples[:, 1:4] @ TURNS[9] @ quarter @ TURNS[9].T
    return samples


@pytest.mark.parametrize(("kind", "says"), [
    ("no still", "keep the roller still"),
    ("never rolled", "never rolled"),
    ("wobble", "wobbled"),
    ("tilted", "tilted"),
])
def test_a_bad_calibration_says_what_to_do(kind: str, says: str) -> None:
    with pytest.raises(CalibrationError, match=says):
        _calibrate(_mistake(kind))


def test_a_wrong_distance_is_refused() -> None:
    samples, _ = simulate_calibration(TURNS[4], 60.0, seed=5)
    with pytest.raises(CalibrationError, match="roll exactly the stated distance"):
        _calibrate(samples, 600.0)


def test_mountings_round_trip_and_bad_ones_are_refused() -> None:
    samples, _ = simulate_calibration(TURNS[11], 60.0, seed=7)
    mounting = _calibrate(samples)
    again = Mounting.from_json(json.loads(json.dumps(mounting.to_json())))
    np.testing.assert_allclose(again.rotation, mounting.rotation, atol=1e-6)
    assert again.diameter_cm == pytest.approx(mounting.diameter_cm, abs=0.01)
    with pytest.raises(ValueError, match="rotation"):
        Mounting.from_json({"rotation": [[2, 0, 0], [0, 1, 0], [0, 0, 1]]})


def test_the_axis_check_accepts_the_right_mounting_and_flags_a_wrong_one() -> None:
    samples, _ = simulate_calibration(TURNS[13], 60.0, seed=8)
    right, wrong = _calibrate(samples), Mounting.from_json({"rotation": TURNS[14].tolist()})
    for mounting, verdict in ((right, False), (wrong, True)):
        check = AxisCheck(100.0)
        decided = [check.feed(mounting.apply(samples[i:i + 10, 1:4], samples[i:i + 10, 4:7])[1])
                   for i in range(0, len(samples), 10)]
        assert sum(decided) == 1 and check.wrong is verdict


async def _calibrated_session(tmp_path: Path, profile: str, mounting: Mounting | None,
                              seed: int) -> tuple[Result, SimulatedRoller, list[Status]]:
    AIR.clear()
    settings = load(env={"ROLLER_USER_TIMEZONE": "UTC"})
    store = open_store(tmp_path / "roller.db")
    if mounting is None:  # calibrate first, through bleak, as `roller calibrate` does
        calibrating = SimulatedRoller(routine="calibrate", seed=seed, speed=40, profile=profile)
        AIR[calibrating.address] = calibrating
        samples, _ = await record(calibrating.address, PROFILES[profile], lambda _: None,
                                  scanner_backend=SimScanner, client_backend=SimClient,
                                  clock=calibrating.air_time)
        mounting = _calibrate(samples)
    roller = SimulatedRoller(scenario="stray", seconds=90, seed=seed, speed=40, profile=profile)
    AIR[roller.address] = roller
    statuses: list[Status] = []
    live = LiveSession(settings, store, "upper_back", roller.address, statuses.append,
                       SimScanner, SimClient, source="sim", profile=PROFILES[profile],
                       mounting=mounting, clock=roller.air_time)

    async def end() -> None:
        await roller.finished.wait()
        live.end("stopped")

    ender = asyncio.get_running_loop().create_task(end())
    try:
        return await asyncio.wait_for(live.run(), 60), roller, statuses
    finally:
        ender.cancel()


@pytest.mark.bluetooth
@pytest.mark.parametrize("profile", ["witmotion", "movesense"])
def test_a_calibrated_sensor_tracks_a_whole_session(tmp_path: Path, profile: str) -> None:
    result, roller, _ = asyncio.run(_calibrated_session(tmp_path, profile, None, seed=9))
    truth = roller.session.truth  # type: ignore[union-attr]
    assert result.analysis is not None and not result.warnings
    assert abs(result.analysis.strokes - truth.strokes) <= max(3, 0.03 * truth.strokes)
    deep = [e for e in truth.lumbar_episodes if e["max_depth_cm"] >= 2]
    assert deep and len(result.analysis.lumbar_events) >= len(deep)
    assert result.link.lost == result.link.malformed == 0
    assert result.info.profile == profile


@pytest.mark.bluetooth
def test_a_wrong_calibration_warns_instead_of_tracking_nonsense(tmp_path: Path) -> None:
    taped = TURNS[TAPED_AXES["witmotion"]]
    wrong = Mounting.from_json({"rotation": np.roll(taped.T, 1, axis=0).tolist()})
    result, _, statuses = asyncio.run(_calibrated_session(tmp_path, "witmotion", wrong, 6))
    assert result.warnings and "calibrated axis" in result.warnings[0]
    assert any(s.warning for s in statuses)


def test_calibrate_and_track_through_the_cli(roller: Run, tmp_path: Path) -> None:
    db = ["--db", str(tmp_path / "r.db")]
    before = roller(*db, "track", "--sim", "--profile", "movesense", "--seconds", "20",
                    "--speed", "40")
    assert before.returncode == 2 and "not calibrated" in before.stderr
    assert len(before.stderr.strip().splitlines()) == 1 and "Traceback" not in before.stderr
    done = roller(*db, "calibrate", "--sim", "--profile", "movesense", "--speed", "40",
                  "--distance", "60")
    assert done.returncode == 0, done.stderr
    assert "roll it away from you exactly 60 cm" in done.stdout and "calibrated" in done.stdout
    devices = roller(*db, "devices")
    assert "movesense" in devices.stdout and "calibrated" in devices.stdout
    track = roller(*db, "track", "--sim", "--profile", "movesense", "--seconds", "40",
                   "--speed", "40", "--json")
    assert track.returncode == 0, track.stderr
    data = json.loads(track.stdout)
    assert data["device"]["profile"] == "movesense" and data["warnings"] == []
    assert data["device"]["diameter_cm"] == pytest.approx(
        2 * SimulatedRoller(profile="movesense").conditions.effective_radius_cm, rel=0.02)


def test_scan_says_what_each_device_is(roller: Run) -> None:
    found = roller("scan", "--sim", "--timeout", "0.5")
    assert found.returncode == 0, found.stderr
    for label in ("roller protocol v1", "WitMotion BWT901BLECL", "Movesense"):
        assert label in found.stdout


def test_a_calibration_that_is_never_done_is_one_line(roller: Run, tmp_path: Path) -> None:
    stuck = roller("--db", str(tmp_path / "r.db"), "calibrate", "--sim", "--profile",
                   "witmotion", "--timeout", "10", "--speed", "0.5")
    assert stuck.returncode == 1 and "not finished within 10 s" in stuck.stderr
    assert "Traceback" not in stuck.stderr



def test_a_damaged_calibration_is_one_line(roller: Run, tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    assert roller("--db", str(db), "calibrate", "--sim", "--profile", "witmotion", "--speed",
                  "40").returncode == 0
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE devices SET mounting = '{\"rotation\": 3}'")
    broken = roller("--db", str(db), "track", "--sim", "--profile", "witmotion")
    assert broken.returncode == 1 and "calibration of C0:FF:EE:00:00:02 is damaged" in broken.stderr
    assert "Traceback" not in broken.stderr


def test_the_steps_follow_still_roll_and_back_and_not_a_pause_out_there() -> None:
    samples, _ = simulate_calibration(TURNS[3], 60.0, seed=9)
    steps, phases = Steps(), []
    for i in range(0, len(samples), 5):  # notifications of 5 samples
        if steps.feed(samples[i:i + 5, 0], samples[i:i + 5, 4:7]):
            phases.append((steps.phase, samples[i, 0] - samples[0, 0]))
    assert [p for p, _ in phases] == ["roll", "settle", "done"]
    # the roller holds 1 s at the far end (5.5-6.5 s) and is back still at 9 s
    assert phases[-1][1] > 9.0
