"""Inputs that used to crash or pass: configuration values, files that are not files,
every way a session can end, a roller that restarts, and values that storage would change."""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.suite_clock import passed_on
from tests.test_cli import assert_one_line_error
from tracker.config import ConfigError, defaults_text, load
from tracker.core import clock
from tracker.core.body import Body
from tracker.core.estimate import SessionEstimator
from tracker.core.formats.roller_imu import Header, RecordingError, format_recording, parse
from tracker.core.lifecycle import Lifecycle
from tracker.devices.roller import Packet, StreamDecoder, encode_packet
from tracker.live.recorder import store_recording
from tracker.store.opening import open_store
from tracker.store.rows import SessionStart

Run = Callable[..., subprocess.CompletedProcess[str]]

# -- configuration: every value checked where it is read ------------------------------------

KEYS = [(section, key, value) for section, table in tomllib.loads(defaults_text()).items()
        for key, value in table.items()]
VALUES = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=80), st.booleans(),
    st.sampled_from(["", "+", "a/#", "$SYS", "x" * 70_000, "\0"]),
)


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") \
            if math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    return json.dumps(value)  # a TOML basic string is a JSON string


@given(st.sampled_from(KEYS), VALUES)
@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_configuration_value_loads_or_is_one_clear_error(
        tmp_path: Path, key: tuple[str, str, object], value: object) -> None:
    section, name, _ = key
    path = tmp_path / "roller.toml"
    path.write_text(f"[{section}]\n{name} = {toml_value(value)}\n", encoding="utf-8")
    try:
        load(path, {})
    except ConfigError as exc:
        assert name in str(exc) or section in str(exc) or "TOML" in str(exc)
        assert len(str(exc)) < 400 and "\n" not in str(exc)


@pytest.mark.parametrize("text, fragment", [
    ("[schedule]\nglute_sessions_per_week = 0\n", "glute_sessions_per_week must be 1 to 7"),
    ("[schedule]\nweek_starts_on = 7\n", "week_starts_on must be 0 to 6"),
    ("[mqtt]\nport = 70000\n", "port must be 1 to 65535"),
    ("[mqtt]\nbase_topic = \"roller/#\"\n", "base_topic"),
    ("[mqtt]\ndiscovery_prefix = \"\"\n", "discovery_prefix"),
    ("[mqtt]\noutbox_max_events = -5\n", "outbox_max_events"),
    ("[session]\ncheckpoint_s = 0\n", "checkpoint_s must be 0.5 to 600"),
    ("[uncertainty]\nplacement_sd_cm = -1\n", "[uncertainty] placement_sd_cm must be 0 to 20"),
    ("[estimator]\nlumbar_caution_sd = 9\n", "[estimator] lumbar_caution_sd must be 0 to 5"),
    ("[session]\nend_after_still_s = nan\n", "finite"),
    (f"[mqtt]\nclient_id = \"{'c' * 70_000}\"\n", "client_id"),
])
def test_configuration_values_name_the_key_and_range(roller: Run, tmp_path: Path,
                                                     text: str, fragment: str) -> None:
    config = tmp_path / "roller.toml"
    config.write_text(text, encoding="utf-8")
    result = roller("--config", str(config), "history")
    assert_one_line_error(result, fragment)


def test_a_configuration_file_that_is_not_utf8(roller: Run, tmp_path: Path) -> None:
    config = tmp_path / "roller.toml"
    config.write_bytes(b"[user]\nheight_cm = 180\n# \xff\xfe\n")
    assert_one_line_error(roller("--config", str(config), "history"),
                          "not UTF-8")


# -- files: written through links, never over devices; --record as it goes ------------------


def test_simulate_writes_through_a_link_and_refuses_a_pipe(roller: Run,
                                                           tmp_path: Path) -> None:
    run = roller
    real, link = tmp_path / "real.csv", tmp_path / "link.csv"
    real.write_text("old")
    link.symlink_to(real)
    assert run("simulate", "--seconds", "10", "-o", str(link)).returncode == 0
    assert link.is_symlink() and real.read_text().startswith("# roller-imu v1")
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    result = run("simulate", "--seconds", "10", "-o", str(pipe))
    assert_one_line_error(result, "not a regular file")
    assert pipe.is_fifo()
    result = run("--db", str(tmp_path / "r.db"), "track", "--sim", "--record", str(pipe))
    assert_one_line_error(result, "not a regular file")
    result = run("--db", str(tmp_path / "r.db"), "track", "--sim", "--record",
                 str(tmp_path / "no" / "such" / "dir.csv"))
    assert_one_line_error(result, "cannot write")
    assert not (tmp_path / "r.db").exists() or not sessions(tmp_path / "r.db")


