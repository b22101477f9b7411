"""Which part a comfort score given now is for: the part under way, or, just after a
session, that session's last part.

A person rates an area as they finish it (a key in the dashboard, a number in Home
Assistant), often a moment after the session has ended; a score long after belongs to no
session anyone remembers, and is refused rather than pinned on the wrong one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from tracker.core.alert_rules import AlertRules
from tracker.core.comfort import Score
from tracker.live.recorder import LIVE_WAIT_S
from tracker.live.session import LiveSession, Result
from tracker.store.comfort import NoPart
from tracker.store.database import Store

#: How long after a session's end a score given without naming one is for its last part.
AFTER: Final = timedelta(minutes=15)


def give(store: Store, live: LiveSession | None, last: Result | None, ended_at: datetime | None,
         score: int, now: datetime, rules: AlertRules) -> Score:
    """Keep ``score`` for the part under way in ``live``, else for the last part of the
    session ``last`` that ended at ``ended_at``, if that was within :data:`AFTER`;
    :class:`NoPart` otherwise."""
    if live is not None and live.recorder is not None:
        return live.recorder.comfort(score, now, rules)
    if last is None or last.session_id is None or ended_at is None or now - ended_at > AFTER:
        raise NoPart(f"no session under way or ended in the last "
                     f"{AFTER.total_seconds() / 60:.0f} minutes to score (roller session "
                     "comfort ID SCORE scores any)")
    return store.comfort.give(last.session_id, score, now, rules, wait_s=LIVE_WAIT_S)
