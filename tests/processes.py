"""A ``roller`` command running as its own process beside a test: the gateway, the ingest."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.suite_clock import passed_on


@contextmanager
def running(home: Path, *args: str, env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    """``python -m tracker ARGS`` with ``home`` as its home, stderr piped for what it says;
    killed if the test leaves it running."""
    proc = subprocess.Popen([sys.executable, "-m", "tracker", *args],
                            env={"PATH": "/usr/bin:/bin", "HOME": str(home), **passed_on(), **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)


def stopped(proc: subprocess.Popen[str]) -> str:
    """Stop it as a service manager does (SIGTERM); it must end cleanly. What it said."""
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return err
