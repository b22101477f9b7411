"""Every long-running command ends when asked: SIGHUP (a closed terminal) and SIGTERM (a
service manager) end ``ingest`` and ``gateway`` within 5 s, cleanly, saying what they did."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.broker import Broker
from tests.processes import running


def ended_within(proc: object, signum: int, seconds: float = 5.0) -> str:
    import subprocess

    assert isinstance(proc, subprocess.Popen)
    proc.send_signal(signum)
    try:
        _, err = proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"still running {seconds} s after signal {signum}") from None
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    return str(err)


@pytest.mark.cli
@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM])
def test_the_ingest_ends_with_its_tally_on_a_hang_up_or_a_stop(tmp_path: Path, broker: Broker,
                                                               signum: int) -> None:
    with running(tmp_path, "--db", str(tmp_path / "central.db"), "-v", "ingest",
                 env=broker.env()) as proc:
        deadline = time.monotonic() + 20
        assert proc.stderr is not None
        while "subscribing" not in proc.stderr.readline():
            assert time.monotonic() < deadline, "the ingest never subscribed"
        err = ended_within(proc, signum)
    assert "stored 0 session(s)" in err


@pytest.mark.cli
@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM])
def test_the_gateway_ends_on_a_hang_up_or_a_stop(tmp_path: Path, signum: int) -> None:
    with running(tmp_path, "--db", str(tmp_path / "r.db"), "gateway", "--sim", "1",
                 env={}) as proc:
        deadline = time.monotonic() + 30
        assert proc.stderr is not None
        while "watching" not in proc.stderr.readline():
            assert time.monotonic() < deadline, "the gateway never started"
        time.sleep(1.0)
        err = ended_within(proc, signum)
    assert "gateway stopped" in err


def test_a_task_that_swallowed_its_cancellation_is_cancelled_again() -> None:
    """As a state loop whose ``publish`` met its PUBACK just as the bridge stopped: it lives
    on past the first cancellation, and the bridge still ends it and signs off."""
    import asyncio
    import contextlib

    from tracker.mqtt.bridge import cancelled

    async def stubborn(never: asyncio.Event) -> None:
        with contextlib.suppress(asyncio.CancelledError):  # swallowed, as 3.11's wait_for can
            await never.wait()
        await never.wait()

    async def main() -> bool:
        task = asyncio.create_task(stubborn(asyncio.Event()))
        await asyncio.sleep(0)
        await asyncio.wait_for(cancelled([task]), 5)
        return task.cancelled()

    assert asyncio.run(main())
