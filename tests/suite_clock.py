"""The suite's clock: ``ROLLER_NOW`` (and ``TZ``) set for a run of the suite are every test's
clock and zone, and every ``roller`` process a test starts inherits them.

``ROLLER_NOW=2026-12-07T00:30:00+01:00 TZ=Europe/Berlin make test`` runs the whole suite as
of a Monday half an hour after midnight in Berlin (``make test-clocks`` runs it at the
moments that have broken tests before). Unset, the suite reads the wall clock.
"""

from __future__ import annotations

import os
from pathlib import Path

from tracker.core import clock

#: The zone variables a started process inherits (the rest of its environment is the test's).
ZONE_VARIABLES = ("TZ",)


def start() -> None:
    """Start :func:`tracker.core.clock.now` at ``ROLLER_NOW`` (the wall clock when unset)."""
    text = os.environ.get(clock.ENV)
    clock.set_now(clock.parse_moment(text, clock.ENV) if text else None)


def stamped(path: Path) -> Path:
    """``path`` modified now on the suite's clock: ``roller import`` takes a recording's end
    from its file's time, which the machine keeps on the wall clock."""
    at_s = clock.now().timestamp()
    os.utime(path, (at_s, at_s))
    return path


def passed_on() -> dict[str, str]:
    """What a ``roller`` process a test starts inherits: the zone, and the clock as it reads
    now, so the process and the test agree on the day."""
    env = {name: os.environ[name] for name in ZONE_VARIABLES if name in os.environ}
    if os.environ.get(clock.ENV):
        env[clock.ENV] = clock.now().isoformat()
    return env
