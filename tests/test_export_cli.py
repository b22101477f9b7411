"""``roller export`` in the formats other software reads, through the real CLI: one session
as FIT or FHIR, a person's every session a file each (0600, sorted by date), several in one
Bundle, and every bad request one line, exit 2."""

from __future__ import annotations

import json
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import fitdecode
import pytest
from fhir.resources.R4B.bundle import Bundle

from tests.test_cli import assert_one_line_error
from tests.test_startup import imported

Run = Callable[..., subprocess.CompletedProcess[str]]

DAYS = ("2026-11-16T19:00", "2026-11-18T08:05", "2026-11-20T19:30")


@pytest.fixture
def store(roller: Run, tmp_path: Path, glutes_file: Path) -> str:
    """Three of Ada's sessions and one of Ben's (ids 1-3 Ada's, 4 Ben's), in Berlin."""
    db = str(tmp_path / "roller.db")
    for name in ("Ada", "Ben"):
        added = roller("--db", db, "people", "add", name, "--timezone", "Europe/Berlin")
        assert added.returncode == 0, added.stderr
    for day in DAYS:
        done = roller("--db", db, "import", "--person", "Ada", "--at", day, str(glutes_file))
        assert done.returncode == 0, done.stderr
    done = roller("--db", db, "import", "--person", "Ben", "--at", "2026-11-17T12:00",
                  str(glutes_file))
    assert done.returncode == 0, done.stderr
    return db


def fit_messages(path: Path) -> dict[str, list[dict[str, object]]]:
    found: dict[str, list[dict[str, object]]] = {}
    with fitdecode.FitReader(str(path), check_crc=fitdecode.CrcCheck.ENABLED) as fit:
        for frame in fit:
            if isinstance(frame, fitdecode.FitDataMessage):
                found.setdefault(frame.name, []).append({f.name: f.value for f in frame.fields})
    return found


def test_one_session_as_fit_and_as_fhir(roller: Run, store: str, tmp_path: Path) -> None:
    out = tmp_path / "one.fit"
    done = roller("--db", store, "export", "2", "--format", "fit", "-o", str(out))
    assert done.returncode == 0, done.stderr
    history = [json.loads(line) for line in
               roller("--db", store, "history", "--json").stdout.splitlines()]
    row = next(r for r in history if r["id"] == 2)
    fit = fit_messages(out)
    (session,) = fit["session"]
    assert (session["sport"], session["sub_sport"]) == ("training", "flexibility_training")
    assert session["start_time"].isoformat() == "2026-11-18T07:05:00+00:00"  # 08:05 Berlin
    assert [s["repetitions"] for s in fit["set"]] == [row["strokes"]]
    assert fit["set"][0]["category"] == "warm_up"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    piped = roller("--db", store, "export", "2", "--format", "fhir")
    assert piped.returncode == 0, piped.stderr
    bundle = Bundle.model_validate_json(piped.stdout)
    patient = bundle.entry[0].resource
    assert patient.name[0].text == "Ada"
    assert bundle.entry[1].resource.component[1].valueInteger == row["strokes"]


def test_a_persons_every_session_leaves_with_them(roller: Run, store: str,
                                                   tmp_path: Path) -> None:
    for fmt, ext in (("fit", "fit"), ("fhir", "json"), ("imu-csv", "csv")):
        out = tmp_path / f"ada-{fmt}"
        done = roller("--db", store, "export", "--person", "Ada", "--all", "--format", fmt,
                      "-o", str(out))
        assert done.returncode == 0, done.stderr
        names = sorted(p.name for p in out.iterdir())
        assert names == [f"2026-11-16T1900-1.{ext}", f"2026-11-18T0805-2.{ext}",
                         f"2026-11-20T1930-3.{ext}"], fmt
        assert {stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()} == {0o600}, fmt
        assert stat.S_IMODE(out.stat().st_mode) == 0o700, fmt
        assert f"wrote 3 file(s) to {out}" in done.stderr
    for path in (tmp_path / "ada-fit").iterdir():
        assert fit_messages(path)["session"][0]["sub_sport"] == "flexibility_training"
    for path in (tmp_path / "ada-fhir").iterdir():
        assert Bundle.model_validate_json(path.read_text()).entry[0].resource.name[0].text \
            == "Ada"


def test_since_and_person_put_several_sessions_in_one_bundle(roller: Run, store: str,
                                                             tmp_path: Path) -> None:
    out = tmp_path / "since.json"
    done = roller("--db", store, "export", "--since", "2026-11-17", "--format", "fhir",
                  "-o", str(out),  # a day in the configured zone: the people's, here
                  env={"ROLLER_USER_TIMEZONE": "Europe/Berlin"})
    assert done.returncode == 0, done.stderr
    bundle = Bundle.model_validate_json(out.read_text())
    kinds = [e.resource.__resource_type__ for e in bundle.entry]
    assert kinds == ["Patient", "Patient", *["Observation"] * 6]  # Ada 2, Ben 1
    assert {e.resource.name[0].text for e in bundle.entry[:2]} == {"Ada", "Ben"}
    only_ben = roller("--db", store, "export", "--person", "Ben", "--format", "fhir")
    assert only_ben.returncode == 0, only_ben.stderr
    bundle = Bundle.model_validate_json(only_ben.stdout)
    assert [e.resource.__resource_type__ for e in bundle.entry] \
        == ["Patient", "Observation", "Observation"]


@pytest.mark.parametrize(("args", "words"), [
    (["1", "--all", "--format", "fit", "-o", "x"], ("not both",)),
    (["--format", "fit", "-o", "x.fit"], ("give session IDs, or --all",)),
    (["--all", "--format", "fit"], ("give -o DIR",)),
    (["--person", "Nobody", "--all", "--format", "fit", "-o", "x"], ("Nobody",)),
    (["9", "--format", "fhir"], ("no session 9",)),
    (["--all", "--format", "fit", "-o", "{file}"], ("a file, not a directory",)),
    (["--format", "csv", "-o", "{dir}"], ("writes one table",)),
    (["1", "--format", "nonsense"], ("nonsense",)),
])
def test_bad_requests_are_one_line(roller: Run, store: str, tmp_path: Path, args: list[str],
                                   words: tuple[str, ...]) -> None:
    (tmp_path / "a-file").write_text("")
    (tmp_path / "a-dir").mkdir()
    args = [a.format(file=tmp_path / "a-file", dir=tmp_path / "a-dir") for a in args]
    assert_one_line_error(roller("--db", store, "export", *args), *words)


def test_a_session_without_raw_samples_is_skipped_and_named(roller: Run, store: str,
                                                            tmp_path: Path) -> None:
    import sqlite3

    with sqlite3.connect(store) as conn:
        conn.execute("DELETE FROM raw_blocks WHERE session_id = 2")
    out = tmp_path / "raw"
    done = roller("--db", store, "export", "--person", "Ada", "--all", "--format", "imu-csv",
                  "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert len(list(out.iterdir())) == 2
    assert "no imu-csv of session(s) 2" in done.stderr
    assert_one_line_error(roller("--db", store, "export", "2", "--format", "imu-csv"),
                          "session 2 has no raw samples")


def test_only_the_fit_export_loads_the_fit_writer(roller: Run, store: str,
                                                  tmp_path: Path) -> None:
    assert "fit_tool" not in imported(roller, "--help")
    assert "fit_tool" not in imported(roller, "--db", store, "export", "1", "--format",
                                      "fhir")
    assert "fit_tool" in imported(roller, "--db", store, "export", "1", "--format", "fit",
                                  "-o", str(tmp_path / "x.fit"))
