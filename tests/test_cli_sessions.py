"""Stored sessions through the real CLI: import, schedule enforcement, history, export."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.test_cli import assert_one_line_error
from tracker.core.formats.roller_imu import parse

Run = Callable[..., subprocess.CompletedProcess[str]]



def test_glute_schedule_is_enforced_and_overrides_recorded(
    roller: Run, tmp_path: Path, glutes_file: Path
) -> None:
    db = str(tmp_path / "roller.db")
    env = {"ROLLER_USER_TIMEZONE": "Europe/Berlin"}
    for day in ("2026-11-16T19:00", "2026-11-18T19:00", "2026-11-20T19:00"):
        assert roller("--db", db, "import", "--at", day, str(glutes_file), env=env).returncode == 0
    refused = roller("--db", db, "import", "--at", "2026-11-22T10:00", str(glutes_file), env=env)
    assert_one_line_error(refused, "glute sessions are done", "next allowed Mon 2026-11-23")
    too_soon = roller("--db", db, "import", "--at", "2026-11-21T10:00", str(glutes_file),
                      env=env)
    assert_one_line_error(too_soon, "yesterday or today")
    forced = roller("--db", db, "import", "--override", "--at", "2026-11-22T10:00",
                    str(glutes_file), env=env)
    assert forced.returncode == 0
    rows = [json.loads(line) for line in
            roller("--db", db, "history", "--json", env=env).stdout.splitlines()]
    assert [r["override"] for r in rows] == [False, False, False, True]
    assert rows[-1]["verdict"] == "over_quota"
    table = roller("--db", db, "history", env=env).stdout
    assert "glutes*" in table


def test_export_imu_csv_replays_through_analyze(
    roller: Run, tmp_path: Path, glutes_file: Path
) -> None:
    db = str(tmp_path / "roller.db")
    assert roller("--db", db, "import", str(glutes_file)).returncode == 0
    exported = roller("--db", db, "export", "1", "--format", "imu-csv")
    assert exported.returncode == 0, exported.stderr
    recording = parse(exported.stdout)
    assert recording.header.routine == "glutes"
    original = parse(glutes_file.read_text())
    assert len(recording.t_s) == len(original.t_s)
    path = tmp_path / "again.csv"
    path.write_text(exported.stdout)
    a = json.loads(roller("analyze", "--json", str(path)).stdout)
    b = json.loads(roller("analyze", "--json", str(glutes_file)).stdout)
    assert a["strokes"] == b["strokes"]
    summary = json.loads(roller("--db", db, "export", "--format", "json").stdout)
    assert summary["strokes"] == b["strokes"]
    reanalysed = roller("--db", db, "reanalyze", "--all")
    assert reanalysed.returncode == 0 and "re-analysed 1 of 1" in reanalysed.stderr


def test_show_and_schedule(roller: Run, tmp_path: Path, glutes_file: Path) -> None:
    db = str(tmp_path / "roller.db")
    roller("--db", db, "import", str(glutes_file))
    show = roller("--db", db, "session", "show", "1")
    assert show.returncode == 0 and "glutes" in show.stdout
    assert "position along the back" in show.stdout
    assert_one_line_error(roller("--db", db, "session", "show", "7"), "no session 7")
    schedule = roller("--db", db, "schedule")
    assert schedule.returncode == 0 and "next glute session" in schedule.stdout


def test_show_draws_the_stored_track_as_the_samples_analysed_again_would(
    roller: Run, tmp_path: Path, glutes_file: Path
) -> None:
    """A session stored before schema 17 has no track: its show analyses the samples again,
    and prints exactly what the show of the track stored at its end prints; ``reanalyze``
    stores the track."""
    db = tmp_path / "roller.db"
    roller("--db", str(db), "import", str(glutes_file))
    stored = roller("--db", str(db), "session", "show", "1", env={"COLUMNS": "100"}).stdout
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT points FROM tracks").fetchone()[0] > 100
        conn.execute("DELETE FROM tracks")
    again = roller("--db", str(db), "session", "show", "1", env={"COLUMNS": "100"}).stdout
    assert stored == again and "bouts" in stored and "position along the back" in stored
    assert roller("--db", str(db), "reanalyze", "1").returncode == 0
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM tracks").fetchone()[0] == 1
    assert roller("--db", str(db), "session", "delete", "1", "--yes").returncode == 0
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM tracks").fetchone()[0] == 0


def test_a_session_analysed_before_cautions_says_so_until_reanalysed(
    roller: Run, tmp_path: Path, glutes_file: Path
) -> None:
    db = tmp_path / "roller.db"
    roller("--db", str(db), "import", str(glutes_file))
    with sqlite3.connect(db) as conn:  # as schema 8 leaves a session of an older store
        conn.execute("UPDATE sessions SET caution_events = NULL")
        conn.execute("DELETE FROM caution_events")
    assert "cautions not assessed" in roller("--db", str(db), "session", "show", "1").stdout
    assert roller("--db", str(db), "reanalyze", "1").returncode == 0
    show = roller("--db", str(db), "session", "show", "1").stdout
    assert "lower back" in show and "not assessed" not in show


def test_a_corrupt_database_is_one_line_and_untouched(roller: Run, tmp_path: Path) -> None:
    db = tmp_path / "roller.db"
    db.write_bytes(b"SQLite format 3\x00" + b"\xff" * 2000)
    before = db.read_bytes()
    result = roller("--db", str(db), "history")
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr and "roller database" in result.stderr
    assert db.read_bytes() == before


def test_roller_db_environment_variable(roller: Run, tmp_path: Path, glutes_file: Path) -> None:
    db = tmp_path / "env.db"
    assert roller("import", str(glutes_file), env={"ROLLER_DB": str(db)}).returncode == 0
    assert db.exists()


def test_db_after_the_command_too(roller: Run, tmp_path: Path, glutes_file: Path) -> None:
    db = str(tmp_path / "after.db")
    assert roller("import", "--db", db, str(glutes_file)).returncode == 0
    rows = roller("history", "--db", db, "--json").stdout.splitlines()
    assert len(rows) == 1
