"""Snapshots of the dashboard's screens, with a fixed clock and a deterministic session.

Update after an intended change: ``pytest tests/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dashboards.app import RollerApp
from firmware_sim.session import simulate
from tests.weeks import fill
from tracker.config import load
from tracker.core.body import Body
from tracker.core.estimate import SessionEstimator
from tracker.core.status import Status
from tracker.live.recorder import Recorder
from tracker.live.source import Source
from tracker.store.opening import open_store
from tracker.store.rows import SessionStart

NOW = datetime(2026, 11, 19, 18, 0, tzinfo=UTC)  # a Thursday evening
SIZE = (80, 24)


def status_at(seconds: float, lumbar: bool) -> Status:
    """The estimator's state after ``seconds`` of a fixed simulated session."""
    sim = simulate("upper_back", "stray", 120.0, 17, sample_rate_hz=100.0)
    x = sim.samples
    est = SessionEstimator("upper_back", Body(), sim.header.roller_diameter_cm, 100)
    state = None
    for chunk in range(0, len(x), 10):
        part = x[chunk:chunk + 10]
        state = est.feed(part[:, 0], part[:, 1:4], part[:, 4:7])
        if part[-1, 0] - x[0, 0] >= seconds and (state.lumbar or not lumbar):
            break
    assert state is not None and state.lumbar == lumbar
    return Status("live", 0, state, 1.2, 86)


def app_for(tmp_path: Path) -> RollerApp:
    settings = load(env={"ROLLER_USER_TIMEZONE": "UTC"})
    store = open_store(tmp_path / "r.db")
    for days, routine in ((3, "glutes"), (2, "upper_back"), (1, "upper_back")):
        sim = simulate(routine, "clean", 60.0, days, sample_rate_hz=50.0)
        h = sim.header
        start = SessionStart(routine, NOW - timedelta(days=days), "UTC", "import",
                             h.sample_rate_hz, h.roller_diameter_cm, h.user_height_cm,
                             float(sim.samples[0, 0]))
        est = SessionEstimator(routine, Body(), h.roller_diameter_cm, h.sample_rate_hz)
        recorder = Recorder(store, start, est)
        recorder.feed(sim.samples[:, 0], sim.samples[:, 1:4], sim.samples[:, 4:7])
        recorder.finish("imported")
    (tmp_path / "ack").write_text("yes")
    return RollerApp(settings, store, "upper_back", lambda: Source("none"),
                     acknowledged=tmp_path / "ack", autostart=False, clock=lambda: NOW)


def show(app: RollerApp, status: Status) -> None:
    app._on_status(status, None)
    app.redraw()


@pytest.mark.parametrize(("name", "seconds", "lumbar"), [("live", 40.0, False),
                                                          ("alert", 30.0, True)])
def test_live(snap_compare: Any, tmp_path: Path, name: str, seconds: float,
              lumbar: bool) -> None:
    app = app_for(tmp_path)
    status = status_at(seconds, lumbar)

    async def before(pilot: Any) -> None:
        await pilot.pause()
        show(app, status)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=before)


@pytest.mark.parametrize("key", ["s", "h"])
def test_schedule_and_history(snap_compare: Any, tmp_path: Path, key: str) -> None:
    assert snap_compare(app_for(tmp_path), terminal_size=SIZE, press=[key])


def weeks_app(tmp_path: Path) -> RollerApp:
    """The app on several weeks of two people's sessions, as ``me``, at a fixed moment."""
    store = fill(tmp_path / "r.db")
    settings = load(env={"ROLLER_USER_TIMEZONE": "UTC"}).for_person(store.people.default())
    (tmp_path / "ack").write_text("yes")
    return RollerApp(settings, store, "upper_back", lambda: Source("none"),
                     acknowledged=tmp_path / "ack", autostart=False, clock=lambda: NOW)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("keys", [["s"], ["w"], ["h"], ["h", "enter"]],
                         ids=["week", "weeks", "history", "session"])
def test_pictures(snap_compare: Any, tmp_path: Path, keys: list[str],
                  size: tuple[int, int]) -> None:
    assert snap_compare(weeks_app(tmp_path), terminal_size=size, press=keys)
