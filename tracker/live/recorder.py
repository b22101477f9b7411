"""A session from start to end: the estimator, raw samples, and checkpoints to the store.

The session's summary, segments, lumbar events and new raw samples are written every
``checkpoint_s`` of session time (5 s by default) in one transaction, so a crash, kill -9 or
power cut loses at most that much; on the next start the store closes such a session as
``interrupted`` with what was checkpointed. When it is due to end is :mod:`tracker.lifecycle`'s.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from tracker.analysis import Analysis
from tracker.estimate.session import LiveState, SessionEstimator
from tracker.lifecycle import Ending, Lifecycle
from tracker.store.database import Store
from tracker.store.rows import SessionStart

Array = npt.NDArray[np.float64]


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
        self.ending = Ending(self.lifecycle)

    def feed(self, t_s: Array, accel_g: Array, gyro_dps: Array) -> LiveState:
        state = self.estimator.feed(t_s, accel_g, gyro_dps)
        self.ending.contact(state.t_s, state.s_cm)
        if self.lifecycle.keep_raw:
            self._raw.append(np.column_stack([t_s, accel_g, gyro_dps]))
        if state.alerts_s:  # an alert goes out at once, not at the next checkpoint
            self.checkpoint(alerts=[(self._wall(t), state.s_cm) for t in state.alerts_s])
        elif state.t_s - self._last_checkpoint_s >= self.lifecycle.checkpoint_s:
            self.checkpoint()
        return state

    def checkpoint(self, status: str = "live", reason: str | None = None,
                   alerts: list[tuple[datetime, float]] | None = None) -> Analysis:
        analysis = self.estimator.snapshot() if status == "live" else self.estimator.finish()
        blocks: list[tuple[int, Array]] = []
        if self._raw:
            blocks.append((self._seq, np.concatenate(self._raw)))
            self._seq += 1
        end = analysis.start_s + analysis.duration_s
        self.store.checkpoint(self.session_id, analysis, blocks, self._wall(end), status,
                              reason, self.ending.gaps, alerts or [], self.start.device)
        self._raw = []
        self._last_checkpoint_s = analysis.start_s + analysis.duration_s
        return analysis

    def finish(self, reason: str = "stopped") -> Analysis:
        """End the session (``stopped``, ``still``, ``disconnected``, ``imported``)."""
        return self.checkpoint("complete", reason)

    def _wall(self, t_s: float) -> datetime:
        """Wall time of a sample: the start plus session time."""
        return self.start.started_at + timedelta(seconds=t_s - self.start.clock_start_s)
