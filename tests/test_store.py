"""The session store: schema and migrations, refusing what it cannot change, crash recovery,
a person's weeks read from how far back the schedule looks."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import sqlite_utils

from firmware_sim.session import SimulatedSession
from tracker.config import load
from tracker.core.body import Body
from tracker.core.estimate import SessionEstimator, analyze
from tracker.core.formats.roller_analysis import Analysis, Segment
from tracker.core.formats.roller_imu import Recording
from tracker.core.schedule import Rules, Verdict, glute_days, next_allowed, since, verdict_on
from tracker.live.admission import check_start
from tracker.live.recorder import Recorder
from tracker.store.database import Store
from tracker.store.errors import StoreError
from tracker.store.opening import open_store
from tracker.store.rows import SessionStart
from tracker.store.schema import MIGRATIONS, SCHEMA_VERSION

PRESCRIPTION = (Path(__file__).parent.parent / "config" / "prescription-example.toml"
                ).read_text(encoding="utf-8")

START = datetime(2026, 11, 16, 18, 0, tzinfo=UTC)


def start_for(sim: SimulatedSession) -> SessionStart:
    h = sim.header
    return SessionStart(h.routine, START, "Europe/Berlin", "sim", h.sample_rate_hz,
                        h.roller_diameter_cm, h.user_height_cm, float(sim.samples[0, 0]))


def recorder_for(store_path: Path, sim: SimulatedSession) -> Recorder:
    h = sim.header
    estimator = SessionEstimator(h.routine, Body(h.user_height_cm), h.roller_diameter_cm,
                                 h.sample_rate_hz)
    return Recorder(open_store(store_path), start_for(sim), estimator)


def test_new_store_is_plain_sqlite_in_wal_mode(tmp_path: Path) -> None:
    store = open_store(tmp_path / "a" / "roller.db")
    assert store.db.database.journal_mode == "wal"
    assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert {"devices", "sessions", "segments", "lumbar_events", "raw_blocks", "outbox"} <= set(
        store.db.database.table_names())


@pytest.mark.parametrize("version", range(SCHEMA_VERSION))
def test_migrates_from_every_older_version(tmp_path: Path, version: int) -> None:
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    for migrate in MIGRATIONS[:version]:
        migrate(db)
    if version:  # a store in use: its sessions must come through
        db.table("sessions").insert({"routine": "glutes", "status": "complete", "zone": "UTC",
                                     "started_at": "2026-01-05T18:00:00.000+00:00",
                                     **({"person_id": 1} if version >= 9 else {})})
    db.execute(f"PRAGMA user_version = {version}")
    db.close()
    store = open_store(path)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert len(store.sessions()) == (1 if version else 0)
    for row in store.db.database.table("sessions").rows:  # what each migration adds, filled in
        assert row["link_gaps"] == "[]" or version >= 2
        assert row["caution_events"] is None  # not assessed, never a silent 0
        assert row["areas"] == "glutes" or version >= 10  # one part, its routine
    assert all(d["paired"] == 0 for d in store.db.database.table("devices").rows)
    # Everybody's sessions under one person, who follows the configuration in everything.
    (person,) = store.people.all()
    assert (person.name, person.height_cm, person.zone, dict(person.rules)) == ("me", None,
                                                                                 None, {})
    assert {r.person_id for r in store.sessions()} <= {person.id}
    # No prescription yet (schema 15); one can be imported for the person migrated.
    assert store.prescriptions.all() == [] and person.prescription is None
    stored, ended = store.prescriptions.add(person, "rx.toml", PRESCRIPTION)
    assert ended is None and store.people.named("me").prescription == stored.prescription


def unchanged_after(path: Path, error: str) -> None:
    before = path.read_bytes()
    with pytest.raises(StoreError, match=error):
        open_store(path)
    assert path.read_bytes() == before


def test_refuses_a_file_that_is_not_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("shopping list\n" * 100)
    unchanged_after(path, "not a roller database")


def test_refuses_another_programs_database(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    sqlite_utils.Database(path)["recipes"].insert({"name": "soup"})
    unchanged_after(path, "not a roller store")


def test_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    open_store(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    unchanged_after(path, "newer roller")


@pytest.mark.slow
def test_a_locked_database_is_one_clear_error(tmp_path: Path, stray_session: SimulatedSession
                                              ) -> None:
    path = tmp_path / "roller.db"
    store = open_store(path)
    other = sqlite3.connect(path)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="locked"):
            store.start_session(start_for(stray_session))
    finally:
        other.rollback()
    assert store.sessions() == []


def test_session_round_trip_and_raw_samples(tmp_path: Path,
                                            stray_session: SimulatedSession) -> None:
    path = tmp_path / "roller.db"
    recorder = recorder_for(path, stray_session)
    x = stray_session.samples
    for chunk in np.array_split(x, 60):
        recorder.feed(chunk[:, 0], chunk[:, 1:4], chunk[:, 4:7])
    analysis = recorder.finish()
    store = open_store(path)
    (row,) = store.sessions()
    assert row.status == "complete" and row.strokes == analysis.strokes
    assert row.lumbar_events == len(analysis.lumbar_events) > 0
    detail = store.session_detail(row.id)
    assert len(detail.segments) == len(analysis.segments)
    assert len(detail.caution_events) == row.caution_events == len(analysis.caution_events)
    events = detail.lumbar_events
    assert events[0].alert_s == pytest.approx(analysis.lumbar_events[0].alert_s - x[0, 0])
    raw = store.raw_samples(row.id)
    np.testing.assert_allclose(raw, x, rtol=1e-6, atol=1e-4)
    again = analyze(Recording(stray_session.header, raw))
    assert again.strokes == analysis.strokes
    assert row.ended_at is not None
    assert (row.ended_at - row.started_at).total_seconds() == pytest.approx(row.duration_s,
                                                                            abs=0.01)


def test_the_track_is_kept_when_the_session_ends_and_read_back_as_it_was(
        tmp_path: Path, stray_session: SimulatedSession) -> None:
    """Not while live (a checkpoint would rewrite it each time, and a re-analysis by another
    process must not leave a stale one); at the end, whole, as the live estimator gave it:
    the same figures and, to float32, the same track."""
    path = tmp_path / "roller.db"
    recorder = recorder_for(path, stray_session)
    x = stray_session.samples
    store = open_store(path)
    for chunk in np.array_split(x, 30)[:15]:
        recorder.feed(chunk[:, 0], chunk[:, 1:4], chunk[:, 4:7])
    recorder.checkpoint()
    (live,) = store.sessions()
    assert live.status == "live" and store.analysis(live.id, store.session_detail(live.id)) is None
    store.replace_analysis(live.id, analyze(Recording(stray_session.header, x[: len(x) // 2])))
    assert store.analysis(live.id, store.session_detail(live.id)) is None
    for chunk in np.array_split(x, 30)[15:]:
        recorder.feed(chunk[:, 0], chunk[:, 1:4], chunk[:, 4:7])
    analysis = recorder.finish()
    kept = store.analysis(live.id, store.session_detail(live.id))
    assert kept is not None
    stored, body = kept
    assert body.height_cm == stray_session.header.user_height_cm
    assert stored.strokes == analysis.strokes and stored.pauses == pytest.approx(
        [(a - analysis.start_s, b - analysis.start_s) for a, b in analysis.pauses])
    assert stored.lumbar_events == store.session_detail(live.id).lumbar_events
    assert stored.time_in_regions() == pytest.approx(analysis.time_in_regions())
    np.testing.assert_allclose(stored.track_t_s,
                               np.subtract(analysis.track_t_s, analysis.start_s), atol=1e-3)
    np.testing.assert_allclose(stored.track_s_cm, analysis.track_s_cm, atol=1e-4)
    np.testing.assert_allclose(stored.track_s_sd_cm, analysis.track_s_sd_cm, atol=1e-4)


@pytest.mark.cli
def test_kill_9_loses_at_most_one_checkpoint(tmp_path: Path) -> None:
    """A real process killed mid-session: the next start closes it as interrupted."""
    path = tmp_path / "roller.db"
    script = textwrap.dedent(f"""
        import time
        from tracker.core import clock
        from pathlib import Path
        from firmware_sim.session import simulate
        from tracker.core.body import Body
        from tracker.core.estimate import SessionEstimator
        from tracker.live.recorder import Recorder
        from tracker.store.rows import SessionStart
        from tracker.store.opening import open_store
        sim = simulate("glutes", "clean", 120.0, 5, sample_rate_hz=100.0)
        h, x = sim.header, sim.samples
        start = SessionStart(h.routine, clock.now(), "UTC", "sim", h.sample_rate_hz,
                             h.roller_diameter_cm, h.user_height_cm, float(x[0, 0]))
        est = SessionEstimator(h.routine, Body(h.user_height_cm), h.roller_diameter_cm,
                               h.sample_rate_hz)
        rec = Recorder(open_store(Path({str(path)!r})), start, est)
        for i in range(0, len(x), 100):  # one second of samples every 20 ms: 50x real time
            rec.feed(x[i:i + 100, 0], x[i:i + 100, 1:4], x[i:i + 100, 4:7])
            print(x[min(i + 99, len(x) - 1), 0] - x[0, 0], flush=True)
            time.sleep(0.02)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    fed = 0.0
    while fed < 40.0:
        fed = float(proc.stdout.readline())
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=10)
    store = open_store(path)
    store.outbox.records = True  # [mqtt] publish_sessions
    assert store.close_interrupted() == [1]
    (row,) = store.sessions()
    assert row.status == "interrupted"
    assert fed - 6.0 <= row.duration_s <= fed + 1.0
    assert len(store.raw_samples(1)) >= (row.duration_s - 1) * 100 * 0.85  # minus lost packets
    # It ends somewhere: Home Assistant hears it ended, and a central store gets it.
    ends = [r for r in store.outbox.pending() if r["session_id"] == 1
            and r["kind"] in ("session_ended", "session_record")]
    assert [r["kind"] for r in ends] == ["session_ended", "session_record"]
    said = json.loads(ends[0]["payload"])
    assert said["end_reason"] == "crash" and said["summary"]["duration_s"] == round(
        row.duration_s, 1) and said["summary"]["routine"] == "glutes"
    assert store.close_interrupted() == []  # never counted twice


