"""The real ``roller`` command: results, and one clear line for every bad input."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

Run = Callable[..., subprocess.CompletedProcess[str]]
GOOD_HEADER = (
    "# roller-imu v1\n# sample_rate_hz=100\n# roller_diameter_cm=15\n"
    "# user_height_cm=175.0\n# routine=upper_back\nt_s,ax_g,ay_g,az_g,gx_dps,gy_dps,gz_dps\n"
)
ROW = "{t:.4f},0.01000,0.02000,0.99900,0.1000,-0.0500,0.0200\n"


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_simulate_then_analyze_json(roller: Run, tmp_path: Path) -> None:
    rec = tmp_path / "rec.csv"
    made = roller("simulate", "--routine", "glutes", "--seconds", "60", "--seed", "3",
                  "-o", str(rec))
    assert made.returncode == 0, made.stderr
    truth = json.loads((tmp_path / "rec.truth.json").read_text())
    result = roller("analyze", "--json", str(rec))
    assert result.returncode == 0, result.stderr
    analysis = json.loads(result.stdout)
    assert analysis["format"] == "roller-analysis/1"
    assert analysis["routine"] == "glutes"
    assert analysis["duration_s"] == pytest.approx(truth["duration_s"], abs=0.01)
    assert abs(analysis["strokes"] - truth["strokes"]) <= max(2, 0.02 * truth["strokes"])
    assert analysis["segments"][0]["start_s"] == analysis["track"]["t_s"][0]
    assert set(analysis) >= {"active_s", "paused_s", "pauses", "cadence_cpm", "lumbar_events"}


def test_analyze_table(roller: Run, recording_file: Path) -> None:
    result = roller("analyze", str(recording_file))
    assert result.returncode == 0, result.stderr
    for word in ("duration", "active", "strokes", "thoracic", "lumbar"):
        assert word in result.stdout


def test_one_bad_file_among_good_ones(roller: Run, recording_file: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(GOOD_HEADER + ROW.format(t=1.0) + ROW.format(t=0.5))
    result = roller("analyze", "--json", str(recording_file), str(bad), str(recording_file))
    assert_one_line_error(result, f"{bad}:8:", "not after the previous")
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(objects) == 2


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (GOOD_HEADER.replace("# routine=upper_back\n", "") + ROW.format(t=0) + ROW.format(t=1),
         "missing routine"),
        (GOOD_HEADER.replace("upper_back", "neck") + ROW.format(t=0) + ROW.format(t=1),
         "unknown routine 'neck'"),
        (GOOD_HEADER + ROW.format(t=0) + "0.1,x,0,1,0,0,0\n", "ax_g is 'x'"),
        (GOOD_HEADER + ROW.format(t=0) + "0.1,NaN,0,1,0,0,0\n", "ax_g is NaN"),
        (GOOD_HEADER + ROW.format(t=0) + "0.1,0,1,0,0,0\n", "6 columns"),
        (GOOD_HEADER + ROW.format(t=0), "need at least 2"),
        ("", "empty file"),
        (b"\x7fELF\x02\x01\x01\x00\x00\x00", "binary file"),
    ],
)
def test_bad_recordings(roller: Run, tmp_path: Path, content: str | bytes, fragment: str) -> None:
    path = tmp_path / "bad.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    assert_one_line_error(roller("analyze", str(path)), str(path), fragment)


def test_missing_file(roller: Run, tmp_path: Path) -> None:
    assert_one_line_error(roller("analyze", str(tmp_path / "nope.csv")), "No such file")


def test_environment_overrides_and_bad_values(roller: Run, recording_file: Path) -> None:
    quiet = roller("analyze", "--json", str(recording_file),
                   env={"ROLLER_ESTIMATOR_STROKE_MIN_CM": "100"})
    assert json.loads(quiet.stdout)["strokes"] == 0
    bad = roller("analyze", str(recording_file), env={"ROLLER_USER_HEIGHT_CM": "tall"})
    assert_one_line_error(bad, "ROLLER_USER_HEIGHT_CM='tall' is not a float")


def test_config_file_errors(roller: Run, recording_file: Path, tmp_path: Path) -> None:
    config = tmp_path / "roller.toml"
    config.write_text("[estimator]\nstroke_minimum = 3\n")
    result = roller("--config", str(config), "analyze", str(recording_file))
    assert_one_line_error(result, "unknown key 'stroke_minimum' in [estimator]")
    config.write_text("[estimator\n")
    assert_one_line_error(roller("--config", str(config), "analyze", str(recording_file)),
                          "not valid TOML")
    config.write_text("[estimator]\npause_min_s = -3\n")
    assert_one_line_error(roller("--config", str(config), "analyze", str(recording_file)),
                          "pause_min_s")


def test_python_m_tracker_is_roller(roller: Run) -> None:
    result = roller("--help")
    assert result.returncode == 0
    assert "analyze" in result.stdout and "simulate" in result.stdout