def sessions(db: Path) -> list[tuple[int, str, str | None]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return conn.execute("SELECT id, status, end_reason FROM sessions").fetchall()


def start_track(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "c"),
           **passed_on()}
    return subprocess.Popen([sys.executable, "-m", "tracker", "--db", str(tmp_path / "r.db"),
                             "track", "--sim", "--seconds", "600", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def lines_of(path: Path, timeout_s: float = 30.0, at_least: int = 200) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists() and (count := len(path.read_text().splitlines())) >= at_least:
            return count
        time.sleep(0.2)
    raise AssertionError(f"{path} did not grow")


@pytest.mark.cli
def test_record_is_written_as_it_goes_so_a_kill_keeps_it(tmp_path: Path) -> None:
    rec = tmp_path / "live.csv"
    process = start_track(tmp_path, "--record", str(rec))
    try:
        lines_of(rec)
    finally:
        process.kill()
        process.communicate(timeout=10)  # and its pipes closed
    text = rec.read_text()
    complete = text[:text.rfind("\n") + 1]  # the last line may be cut by the kill
    assert len(parse(complete).samples) >= 100


@pytest.mark.cli
@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM, signal.SIGINT])
def test_every_signal_ends_the_session_stored_and_the_recording_whole(
        tmp_path: Path, signum: int) -> None:
    rec = tmp_path / "live.csv"
    process = start_track(tmp_path, "--record", str(rec))
    lines_of(rec)
    process.send_signal(signum)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert sessions(tmp_path / "r.db") == [(1, "complete", "stopped")]
    assert len(parse(rec.read_text()).samples) >= 100


def test_track_json_times_count_from_the_first_sample(roller: Run, tmp_path: Path) -> None:
    result = roller("--db", str(tmp_path / "r.db"), "track", "--sim",
                    "--speed", "50", "--seconds", "40", "--json")
    data = json.loads(result.stdout)
    assert data["segments"][0]["start_s"] == 0.0
    assert data["track"]["t_s"][0] < 0.2
    assert data["segments"][-1]["end_s"] == pytest.approx(data["duration_s"], abs=0.05)


# -- devices: a roller that restarts mid-session -------------------------------------------


