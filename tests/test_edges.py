"""The edges of roller, as issue 29 found them: what it writes is private, what it reads is a
bounded regular file (a FIFO or ``/dev/zero`` never hangs it), and repeated warnings are
counted, not repeated."""

from __future__ import annotations

import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

Run = Callable[..., subprocess.CompletedProcess[str]]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- private by default ---------------------------------------------------------------------

def test_recordings_exports_and_truths_are_created_0600(roller: Run, tmp_path: Path) -> None:
    rec, db = tmp_path / "sim.csv", str(tmp_path / "r.db")
    made = roller("simulate", "--seconds", "20", "--seed", "1", "-o", str(rec))
    assert made.returncode == 0, made.stderr
    assert mode(rec) == 0o600
    assert mode(tmp_path / "sim.truth.json") == 0o600
    assert roller("--db", db, "import", str(rec)).returncode == 0
    for fmt, name in (("csv", "out.csv"), ("json", "out.json"), ("imu-csv", "raw.csv")):
        out = tmp_path / name
        args = ["--db", db, "export", "--format", fmt, "-o", str(out)]
        done = roller(*args, "1") if fmt == "imu-csv" else roller(*args)
        assert done.returncode == 0, done.stderr
        assert mode(out) == 0o600, fmt


def test_track_record_is_created_0600(roller: Run, tmp_path: Path) -> None:
    rec = tmp_path / "live.csv"
    result = roller("--db", str(tmp_path / "r.db"), "track", "--sim", "--speed", "50",
                    "--seconds", "20", "--record", str(rec))
    assert result.returncode == 0, result.stderr
    assert mode(rec) == 0o600


def test_a_file_shared_by_chmod_keeps_its_mode_when_exported_into(roller: Run,
                                                                  tmp_path: Path) -> None:
    out = tmp_path / "shared.csv"
    out.write_text("")
    out.chmod(0o644)
    assert roller("--db", str(tmp_path / "r.db"), "export", "-o", str(out)).returncode == 0
    assert mode(out) == 0o644
