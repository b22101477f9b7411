"""When a session ends: the ``[session]`` settings and the watch that applies them. Pure.

A session ends when the user stops it, after ``end_after_still_s`` without the contact
moving (the roller left on the floor), or when the link has been lost for longer than
``end_after_disconnect_s``; a link that comes back sooner continues the same session, and
the outage is recorded.

Both timers run on the samples' own time (the roller's clock), never the wall clock: the
session's time is the roller's, so a timer on another clock would end sessions early or
late whenever the two differ (a simulated roller at ``--speed 20``, a late connection). A
link that comes back is judged by its first sample: lost longer than
``end_after_disconnect_s`` on the roller's clock (it slept and woke), the session ended
when the link went. While the link stays lost no sample tells the time; the link itself
gives up after as long (:class:`tracker.devices.ble.Link`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tracker.core.limits import check_ranges

MOVED_CM = 1.0  # the contact has moved when it is this far from where it last rested


@dataclass(frozen=True)
class Lifecycle:
    """``[session]`` in the configuration file."""

    checkpoint_s: float = 5.0
    keep_raw: bool = True
    end_after_still_s: float = 60.0
    end_after_disconnect_s: float = 120.0

    def __post_init__(self) -> None:
        # Raw blocks keep time as float32 from their first sample: 600 s still resolves 0.1 ms.
        check_ranges("session", self, {"checkpoint_s": (0.5, 600),
                                       "end_after_still_s": (5, 86400),
                                       "end_after_disconnect_s": (1, 86400)})


class Ending:
    """Follows the contact and the link, and says when the session is due to end."""

    def __init__(self, lifecycle: Lifecycle) -> None:
        self.lifecycle = lifecycle
        #: Radio outages: (lost at, restored at, or None while still lost).
        self.gaps: list[tuple[datetime, datetime | None]] = []
        self._rest: tuple[float, float] | None = None  # (t_s, s_cm) where the contact rested
        self._excused_until = float("-inf")
        self._lost_t_s: float | None = None  # the last sample before the link was lost

    def contact(self, t_s: float, s_cm: float) -> None:
        """The contact is at ``s_cm`` at session time ``t_s``."""
        if self._rest is None or abs(s_cm - self._rest[1]) > MOVED_CM:
            self._rest = (t_s, s_cm)

    def still_s(self, t_s: float) -> float:
        """How long the contact has not moved, at session time ``t_s`` (an excused stillness,
        such as a program's stretch, not counted)."""
        if self._rest is None:
            return 0.0
        return max(0.0, t_s - max(self._rest[0], self._excused_until))

    def excuse(self, until_t_s: float) -> None:
        """The roller is meant to lie still until ``until_t_s`` (a stretch off it)."""
        self._excused_until = max(self._excused_until, until_t_s)

    @property
    def lost(self) -> bool:
        """The link is lost (no sample has come since)."""
        return self._lost_t_s is not None

    def link_lost(self, at: datetime, t_s: float) -> None:
        """The link went after the sample at session time ``t_s`` (``at`` on the wall)."""
        self.gaps.append((at, None))
        self._lost_t_s = t_s

    def link_restored(self, at: datetime) -> None:
        if self.gaps and self.gaps[-1][1] is None:
            self.gaps[-1] = (self.gaps[-1][0], at)
        self._lost_t_s = None

    def due(self, t_s: float) -> str | None:
        """Why the session should end at the sample at session time ``t_s`` (``still``, or
        ``disconnected`` when it is the first since a link lost that long), if it should."""
        if self._lost_t_s is not None and \
                t_s - self._lost_t_s >= self.lifecycle.end_after_disconnect_s:
            return "disconnected"
        if self.still_s(t_s) >= self.lifecycle.end_after_still_s:
            return "still"
        return None