def test_lifecycle_still_and_disconnect(tmp_path: Path, stray_session: SimulatedSession) -> None:
    from datetime import timedelta

    from tracker.core.lifecycle import Lifecycle

    h = stray_session.header
    estimator = SessionEstimator(h.routine, Body(h.user_height_cm), h.roller_diameter_cm,
                                 h.sample_rate_hz)
    recorder = Recorder(open_store(tmp_path / "r.db"), start_for(stray_session), estimator,
                        Lifecycle(end_after_still_s=60.0, end_after_disconnect_s=120.0))
    x = stray_session.samples[:2000]
    state = recorder.feed(x[:, 0], x[:, 1:4], x[:, 4:7])
    t = state.t_s  # both timers run on the samples' time, whatever the wall clock says
    assert recorder.ending.due(t) is None
    assert recorder.ending.due(t + 61.0) == "still"
    recorder.ending.link_lost(START, t)
    assert recorder.ending.lost and recorder.ending.due(t + 20.0) is None  # back in time
    recorder.ending.link_restored(START + timedelta(seconds=20))
    assert not recorder.ending.lost
    recorder.ending.link_lost(START + timedelta(seconds=300), t)
    assert recorder.ending.due(t + 120.0) == "disconnected"  # it slept and woke
    recorder.finish("disconnected")
    row = recorder.store.db.database.table("sessions").get(recorder.session_id)
    gaps = json.loads(row["link_gaps"])
    assert len(gaps) == 2 and gaps[1][1] is None and row["end_reason"] == "disconnected"


