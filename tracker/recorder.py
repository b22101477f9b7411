"""A session from start to end: the estimator, raw samples, and checkpoints to the store.

The session's summary, segments, lumbar events and new raw samples are written every
``checkpoint_s`` of session time (5 s by default) in one transaction, so a crash, kill -9 or
power cut loses at most that much; on the next start the store closes such a session as
``interrupted`` with what was checkpointed.

A session ends when the user stops it, after ``end_after_still_s`` without the contact
moving (the roller left on the floor), or when the link has been lost for longer than
``end_after_disconnect_s``; a link that comes back sooner continues the same session, and
the outage is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from tracker.analysis import Analysis
from tracker.estimate.session import LiveState, SessionEstimator
from tracker.store import SessionStart, Store

Array = npt.NDArray[np.float64]


MOVED_CM = 1.0  # the contact has moved when it is this far from where it last rested


@dataclass(frozen=True)
class Lifecycle:
    """``[session]`` in the configuration file."""

    checkpoint_s: float = 5.0
    keep_raw: bool = True
    end_after_still_s: float = 60.0
    end_after_disconnect_s: float = 120.0


class Recorder:
    def __init__(
        self,
        store: Store,
        start: SessionStart,
        estimator: SessionEstimator,
        lifecycle: Lifecycle | None = None,
    ) -> None:
        self.store, self.start, self.estimator = store, start, estimator
        self.lifecycle = lifecycle or Lifecycle()
        self.session_id = store.start_session(start)
        self._raw: list[Array] = []
        self._seq = 0
        self._last_checkpoint_s = start.clock_start_s
        self._rest: tuple[float, float] | None = None  # (t_s, s_cm) where the contact rested
        self._gaps: list[tuple[datetime, datetime | None]] = []

    def feed(self, t_s: Array, accel_g: Array, gyro_dps: Array) -> LiveState:
        state = self.estimator.feed(t_s, accel_g, gyro_dps)
        if self._rest is None or abs(state.s_cm - self._rest[1]) > MOVED_CM:
            self._rest = (state.t_s, state.s_cm)
        if self.lifecycle.keep_raw:
            self._raw.append(np.column_stack([t_s, accel_g, gyro_dps]))
        if state.alerts_s:  # an alert goes out at once, not at the next checkpoint
            self.checkpoint(alerts=[(self._wall(t), state.s_cm) for t in state.alerts_s])
        elif state.t_s - self._last_checkpoint_s >= self.lifecycle.checkpoint_s:
            self.checkpoint()
        return state

    def still_s(self, t_s: float) -> float:
        """How long the contact has not moved, at session time ``t_s``."""
        return t_s - self._rest[0] if self._rest else 0.0

    def link_lost(self, at: datetime) -> None:
        self._gaps.append((at, None))

    def link_restored(self, at: datetime) -> None:
        if self._gaps and self._gaps[-1][1] is None:
            self._gaps[-1] = (self._gaps[-1][0], at)

    def due_to_end(self, now: datetime, t_s: float) -> str | None:
        """Why the session should end now (``still`` or ``disconnected``), if it should."""
        if self._gaps and self._gaps[-1][1] is None:
            lost_for = (now - self._gaps[-1][0]).total_seconds()
            if lost_for >= self.lifecycle.end_after_disconnect_s:
                return "disconnected"
        if self.still_s(t_s) >= self.lifecycle.end_after_still_s:
            return "still"
        return None

    def checkpoint(self, status: str = "live", reason: str | None = None,
                   alerts: list[tuple[datetime, float]] | None = None) -> Analysis:
        analysis = self.estimator.snapshot() if status == "live" else self.estimator.finish()
        blocks: list[tuple[int, Array]] = []
        if self._raw:
            blocks.append((self._seq, np.concatenate(self._raw)))
            self._seq += 1
        end = analysis.start_s + analysis.duration_s
        self.store.checkpoint(self.session_id, analysis, blocks, self._wall(end), status,
                              reason, self._gaps, alerts or [], self.start.device)
        self._raw = []
        self._last_checkpoint_s = analysis.start_s + analysis.duration_s
        return analysis

    def finish(self, reason: str = "stopped") -> Analysis:
        """End the session (``stopped``, ``still``, ``disconnected``, ``imported``)."""
        return self.checkpoint("complete", reason)

    def _wall(self, t_s: float) -> datetime:
        """Wall time of a sample: the start plus session time."""
        return self.start.started_at + timedelta(seconds=t_s - self.start.clock_start_s)
