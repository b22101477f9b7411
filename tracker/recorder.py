"""A session from start to end: the estimator, raw samples, and checkpoints to the store.

The session's summary, segments, lumbar events and new raw samples are written every
``checkpoint_s`` of session time (5 s by default) in one transaction, so a crash, kill -9 or
power cut loses at most that much; on the next start the store closes such a session as
``interrupted`` with what was checkpointed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from tracker.analysis import Analysis
from tracker.estimate.session import LiveState, SessionEstimator
from tracker.store import SessionStart, Store

Array = npt.NDArray[np.float64]


class Recorder:
    def __init__(
        self,
        store: Store,
        start: SessionStart,
        estimator: SessionEstimator,
        checkpoint_s: float = 5.0,
        keep_raw: bool = True,
    ) -> None:
        self.store, self.start, self.estimator = store, start, estimator
        self.checkpoint_s, self.keep_raw = checkpoint_s, keep_raw
        self.session_id = store.start_session(start)
        self._raw: list[Array] = []
        self._seq = 0
        self._last_checkpoint_s = start.clock_start_s
        self._state: LiveState | None = None

    def feed(self, t_s: Array, accel_g: Array, gyro_dps: Array) -> LiveState:
        self._state = self.estimator.feed(t_s, accel_g, gyro_dps)
        if self.keep_raw:
            self._raw.append(np.column_stack([t_s, accel_g, gyro_dps]))
        if self._state.t_s - self._last_checkpoint_s >= self.checkpoint_s:
            self.checkpoint()
        return self._state

    def checkpoint(self, status: str = "live", reason: str | None = None) -> Analysis:
        analysis = self.estimator.snapshot() if status == "live" else self.estimator.finish()
        blocks: list[tuple[int, Array]] = []
        if self._raw:
            blocks.append((self._seq, np.concatenate(self._raw)))
            self._seq += 1
        self.store.checkpoint(self.session_id, analysis, blocks, self._clock(analysis), status,
                              reason)
        self._raw = []
        self._last_checkpoint_s = analysis.start_s + analysis.duration_s
        return analysis

    def finish(self, reason: str = "stopped") -> Analysis:
        """End the session (``stopped``, ``still``, ``disconnected``, ``imported``)."""
        return self.checkpoint("complete", reason)

    def _clock(self, analysis: Analysis) -> datetime:
        """Wall time of the latest sample: the start plus session time."""
        elapsed = analysis.start_s + analysis.duration_s - self.start.clock_start_s
        return self.start.started_at + timedelta(seconds=elapsed)
