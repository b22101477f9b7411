"""Whole simulated sessions through bleak's public API, with the simulator beneath it."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from firmware_sim.bleak_backend import AIR, SimClient, SimScanner
from firmware_sim.peripheral import Faults, SimulatedRoller
from tracker.config import load
from tracker.devices.ble import BleError, scan
from tracker.live.session import LiveSession, Result
from tracker.store.opening import open_store

Run = Callable[..., subprocess.CompletedProcess[str]]


async def run_session(tmp_path: Path, roller: SimulatedRoller) -> Result:
    AIR.clear()
    AIR[roller.address] = roller
    settings = load(env={"ROLLER_USER_TIMEZONE": "UTC"})
    store = open_store(tmp_path / "roller.db")
    live = LiveSession(settings, store, "upper_back", roller.address,
                       scanner_backend=SimScanner, client_backend=SimClient, source="sim")

    async def end_with_roller() -> None:
        await roller.finished.wait()
        live.end("stopped")

    ender = asyncio.get_running_loop().create_task(end_with_roller())
    try:
        return await asyncio.wait_for(live.run(), 60)
    finally:
        ender.cancel()


def test_scan_finds_the_simulated_roller() -> None:
    async def main() -> None:
        AIR.clear()
        roller = SimulatedRoller(seconds=10)
        AIR[roller.address] = roller
        (seen,) = await scan(0.3, SimScanner)
        assert (seen.address, seen.name, seen.rssi) == (roller.address, "roller-sim", -58)

    asyncio.run(main())


def test_a_whole_session_matches_the_truth(tmp_path: Path) -> None:
    roller = SimulatedRoller(scenario="stray", seconds=90, seed=4, speed=40)
    result = asyncio.run(run_session(tmp_path, roller))
    truth = roller.session.truth
    assert result.analysis is not None and result.end_reason == "stopped"
    assert abs(result.analysis.strokes - truth.strokes) <= max(3, 0.03 * truth.strokes)
    deep = [e for e in truth.lumbar_episodes if e["max_depth_cm"] >= 2 and
            e["end_s"] - e["start_s"] >= 1]
    assert len(result.analysis.lumbar_events) >= len(deep)
    assert result.link.lost == 0 and result.link.malformed == 0
    assert result.info.firmware == "sim-1.0" and result.info.battery_pct is not None
    row = open_store(tmp_path / "roller.db").sessions()[0]
    assert row.status == "complete" and row.strokes == result.analysis.strokes


def test_a_dropped_link_continues_the_same_session(tmp_path: Path) -> None:
    roller = SimulatedRoller(seconds=80, seed=5, speed=20, faults=Faults(drops=((30.0, 3.0),)))
    result = asyncio.run(run_session(tmp_path, roller))
    assert result.gaps == 1 and result.analysis is not None
    store = open_store(tmp_path / "roller.db")
    (row,) = store.sessions()
    gaps = json.loads(store.db.database.table("sessions").get(row.id)["link_gaps"])
    assert len(gaps) == 1 and gaps[0][1] is not None
    raw = store.raw_samples(row.id)
    t = raw[:, 0] - raw[0, 0]
    assert t[-1] > 78.0  # nothing after the gap was lost
    assert np.diff(t).max() >= 3.0  # the outage itself is a hole in the samples


def test_notification_loss_is_reported(tmp_path: Path) -> None:
    roller = SimulatedRoller(seconds=120, seed=6, speed=60, faults=Faults(loss=0.05))
    result = asyncio.run(run_session(tmp_path, roller))
    assert result.link.loss_pct == pytest.approx(5.0, abs=1.0)


def test_corrupt_packets_are_counted_and_dropped(tmp_path: Path) -> None:
    roller = SimulatedRoller(seconds=40, seed=7, speed=40, faults=Faults(corrupt_every=50))
    result = asyncio.run(run_session(tmp_path, roller))
    assert result.link.malformed > 0 and result.analysis is not None


def test_an_unsupported_protocol_version_is_refused(tmp_path: Path) -> None:
    roller = SimulatedRoller(seconds=20, seed=8, speed=20, protocol_version=2)
    with pytest.raises(BleError, match="protocol version 2"):
        asyncio.run(run_session(tmp_path, roller))


def test_track_sim_through_the_cli(roller: Run, tmp_path: Path) -> None:
    db, rec = str(tmp_path / "r.db"), tmp_path / "live.csv"
    result = roller("--db", db, "track", "--sim", "--speed", "50", "--seconds", "40",
                    "--json", "--record", str(rec))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["device"]["protocol_version"] == 1 and summary["link"]["loss_pct"] == 0
    replay = json.loads(roller("analyze", "--json", str(rec)).stdout)
    assert replay["strokes"] == summary["strokes"]


@pytest.mark.parametrize(
    ("adapter", "message"),
    [("missing", "no Bluetooth adapter"), ("off", "powered off"),
     ("denied", "bluetooth group")],
)
def test_adapter_errors_are_one_line(roller: Run, tmp_path: Path, adapter: str,
                                     message: str) -> None:
    result = roller("--db", str(tmp_path / "r.db"), "track", "--sim", "--seconds", "10",
                    env={"ROLLER_SIM_ADAPTER": adapter})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr


def test_roller_not_found(roller: Run, tmp_path: Path) -> None:
    result = roller("--db", str(tmp_path / "r.db"), "track", "--sim", "--seconds", "10",
                    "--address", "11:22:33:44:55:66")
    assert result.returncode == 1 and "roller not found" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_pair_devices_forget_and_track_the_paired_roller(roller: Run, tmp_path: Path) -> None:
    db = str(tmp_path / "r.db")
    paired = roller("--db", db, "pair", "--sim", "--timeout", "0.5")
    assert paired.returncode == 0 and "C0:FF:EE:00:00:01" in paired.stdout
    assert "paired" in roller("--db", db, "devices").stdout
    assert roller("--db", db, "doctor", "--sim").returncode == 0
    assert roller("--db", db, "devices", "forget", "C0:FF:EE:00:00:01").returncode == 0
    assert "paired " not in roller("--db", db, "devices").stdout
    result = roller("--db", db, "track")
    assert result.returncode == 2 and "no roller paired" in result.stderr


def test_ctrl_c_writes_the_session_and_disconnects(tmp_path: Path) -> None:
    import signal
    import sys
    import time

    db = tmp_path / "r.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracker", "--db", str(db), "track", "--sim", "--seconds", "60",
         "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(4.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    summary = json.loads(out)
    assert summary["end_reason"] == "stopped" and 1.0 < summary["duration_s"] < 5.0
    (row,) = open_store(db).sessions()
    assert row.status == "complete"


def test_battery_level_notifies_as_it_drains(tmp_path: Path) -> None:
    roller = SimulatedRoller(seconds=1300, seed=10, speed=400)
    result = asyncio.run(run_session(tmp_path, roller))
    assert result.info.battery_pct == 85  # 87 % at start, 1 % every 10 minutes
