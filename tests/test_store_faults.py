"""The store under concurrency and faults: real processes on one SQLite file, killed with
signals; a disk that fills or turns read-only (a real size-limited filesystem where root may
mount one, else the fault injected at the SQLite layer); damaged contents."""

from __future__ import annotations

import array
import contextlib
import json
import os
import sqlite3
import stat
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from firmware_sim.session import simulate
from tests.test_cli import assert_one_line_error
from tracker.core import clock
from tracker.core.body import Body
from tracker.core.estimate import SessionEstimator
from tracker.core.lifecycle import Lifecycle
from tracker.live.recorder import Recorder
from tracker.store.opening import open_store
from tracker.store.rows import SessionStart

Run = Callable[..., subprocess.CompletedProcess[str]]


def environment(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")}


def track(tmp_path: Path, db: Path, *args: str) -> subprocess.Popen[str]:
    """A real ``roller track --sim`` in the background."""
    return subprocess.Popen(
        [sys.executable, "-m", "tracker", "--db", str(db), "track", "--sim", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment(tmp_path))


def statuses(db: Path) -> list[tuple[int, str, str | None]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return conn.execute("SELECT id, status, end_reason FROM sessions ORDER BY id").fetchall()


def wait_for_session(db: Path, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if statuses(db):
                return
        except sqlite3.Error:
            pass
        time.sleep(0.1)
    raise AssertionError("no session started")


# -- owners: a session is interrupted only when its process is gone ------------------------


def test_a_live_session_is_left_alone_until_its_process_is_killed(roller: Run,
                                                                   tmp_path: Path) -> None:
    db = tmp_path / "roller.db"
    process = track(tmp_path, db, "--seconds", "600", "--speed", "1")
    try:
        wait_for_session(db)
        for _ in range(3):  # any command beside it: the session stays live, untouched
            assert roller("--db", str(db), "history").returncode == 0
        assert statuses(db) == [(1, "live", None)]
        process.kill()  # kill -9: no chance to close anything
        process.wait(10)
        assert roller("--db", str(db), "history").returncode == 0
        assert statuses(db) == [(1, "interrupted", "crash")]
    finally:
        process.kill()
        process.communicate(timeout=10)  # and its pipes closed


def test_two_tracks_and_a_loop_of_commands_on_one_store_all_finish(
        roller: Run, tmp_path: Path, recording_file: Path) -> None:
    db = tmp_path / "roller.db"
    assert roller("--db", str(db), "calibrate", "--sim", "--profile", "witmotion", "--speed",
                  "40").returncode == 0  # a second roller: one roller takes one session
    tracks = [track(tmp_path, db, "--seconds", "60", "--speed", "6", "--seed", str(seed),
                    "--profile", profile) for seed, profile in ((1, "roller"), (2, "witmotion"))]
    imported = 0
    while any(p.poll() is None for p in tracks):
        at = f"2026-01-{imported % 28 + 1:02d}T10:00"
        result = roller("--db", str(db), "import", "--at", at, str(recording_file))
        assert result.returncode == 0, result.stderr
        assert roller("--db", str(db), "history").returncode == 0
        imported += 1
    for process in tracks:
        _, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        assert "Traceback" not in err  # a checkpoint that waited is kept and written later
    rows = statuses(db)
    assert len(rows) == imported + 2
    assert all(status == "complete" for _, status, _ in rows)


# -- faults of the disk, injected at the SQLite layer ---------------------------------------


def recorder(tmp_path: Path) -> tuple[Recorder, np.ndarray]:
    sim = simulate("upper_back", "clean", 40.0, seed=3, sample_rate_hz=50.0)
    store = open_store(tmp_path / "roller.db")
    start = SessionStart("upper_back", clock.now(), "UTC", "sim", 50.0, 15.0, 175.0,
                         float(sim.samples[0, 0]))
    estimator = SessionEstimator("upper_back", Body(175.0), 15.0, 50.0)
    return Recorder(store, start, estimator, Lifecycle(checkpoint_s=1.0)), sim.samples


def feed(rec: Recorder, samples: np.ndarray) -> None:
    for chunk in np.array_split(samples, 40):
        rec.feed(chunk[:, 0], chunk[:, 1:4], chunk[:, 4:7])


def test_a_store_that_cannot_be_written_keeps_the_session_in_memory_until_it_can(
        tmp_path: Path) -> None:
    rec, samples = recorder(tmp_path)
    half = len(samples) // 2
    feed(rec, samples[:half // 2])
    rec.store.db.execute("PRAGMA query_only = 1")  # the file turned read-only
    feed(rec, samples[half // 2:half])
    assert rec.failure and "read-only" in rec.failure
    rec.store.db.execute("PRAGMA query_only = 0")  # and is writable again
    feed(rec, samples[half:])
    rec.finish()
    assert rec.failure is None
    assert rec.session_id is not None
    assert len(rec.store.raw_samples(rec.session_id)) == len(samples)  # nothing lost
    assert rec.store.session(rec.session_id).status == "complete"


def test_a_full_disk_at_the_end_says_what_was_lost_and_the_session_is_interrupted(
        tmp_path: Path) -> None:
    rec, samples = recorder(tmp_path)
    feed(rec, samples[:len(samples) // 2])
    pages = rec.store.db.execute("PRAGMA page_count").fetchone()[0]
    rec.store.db.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full
    feed(rec, samples[len(samples) // 2:])
    rec.finish()
    assert rec.failure is not None
    assert "full" in rec.failure and "samples were not written" in rec.failure
    session_id = rec.store.session(1).id
    rec.store.close()  # the process ends
    store = open_store(tmp_path / "roller.db")
    assert store.close_interrupted() == [session_id]
    assert store.session(session_id).status == "interrupted"


# -- faults of a real filesystem (root only) --------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs mounted for the test, where this user may mount one."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
                      capture_output=True).returncode:
        pytest.skip("cannot mount a filesystem here (not root): the SQLite-layer faults "
                    "above cover the same paths")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_a_disk_that_fills_or_turns_read_only_mid_session(roller: Run, tmp_path: Path,
                                                          small_disk: Path) -> None:
    db = small_disk / "roller.db"
    process = track(tmp_path, db, "--seconds", "30", "--speed", "3")
    wait_for_session(db)
    time.sleep(1.0)
    filler = small_disk / "filler"
    with filler.open("wb") as f:  # fill the disk to the last byte
        try:
            while True:
                f.write(b"\0" * 65536)
        except OSError:
            pass
    _, err = process.communicate(timeout=60)
    assert process.returncode == 1, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("roller: error: not stored:")
    filler.unlink()
    # The read-only mount: everything stored can still be read.
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    assert roller("--db", str(db), "history").returncode == 0
    shown = roller("--db", str(db), "session", "show", "1")
    assert shown.returncode == 0, shown.stderr
    exported = roller("--db", str(db), "export", "--format", "json")
    assert exported.returncode == 0 and '"id": 1' in exported.stdout


# -- damaged contents -----------------------------------------------------------------------


@pytest.fixture
def three_sessions(roller: Run, tmp_path: Path, recording_file: Path) -> Path:
    db = tmp_path / "roller.db"
    for day in (1, 2, 3):
        result = roller("--db", str(db), "import", "--at", f"2026-01-0{day}T10:00",
                        str(recording_file))
        assert result.returncode == 0, result.stderr
    return db


def damage(db: Path, sql: str, *args: object) -> None:
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute(sql, args)


def assert_damage_named(result: subprocess.CompletedProcess[str], session_id: int) -> None:
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert f"session {session_id} is damaged" in lines[0]
    assert len(lines[0]) < 300


@pytest.mark.parametrize("sql, args", [
    ("UPDATE raw_blocks SET data = ? WHERE session_id = 2 AND seq = 3", [b"not zlib"]),
    ("UPDATE raw_blocks SET data = ? WHERE session_id = 2 AND seq = 3",
     [zlib.compress(b"\0" * 27)]),
    ("UPDATE raw_blocks SET t0_s = ? WHERE session_id = 2 AND seq = 3", ["soon"]),
])
def test_a_damaged_raw_block_names_its_session_and_the_others_stay_readable(
        roller: Run, three_sessions: Path, sql: str, args: list[object]) -> None:
    db = str(three_sessions)
    damage(three_sessions, sql, *args)
    # What was stored at its end is whole: show draws it; the samples' damage is check's,
    # export's and reanalyze's to name.
    assert roller("--db", db, "session", "show", "2").returncode == 0
    assert_damage_named(roller("--db", db, "export", "--format", "imu-csv", "2"), 2)
    assert roller("--db", db, "session", "show", "1").returncode == 0
    assert roller("--db", db, "history").returncode == 0
    assert roller("--db", db, "schedule").returncode == 0
    again = roller("--db", db, "reanalyze", "--all")
    assert again.returncode == 1 and "re-analysed 2 of 3" in again.stderr
    checked = roller("--db", db, "check")
    assert checked.returncode == 1
    assert checked.stdout.startswith("session 2: raw block 3")
    assert "1 of 3 sessions damaged" in checked.stderr


@pytest.mark.parametrize("column, value", [
    ("started_at", "yesterday-ish"), ("zone", "Z" * 50_000_000), ("duration_s", "long"),
    ("routine", "cartwheels"),
])
def test_a_damaged_session_row_is_skipped_with_one_line(
        roller: Run, three_sessions: Path, column: str, value: str) -> None:
    db = str(three_sessions)
    damage(three_sessions, f"UPDATE sessions SET {column} = ? WHERE id = 3", value)
    listed = roller("--db", db, "history", "--json")
    assert listed.returncode == 0
    assert [line.count('"id"') for line in listed.stdout.splitlines()] == [1, 1]
    assert "session 3 is damaged" in listed.stderr and len(listed.stderr) < 300
    assert roller("--db", db, "schedule").returncode == 0
    assert_damage_named(roller("--db", db, "session", "show", "3"), 3)
    assert roller("--db", db, "check").returncode == 1


def test_damaged_pages_are_found_by_check(roller: Run, three_sessions: Path) -> None:
    db = str(three_sessions)
    assert roller("--db", db, "check").returncode == 0
    with contextlib.closing(sqlite3.connect(three_sessions)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        block = conn.execute("SELECT data FROM raw_blocks WHERE session_id = 2"
                             " ORDER BY length(data) DESC LIMIT 1").fetchone()[0]
    content = bytearray(three_sessions.read_bytes())
    middle = len(block) // 2  # an overflow page of this block alone, not a shared leaf
    assert len(block) > 2 * 4096
    at = content.rfind(block[middle:middle + 64])  # the same samples: session 3's is last
    assert at > 0
    page = 4096 * (at // 4096)
    content[page:page + 4096] = b"\xff" * 4096  # one page of session 3's samples destroyed
    three_sessions.write_bytes(bytes(content))
    checked = roller("--db", db, "check")
    assert checked.returncode == 1 and "Traceback" not in checked.stderr
    assert "integrity:" in checked.stdout and "session 3:" in checked.stdout
    assert_damage_named(roller("--db", db, "export", "--format", "imu-csv", "3"), 3)
    assert roller("--db", db, "session", "show", "1").returncode == 0


@pytest.mark.parametrize("sql, args", [
    ("UPDATE tracks SET data = ? WHERE session_id = 2", [b"not zlib"]),
    ("UPDATE tracks SET data = ? WHERE session_id = 2", [zlib.compress(b"\0" * 13)]),
    ("UPDATE tracks SET points = ? WHERE session_id = 2", [10**12]),
    ("UPDATE tracks SET points = ? WHERE session_id = 2", [2**62]),
    ("UPDATE tracks SET points = ? WHERE session_id = 2", [float("inf")]),
    ("UPDATE tracks SET points = 1, data = ? WHERE session_id = 2",
     [zlib.compress(array.array("d", [float("nan")] * 3).tobytes())]),
    ("UPDATE sessions SET pauses = ? WHERE id = 2", ["[[1, 0]]"]),
])
def test_a_damaged_track_is_named_by_show_and_the_samples_still_serve(
        roller: Run, three_sessions: Path, sql: str, args: list[object]) -> None:
    db = str(three_sessions)
    damage(three_sessions, sql, *args)
    assert_damage_named(roller("--db", db, "session", "show", "2"), 2)
    checked = roller("--db", db, "check")
    assert checked.returncode == 1 and checked.stdout.startswith("session 2: ")
    assert roller("--db", db, "export", "--format", "imu-csv", "2").returncode == 0
    assert roller("--db", db, "reanalyze", "2").returncode == 0  # and stores it afresh
    assert roller("--db", db, "session", "show", "2").returncode == 0


# -- privacy, and what every command refuses ---------------------------------------------


def test_a_new_store_is_readable_by_its_owner_only(roller: Run, tmp_path: Path,
                                                   recording_file: Path) -> None:
    db = tmp_path / "private" / "roller.db"
    assert roller("--db", str(db), "import", str(recording_file)).returncode == 0
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    wal = db.with_name("roller.db-wal")
    assert not wal.exists() or stat.S_IMODE(wal.stat().st_mode) == 0o600


def test_imports_are_whole_recognised_and_deletable(roller: Run, tmp_path: Path,
                                                    recording_file: Path) -> None:
    db = str(tmp_path / "roller.db")
    assert roller("--db", db, "import", str(recording_file)).returncode == 0
    again = roller("--db", db, "import", str(recording_file))
    assert again.returncode == 0 and "already stored as session 1" in again.stderr
    assert len(statuses(Path(db))) == 1
    future = roller("--db", db, "import", "--at", "2999-01-01T10:00", str(recording_file))
    assert_one_line_error(future, "in the future")
    assert len(statuses(Path(db))) == 1  # and no junk session
    asked = roller("--db", db, "session", "delete", "1")
    assert_one_line_error(asked, "--yes")
    assert roller("--db", db, "session", "delete", "1", "--yes").returncode == 0
    assert statuses(Path(db)) == []
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("SELECT count(*) FROM raw_blocks").fetchone()[0] == 0


@pytest.mark.parametrize("args, fragment", [
    (["session", "show", "99999999999999999999"], "99999999999999999999"),
    (["export", "0"], "0"),
    (["track", "--sim", "--seconds", "nan"], "not a finite number"),
    (["track", "--sim", "--seconds", "inf"], "inf"),
    (["track", "--sim", "--speed", "nan"], "not a finite number"),
    (["track", "--sim", "--seed", "-1"], "-1"),
    (["simulate", "--seed", "-5", "-o", "x.csv"], "-5"),
    (["history", "--last", "99999999999999999999"], "99999999999999999999"),
])
def test_values_that_used_to_crash_or_pass(roller: Run, tmp_path: Path, args: list[str],
                                            fragment: str) -> None:
    result = roller("--db", str(tmp_path / "r.db"), *args)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and fragment in result.stderr


def test_mqtt_files_are_checked_before_the_session_starts(roller: Run, tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    binary = tmp_path / "password"
    binary.write_bytes(b"\xff\xfe\x00secret")
    for env in ({"ROLLER_MQTT_PASSWORD_FILE": str(tmp_path / "missing")},
                {"ROLLER_MQTT_PASSWORD_FILE": str(binary)},
                {"ROLLER_MQTT_CA_FILE": str(tmp_path / "missing.pem")}):
        result = roller("--db", str(db), "track", "--sim",
                        env={"ROLLER_MQTT_HOST": "127.0.0.1", **env})
        assert_one_line_error(result, "[mqtt]")
    assert not db.exists() or statuses(db) == []


def destroy_page(db: Path, table: str) -> None:
    """The root page of ``table`` (a table or an index) overwritten with garbage, as a failing
    disk leaves it."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?",
                            [table]).fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    content = bytearray(db.read_bytes())
    content[size * (page - 1):size * page] = b"\xa5" * size
    db.write_bytes(bytes(content))


@pytest.mark.parametrize("table, readable", [
    ("sessions", []), ("idx_sessions_started_at", [1, 2, 3]), ("sessions_uid", [1, 2, 3]),
    ("idx_sessions_person_id_started_at", [1, 2, 3]), ("raw_blocks", []),
    ("segments", [1, 2, 3]),
])
def test_destroyed_pages_leave_every_command_working_and_check_recovers(
        roller: Run, three_sessions: Path, tmp_path: Path, table: str,
        readable: list[int]) -> None:
    db = str(three_sessions)
    destroy_page(three_sessions, table)
    for args in (["history"], ["history", "--json"], ["schedule"], ["weeks"],
                 ["people", "list"], ["export", "--format", "json"], ["session", "show", "1"],
                 ["devices"], ["report", "-o", str(tmp_path / "report.html")]):
        result = roller("--db", db, *args)
        assert result.returncode in (0, 1), (args, result.stderr)
        assert "Traceback" not in result.stderr, (args, result.stderr)
        assert len(result.stderr.splitlines()) <= 4, (args, result.stderr)
    listed = roller("--db", db, "history", "--json")
    assert listed.returncode == 0, listed.stderr
    if table == "sessions":  # the table itself: each session its index knows is named once
        assert [f"session {n} is damaged" in listed.stderr for n in (1, 2, 3)] == [True] * 3
    checked = roller("--db", db, "check")
    assert checked.returncode == 1 and "Traceback" not in checked.stderr
    assert f"integrity: {'table' if table in ('sessions', 'raw_blocks', 'segments') else 'index'}"\
           f" {table}" in checked.stdout
    assert "check --recover NEW.db" in checked.stderr and len(checked.stderr.splitlines()) == 1
    new = tmp_path / "recovered.db"
    recovered = roller("--db", db, "check", "--recover", str(new))
    assert recovered.returncode == 0, recovered.stderr
    again = roller("--db", str(new), "check")
    assert again.returncode == 0, again.stdout + again.stderr
    rows = roller("--db", str(new), "history", "--json")
    ids = [json.loads(line)["id"] for line in rows.stdout.splitlines()]
    assert ids == (readable or ([1, 2, 3] if table == "raw_blocks" else []))
    refused = roller("--db", db, "check", "--recover", str(new))
    assert_one_line_error(refused, "exists")


def test_a_destroyed_schema_is_said_in_one_line_by_every_command(roller: Run,
                                                                 three_sessions: Path) -> None:
    content = bytearray(three_sessions.read_bytes())
    content[100:4096] = b"\xa5" * (4096 - 100)  # page 1 after the header: the schema
    three_sessions.write_bytes(bytes(content))
    for args in (["history"], ["check"], ["people", "list"]):
        result = roller("--db", str(three_sessions), *args)
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert "damaged" in result.stderr.splitlines()[-1]


@pytest.mark.parametrize("command", [["track", "--sim", "--seconds", "600"],
                                     ["dashboard", "--sim"], ["gateway", "--sim", "1"]])
@pytest.mark.parametrize("what", ["file", "directory"])
def test_a_store_that_cannot_be_written_is_refused_before_the_session(
        roller: Run, three_sessions: Path, command: list[str], what: str) -> None:
    """Root is not stopped by permissions: the file (or its directory) made immutable."""
    target = three_sessions if what == "file" else three_sessions.parent
    if subprocess.run(["chattr", "+i", str(target)], capture_output=True).returncode:
        pytest.skip("chattr +i is not available here")
    try:
        started = time.monotonic()
        result = roller("--db", str(three_sessions), *command)
        assert time.monotonic() - started < 30
    finally:
        subprocess.run(["chattr", "-i", str(target)], check=True)
    assert result.returncode == 1, result.stderr  # the environment, not the input
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "read-only" in lines[0] and "Traceback" not in result.stderr


def test_a_damaged_person_is_named_and_leaves_every_command_working(
        roller: Run, tmp_path: Path) -> None:
    """A zone that is no zone and rules that are no rules (a store written by hand, an older
    roller): the configuration's stand in, said, and nobody's commands stop."""
    db = str(tmp_path / "r.db")
    for name in ("Ada", "Ben"):
        assert roller("--db", db, "people", "add", name).returncode == 0
    damage(tmp_path / "r.db", "UPDATE people SET zone = 'Mars/Base', rules = '[1, 2]' "
           "WHERE name = 'Ada'")
    for command in (["people", "list"], ["schedule"], ["schedule", "--person", "Ada"],
                    ["history"], ["weeks"]):
        result = roller("--db", db, *command)
        assert result.returncode == 0 and "Traceback" not in result.stderr, (command, result)
        said = [line for line in result.stderr.splitlines() if "'Ada'" in line]
        assert all("damaged" in line for line in said), (command, result.stderr)
        assert said or command == ["weeks"], command  # weeks reads no person's row