def stored(store: Store, at: datetime, person_id: int, glutes_s: float = 60.0,
           zone: str = "UTC") -> int:
    """A finished session at ``at`` with ``glutes_s`` on the glutes (0: the upper back)."""
    routine = "glutes" if glutes_s else "upper_back"
    analysis = Analysis(routine, 0.0, 90.0, [], 20,
                        [Segment("glutes", 0.0, glutes_s)] if glutes_s else [], [], [], [])
    return store.store_session(SessionStart(routine, at, zone, "import", 100.0, 15.0, 175.0,
                                            0.0, person_id=person_id),
                               analysis, [], [], "imported")


def plans(store: Store, read: Callable[[], object]) -> list[str]:
    """SQLite's plan for each query on ``sessions`` that ``read()`` makes."""
    queries: list[str] = []
    store.db.conn.set_trace_callback(queries.append)
    try:
        read()
    finally:
        store.db.conn.set_trace_callback(None)
    return [str(step[3]) for q in queries if "sessions" in q
            for step in store.db.execute(f"EXPLAIN QUERY PLAN {q}").fetchall()]


@pytest.mark.parametrize("weeks", [1, 4])
def test_the_weeks_read_returns_exactly_the_sessions_from_the_bound_on(tmp_path: Path,
                                                                        weeks: int) -> None:
    store = open_store(tmp_path / "roller.db")
    me, ben = store.people.default(), store.people.add("Ben")
    now, zone, rules = datetime(2026, 11, 19, 18, tzinfo=UTC), "Europe/Berlin", Rules()
    bound = since(now, zone, rules, weeks)
    moments = [bound - timedelta(days=400), bound - timedelta(milliseconds=1), bound,
               bound + timedelta(hours=1), now - timedelta(hours=1), now + timedelta(hours=1)]
    ids = {(who.id, at): stored(store, at, who.id) for at in moments for who in (me, ben)}
    mine = store.weeks(me.id, now, zone, rules, weeks)
    assert [r.id for r in mine] == [ids[me.id, at] for at in moments[2:]]
    everyone = store.weeks(None, now, zone, rules, weeks)
    assert [r.id for r in everyone] == sorted(ids[who, at] for who, at in ids
                                              if at >= bound)
    assert all(r.started_at >= bound for r in everyone)
    for person in (me.id, None):  # through an index: ten years cost what ten days do
        read = plans(store, partial(store.weeks, person, now, zone, rules, weeks))
        assert read and all(step.startswith("SEARCH sessions USING INDEX") for step in read)


