"""What roller's log lines look like (stamped, or for the journal), how much is logged, and a
bad level said in one line."""

from __future__ import annotations

import logging
import os
import re
import subprocess
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from tracker.cli.logs import Lines, on_journal
from tracker.config import ConfigError, load
from tracker.core import clock

Run = Callable[..., subprocess.CompletedProcess[str]]
#: ISO 8601 local time with its offset, to the millisecond, then the level.
STAMPED = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d) "
                     r"(DEBUG|INFO|WARNING|ERROR|CRITICAL) ")


def record(level: int, message: str) -> logging.LogRecord:
    return logging.LogRecord("tracker.mqtt.bridge", level, __file__, 1, message, None, None)


def test_a_line_is_stamped_on_rollers_clock_in_local_time() -> None:
    line = Lines(journal=False).format(record(logging.INFO, "connected to the broker"))
    stamp = STAMPED.match(line)
    assert stamp and line.endswith("INFO tracker.mqtt.bridge: connected to the broker"), line
    at = datetime.fromisoformat(stamp[1])
    assert abs((at - clock.now()).total_seconds()) < 5  # --now moves it too
    assert at.utcoffset() == at.astimezone().utcoffset()  # this machine's zone


def test_on_the_journal_a_line_carries_its_priority_not_the_time(tmp_path: Path) -> None:
    with (tmp_path / "stderr").open("w") as stream, \
            (tmp_path / "other").open("w") as other:
        status = os.fstat(stream.fileno())
        env = {"JOURNAL_STREAM": f"{status.st_dev}:{status.st_ino}"}
        assert on_journal(stream, env)
        assert not on_journal(other, env)  # inherited, but stderr was redirected elsewhere
        assert not on_journal(stream, {})
        assert not on_journal(stream, {"JOURNAL_STREAM": "junk"})
    lines = Lines(journal=True)
    assert lines.format(record(logging.WARNING, "lost it")) == \
        "<4>WARNING tracker.mqtt.bridge: lost it"
    assert lines.format(record(logging.INFO, "hello")).startswith("<6>INFO ")


def test_log_level_in_the_configuration(tmp_path: Path) -> None:
    assert load(None, env={"XDG_CONFIG_HOME": str(tmp_path)}).log_level == ""
    file = tmp_path / "roller.toml"
    file.write_text("[log]\nlevel = \"DEBUG\"\n")
    assert load(file, env={}).log_level == "debug"
    assert load(file, env={"ROLLER_LOG_LEVEL": "error"}).log_level == "error"
    with pytest.raises(ConfigError, match=r"\[log\] level must be one of debug, info, warning, "
                                          r"error, not 'loud'"):
        load(file, env={"ROLLER_LOG_LEVEL": "loud"})


@pytest.mark.parametrize(("args", "env", "said"), [
    (("--log-level", "loud"), {}, "--log-level must be one of debug, info, warning, error"),
    ((), {"ROLLER_LOG_LEVEL": "verbose"}, "[log] level must be one of"),
])
def test_a_bad_level_is_one_line_and_exit_2(roller: Run, tmp_path: Path, args: tuple[str, ...],
                                            env: dict[str, str], said: str) -> None:
    result = roller(*args, "--db", str(tmp_path / "r.db"), "history", env=env)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert said in result.stderr and "Traceback" not in result.stderr
