"""The edges of roller, as issue 29 found them: what it writes is private, what it reads is a
bounded regular file (a FIFO or ``/dev/zero`` never hangs it), and repeated warnings are
counted, not repeated."""

from __future__ import annotations

import io
import logging
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from tests.suite_clock import passed_on
from tracker.cli.logs import Repeats
from tracker.devices.base import roller_log
from tracker.devices.roller import Packet, encode_packet

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


# -- inputs are files, and bounded ----------------------------------------------------------

def assert_refused(result: subprocess.CompletedProcess[str], *words: str) -> None:
    """One line, exit 2, naming what is wrong."""
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("roller: error: "), result.stderr
    for word in words:
        assert word in lines[0], lines[0]


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    """A named pipe nobody writes: opening it to read would block for good."""
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("args", [
    ["--config", "{fifo}", "history"], ["--config", "/dev/zero", "history"],
    ["analyze", "{fifo}"], ["analyze", "/dev/zero"], ["import", "{fifo}"],
])
def test_a_fifo_or_device_never_blocks_a_command(roller: Run, fifo: Path, tmp_path: Path,
                                                 args: list[str]) -> None:
    # roller's own timeout is 120 s; a hang here fails fast instead
    result = subprocess.run(
        [sys.executable, "-m", "tracker", "--db", str(tmp_path / "r.db"),
         *(a.format(fifo=fifo) for a in args)], capture_output=True, text=True, timeout=30,
        env={"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "c"),
             "PATH": "/usr/bin:/bin", **passed_on()})
    assert_refused(result, "not a regular file")


def test_a_fifo_left_in_programs_is_named_not_waited_on(roller: Run, tmp_path: Path) -> None:
    folder = tmp_path / "config" / "roller" / "programs"
    folder.mkdir(parents=True)
    os.mkfifo(folder / "stuck.toml")
    assert_refused(roller("programs"), "stuck.toml", "FIFO")


def test_a_huge_configuration_is_refused_before_it_is_read_whole(roller: Run,
                                                                 tmp_path: Path) -> None:
    config = tmp_path / "big.toml"
    config.write_text("#" * (2 << 20))
    assert_refused(roller("--config", str(config), "history"), "larger than")


def test_a_directory_as_config_is_refused(roller: Run, tmp_path: Path) -> None:
    assert_refused(roller("--config", str(tmp_path), "history"), "directory")


@pytest.mark.parametrize(("key", "content", "words"), [
    ("PASSWORD_FILE", b"\x89PNG\r\n\x1a\n\xff\xfe", ("password_file", "not UTF-8")),
    ("PASSWORD_FILE", b"a\x00b\n", ("password_file", "not printable")),
    ("PASSWORD_FILE", "fifo", ("password_file", "FIFO")),
    ("CA_FILE", "dir", ("ca_file", "directory")),
    ("CA_FILE", "fifo", ("ca_file", "FIFO")),
    ("CERT_FILE", "fifo", ("cert_file", "FIFO")),
])
def test_mqtt_files_that_cannot_be_used_are_the_settings_fault(
        roller: Run, tmp_path: Path, fifo: Path, key: str, content: bytes | str,
        words: tuple[str, ...]) -> None:
    if content == "fifo":
        path = fifo
    elif content == "dir":
        path = tmp_path
    else:
        path = tmp_path / "secret"
        path.write_bytes(content)  # type: ignore[arg-type]
    env = {"ROLLER_MQTT_HOST": "127.0.0.1", "ROLLER_MQTT_PORT": "1",
           f"ROLLER_MQTT_{key}": str(path), "ROLLER_MQTT_TLS": "true"}
    assert_refused(roller("--db", str(tmp_path / "r.db"), "mqtt", "status", env=env), *words)


def test_read_text_bounds_and_refuses(tmp_path: Path, fifo: Path) -> None:
    from tracker.core.errors import InputError
    from tracker.files import read_text

    small = tmp_path / "small.toml"
    small.write_text("a = 1\n")
    assert read_text(small) == "a = 1\n"
    with pytest.raises(InputError, match="larger than"):
        read_text(small, limit=3)
    for path in (fifo, Path("/dev/zero"), tmp_path):
        with pytest.raises(InputError, match="not a regular file"):
            read_text(path)


# -- repeated warnings are counted; every per-roller line names its roller ------------------

class Ticking:
    """An injected clock that moves only when told."""

    def __init__(self) -> None:
        self.moment = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.moment


def flood_logger(stream: io.StringIO, clock: Ticking) -> logging.Logger:
    logger = logging.getLogger("tracker.test_edges.flood")
    logger.handlers.clear()
    logger.propagate = False
    handler = logging.StreamHandler(stream)
    handler.addFilter(Repeats(now=clock))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return logger


def test_a_flood_of_ignored_commands_is_one_line_then_a_count_a_minute() -> None:
    stream, clock = io.StringIO(), Ticking()
    log = flood_logger(stream, clock)
    for _ in range(3):
        for i in range(5000):
            clock.moment += timedelta(milliseconds=1)  # 5 s of flood a minute
            log.warning("ignored a command: %s",
                        f"roller/bridge/test/c0ffee{i:06d}/set/routine: bad")
        clock.moment += timedelta(seconds=60)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3, lines
    assert "more like this" not in lines[0]
    assert "(and 4,999 more like this in the last" in lines[1]
    assert "(and 4,999 more like this" in lines[2]


def test_repeats_are_counted_per_roller_and_info_passes() -> None:
    stream, clock = io.StringIO(), Ticking()
    log = flood_logger(stream, clock)
    first = roller_log(log, "C0:FF:EE:00:00:01")
    second = roller_log(log, "C0:FF:EE:00:00:02")
    for _ in range(100):
        first.warning("dropped a repeated or stale packet (seq %d)", 7)
        second.warning("dropped a repeated or stale packet (seq %d)", 7)
        log.info("command for %s", "x")
    lines = stream.getvalue().splitlines()
    assert lines.count("command for x") == 100
    warned = [line for line in lines if "dropped" in line]
    assert warned == ["C0:FF:EE:00:00:01: dropped a repeated or stale packet (seq 7)",
                      "C0:FF:EE:00:00:02: dropped a repeated or stale packet (seq 7)"]


def test_a_dropped_packet_says_which_roller(caplog: pytest.LogCaptureFixture) -> None:
    from tracker.devices.ble import Link, LinkEvents

    link = Link("C0:FF:EE:00:00:01", LinkEvents(lambda *_: None))
    packet = encode_packet(Packet(5, 1000, np.zeros((4, 6), np.int16)))
    assert link.decoder.feed(packet, 0.0) is not None
    with caplog.at_level(logging.WARNING):
        assert link.decoder.feed(packet, 0.01) is None
    assert [r.getMessage() for r in caplog.records] == [
        "C0:FF:EE:00:00:01: dropped a repeated or stale packet (seq 5)"]
    assert caplog.records[0].roller == "C0:FF:EE:00:00:01"