def verdict_from_all_history(store: Store, person_id: int, zone: str, rules: Rules,
                             at: datetime) -> tuple[Verdict, date]:
    """What admission said before it read the weeks: the verdict from every session ever."""
    day = at.astimezone(ZoneInfo(zone)).date()
    days = glute_days([s.rolled() for s in store.sessions(person=person_id)
                       if s.started_at < at], rules)
    return verdict_on(day, days, rules), next_allowed(day, days, rules)


@pytest.mark.parametrize("rules", [{}, {"glute_rest_days": 2, "week_starts_on": 6},
                                   {"glute_rest_days": 0, "glute_sessions_per_week": 5}])
def test_admission_on_years_of_history_gives_the_verdict_of_the_whole_history(
        tmp_path: Path, rules: dict[str, int]) -> None:
    store = open_store(tmp_path / "roller.db")
    ada = store.people.add("Ada", zone="Pacific/Auckland", rules=rules)
    settings = load(env={}).for_person(ada)
    last = datetime(2026, 11, 19, 7, tzinfo=UTC)
    for day in range(3 * 365, 0, -1):  # three years, then a dense last month
        if day % 3 == 0 or day < 30:
            at = last - timedelta(days=day, hours=day % 7)
            stored(store, at, ada.id, 0.0 if day % 4 == 1 else 20.0 if day % 5 == 0 else 60.0,
                   "America/Los_Angeles" if day % 6 == 0 else "Pacific/Auckland")
    for hours in range(-21 * 24, 3 * 24, 5):  # every hour of the day, over three weeks
        at = last + timedelta(hours=hours, minutes=30)
        verdict, allowed, _ = check_start(store, settings, "glutes", at)
        assert (verdict, allowed) == verdict_from_all_history(store, ada.id, settings.zone,
                                                              settings.rules, at), at
    read = plans(store, lambda: check_start(store, settings, "glutes", last))
    assert read and all(step.startswith("SEARCH sessions USING INDEX") for step in read)
