"""The one wall clock every "now" in roller reads, and the one way to set it.

Days, weeks and the glute rule all hang on the date, so a test that reads the real clock
passes on some days and fails on others. Everything that asks for the time of day asks
:func:`now`; ``roller --now MOMENT`` (or ``ROLLER_NOW=MOMENT`` in the environment, which
child processes inherit) starts this clock at ``MOMENT`` and lets it run from there, so a
live session's timers still see time pass. Intervals (timeouts, rates) keep using
``time.monotonic``, which no calendar can break.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from tracker.core.errors import InputError
from tracker.core.limits import quote

#: The environment variable that sets the clock, as ``--now`` does.
ENV = "ROLLER_NOW"
#: How a moment is written: ISO 8601 with its offset.
EXAMPLE = "2026-11-19T18:00+00:00"

_set: tuple[datetime, float] | None = None  # (the moment set, time.monotonic() then)


def now() -> datetime:
    """The current moment (UTC): the wall clock, or the set clock as it has run since."""
    if _set is None:
        return datetime.now(UTC)
    moment, monotonic_s = _set
    return moment + timedelta(seconds=time.monotonic() - monotonic_s)


def set_now(moment: datetime | None) -> None:
    """Start the clock at ``moment`` (None: the wall clock again)."""
    global _set
    _set = None if moment is None else (moment.astimezone(UTC), time.monotonic())


def parse_moment(text: str, name: str = "--now") -> datetime:
    """``text`` as an aware moment, or one line saying what is wrong with it."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"{name} {quote(text)} is not an ISO 8601 time, e.g. {EXAMPLE}") \
            from None
    if moment.tzinfo is None:
        raise InputError(f"{name} {quote(text)} needs its offset, e.g. {EXAMPLE}")
    return moment