def packets(seq0: int, t0_us: int, count: int, rate_hz: int = 100) -> list[bytes]:
    raw = np.zeros((10, 6), dtype=np.int16)
    return [encode_packet(Packet(seq0 + i, t0_us + i * 10 * 1_000_000 // rate_hz, raw))
            for i in range(count)]


def test_a_restarted_roller_continues_the_session_instead_of_being_dropped() -> None:
    decoder = StreamDecoder(100)
    times = []
    for i, data in enumerate(packets(40_000, 2_400_000_000, 50)):  # 40 min after its boot
        times.append(decoder.feed(data, arrival_s=i * 0.1)[0])  # type: ignore[index]
    for i, data in enumerate(packets(0, 150_000, 50)):  # battery swapped: 0.15 s after boot
        samples = decoder.feed(data, arrival_s=8.0 + i * 0.1)
        assert samples is not None
        times.append(samples[0])
    t = np.concatenate(times)
    assert decoder.stats.restarts == 1 and decoder.stats.malformed == 0
    assert decoder.stats.lost == 0 and decoder.stats.packets == 100
    assert (np.diff(t) > 0).all()  # one stream, in order
    # placed by arrival: the packets were sent 3.1 s apart, the last sample 0.09 s into its own
    assert t[500] - t[499] == pytest.approx(8.0 - 4.9 - 0.09, abs=0.01)


def test_the_clock_wrap_is_still_a_wrap() -> None:
    decoder = StreamDecoder(100)
    end = (1 << 32) - 200_000
    for data in [*packets(10, end, 2), *packets(12, end + 200_000, 3)]:
        assert decoder.feed(data) is not None
    assert decoder.stats.restarts == 0 and decoder.stats.lost == 0


def test_a_woken_roller_numbers_its_packets_afresh_and_none_is_dropped() -> None:
    """Asleep 10 min, its clock ran on; awake, a new connection, its packets count from
    zero. Judged against the old connection's numbers, each was "repeated or stale"."""
    decoder = StreamDecoder(100)
    first = [decoder.feed(d, arrival_s=i * 0.1) for i, d in enumerate(packets(30_000,
                                                                             1_000_000, 50))]
    decoder.reconnected()
    woke = [decoder.feed(d, arrival_s=605.0 + i * 0.1)
            for i, d in enumerate(packets(0, 606_000_000, 50))]
    assert all(s is not None for s in first + woke)
    assert decoder.stats.malformed == 0 and decoder.stats.restarts == 0
    assert decoder.stats.lost == 0 and decoder.stats.packets == 100
    assert woke[0][0][0] == pytest.approx(606.0)  # type: ignore[index]  # its own clock
    repeated = packets(49, 606_000_000 + 49 * 100_000, 1)[0]  # within one, still judged
    assert decoder.feed(repeated) is None and decoder.stats.malformed == 1


def test_a_clock_that_wrapped_while_asleep_is_a_wrap_not_a_restart() -> None:
    decoder = StreamDecoder(100)
    near_end = (1 << 32) - 600_000_000  # 10 min before its clock wraps
    for i, data in enumerate(packets(500, near_end, 5)):
        decoder.feed(data, arrival_s=i * 0.1)
    decoder.reconnected()
    asleep_s = 1800.0  # 30 min: it wrapped 20 min ago
    after = (near_end + 400_000 + int(asleep_s * 1e6)) % (1 << 32)
    samples = decoder.feed(packets(0, after, 1)[0], arrival_s=0.4 + asleep_s)
    assert samples is not None and decoder.stats.restarts == 0
    assert samples[0][0] == pytest.approx((near_end + 400_000) / 1e6 + asleep_s, abs=0.01)


# -- what storage keeps: an exported session is a recording analyze accepts -------------------


@given(steps=st.lists(st.floats(1e-4, 50.0), min_size=2, max_size=60),
       start=st.floats(-1e6, 1e6),
       values=st.floats(-3e38, 3e38, allow_nan=False))
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_stored_recording_exports_as_one_that_parses(tmp_path: Path, steps: list[float],
                                                       start: float, values: float) -> None:
    t_s = start + np.concatenate([[0.0], np.cumsum(steps)])
    samples = np.column_stack([t_s, np.full((len(t_s), 6), values)])
    header = Header(100.0, 15.0, 175.0, "upper_back")
    try:
        recording = parse(format_recording(header, samples))
    except RecordingError:
        return  # refused at parse time: fine, as long as what passes round-trips
    db = tmp_path / f"r{abs(hash((start, values, len(steps))))}.db"
    store = open_store(db)
    try:
        begin = SessionStart("upper_back", datetime(2026, 1, 1, tzinfo=UTC), "UTC", "import",
                             100.0, 15.0, 175.0, float(recording.t_s[0]))
        session_id = store_recording(store, begin, SessionEstimator(
            "upper_back", Body(175.0), 15.0, 100.0), recording, "x", Lifecycle())
        stored = store.recording(session_id)
        assert stored is not None
        again = parse(format_recording(stored.header, stored.samples))
        assert len(again.samples) == len(recording.samples)
    finally:
        store.close()
        for file in tmp_path.glob(db.name + "*"):
            if file.is_file():
                file.unlink()


def test_a_time_step_finer_than_the_format_is_refused() -> None:
    text = format_recording(Header(100.0, 15.0, 175.0, "upper_back"),
                            np.array([[0.0] + [0.0] * 6, [0.1] + [0.0] * 6]))
    text += "0.10001,0,0,1,0,0,0\n"
    with pytest.raises(RecordingError, match=r"less than 0\.1 ms"):
        parse(text)
    with pytest.raises(RecordingError, match="32-bit"):
        parse(text.replace("0.10001,0,0,1", "0.2,1e300,0,1"))


def test_a_refused_session_leaves_an_existing_recording_untouched(roller: Run,
                                                                  tmp_path: Path) -> None:
    rec = tmp_path / "keep.csv"
    rec.write_text("precious")
    result = roller("--db", str(tmp_path / "r.db"), "track", "--record", str(rec))
    assert_one_line_error(result, "no roller paired")
    assert rec.read_text() == "precious"


def test_a_small_step_back_of_the_clock_is_not_a_wrap() -> None:
    decoder = StreamDecoder(100)
    kept = [decoder.feed(d) for d in [*packets(0, 500_000, 1), *packets(1, 540_000, 1),
                                      *packets(2, 510_000, 1)]]
    assert kept[2] is None and decoder.stats.malformed == 1
    assert max(float(k[0][-1]) for k in kept if k is not None) < 1.0


@pytest.mark.cli
def test_one_owner_by_any_path_to_the_store(tmp_path: Path) -> None:
    real = tmp_path / "real.db"
    store = open_store(real)
    store.start_session(SessionStart("upper_back", clock.now(), "UTC", "sim", 100.0,
                                     15.0, 175.0, 0.0))
    link = tmp_path / "link.db"
    link.symlink_to(real)
    other = subprocess.run(
        [sys.executable, "-c", "from pathlib import Path; from tracker.store.opening import "
         f"open_store; print(open_store(Path({str(link)!r})).close_interrupted())"],
        capture_output=True, text=True, check=True)
    assert other.stdout.strip() == "[]"
    store.close()
