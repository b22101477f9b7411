"""A session from start to end: the estimator, raw samples, and checkpoints to the store.

The session's summary, segments, lumbar events and cautions and new raw samples are written every
``checkpoint_s`` of session time (5 s by default) in one transaction, so a crash, kill -9 or
power cut loses at most that much; the next command closes such a session as ``interrupted``
with what was checkpointed. When it is due to end is :mod:`tracker.core.lifecycle`'s.

A checkpoint that cannot be written (another program holds the store too long, the disk is
full, the file became read-only) never stops the session: the samples and alerts stay in
memory, the failure is told once through :attr:`Recorder.failure`, and the next checkpoint
tries again. Only if the session's end cannot be written either is anything lost, and then
:meth:`Recorder.finish` says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from tracker.core.alert_rules import AlertRules
from tracker.core.comfort import Score
from tracker.core.estimate import LiveState, SessionEstimator
from tracker.core.events import Moment
from tracker.core.formats.roller_analysis import Analysis
from tracker.core.formats.roller_imu import Recording
from tracker.core.lifecycle import Ending, Lifecycle
from tracker.core.prescription import KeepOff
from tracker.store.comfort import NoPart
from tracker.store.database import Store
from tracker.store.errors import StoreError
from tracker.store.rows import SessionStart

log = logging.getLogger(__name__)
Array = npt.NDArray[np.float64]

#: A live checkpoint waits this long (s) for another program's write: the event loop that
#: carries the Bluetooth notifications must not stall; what is not written is kept for later.
LIVE_WAIT_S = 0.5
#: The session's end waits longer (s): it is the last chance to write what is kept.
END_WAIT_S = 10.0


class Recorder:
    def __init__(
        self,
        store: Store,
        start: SessionStart,
        estimator: SessionEstimator,
        lifecycle: Lifecycle | None = None,
        kept_off: Mapping[str, KeepOff] | None = None,
    ) -> None:
        self.store, self.start, self.estimator = store, start, estimator
        #: The areas the person's prescription keeps off today: a part begun on one is
        #: an alert (``kept_off_contact``), raised once per part.
        self.kept_off = dict(kept_off or {})
        #: The kept-off areas a part of this session was rolled on, in order.
        self.contacts: list[KeepOff] = []
        self._part_seen = -1
        self.lifecycle = lifecycle or Lifecycle()
        self.ending = Ending(self.lifecycle)
        #: The session's id, once its start is stored.
        self.session_id: int | None = None
        #: Why the store cannot be written now (None while all is written).
        self.failure: str | None = None
        self._raw: list[Array] = []
        self._blocks: list[tuple[int, Array]] = []  # not yet written
        self._moments: list[Moment] = []  # cautions and alerts not yet written
        self._seq = 0
        self._last_checkpoint_s = start.clock_start_s
        #: The program followed, as it stands (stored with each checkpoint), if any.
        self.program: Callable[[], dict[str, Any]] | None = None
        self._write(lambda: self._begin(LIVE_WAIT_S))

    def feed(self, t_s: Array, accel_g: Array, gyro_dps: Array) -> LiveState:
        state = self.estimator.feed(t_s, accel_g, gyro_dps)
        self.ending.contact(state.t_s, state.s_cm)
        if self.lifecycle.keep_raw:
            self._raw.append(np.column_stack([t_s, accel_g, gyro_dps]))
        moments = raised(state, self.wall) + self._kept_off_contact(state)
        if moments:  # cautions and alerts go out at once, not at the next checkpoint
            self._moments += moments
            self.checkpoint()
        elif state.t_s - self._last_checkpoint_s >= self.lifecycle.checkpoint_s:
            self.checkpoint()
        return state

    def _kept_off_contact(self, state: LiveState) -> list[Moment]:
        """The alert of a part just begun on a kept-off area (once the roller rolls on it)."""
        if state.placing or state.part == self._part_seen:
            return []
        self._part_seen = state.part
        kept = self.kept_off.get(self.estimator.routine)
        if kept is not None:
            self.contacts.append(kept)
        return [Moment("kept_off_contact", self.wall(state.t_s), state.s_cm, state.s_sd_cm,
                       kept)] if kept else []

    def switch(self, routine: str, off: bool = False) -> None:
        """Ask for ``routine`` next: the part under way ends when the roller is lifted (or
        now, ``off``), the next starts at its landmark once the roller is put down and
        rolled (:mod:`tracker.core.estimate.session`)."""
        state = self.estimator.last_state
        self.estimator.switch(routine, state.t_s if state else self.start.clock_start_s, off)
        if state is not None:
            self.checkpoint()

    def comfort(self, score: int, at: datetime, rules: AlertRules) -> Score:
        """The person's comfort score for the part rolled now or last (between two parts,
        the one just finished), written at once: a score is never kept for a checkpoint."""
        rolled = self.estimator.rolled_part
        if self.session_id is None or rolled is None:
            raise NoPart("nothing rolled yet to score: roll the area first")
        seq, area = rolled
        return self.store.comfort.give(self.session_id, score, at, rules, seq=seq, area=area,
                                       wait_s=LIVE_WAIT_S)

    def checkpoint(self, status: str = "live", reason: str | None = None) -> Analysis:
        analysis = self.estimator.snapshot() if status == "live" else self.estimator.finish()
        if self._raw:
            self._blocks.append((self._seq, np.concatenate(self._raw)))
            self._seq += 1
            self._raw = []
        self._last_checkpoint_s = analysis.start_s + analysis.duration_s
        wait_s = LIVE_WAIT_S if status == "live" else END_WAIT_S
        self._write(lambda: self._store(analysis, status, reason, wait_s))
        return analysis

    def finish(self, reason: str = "stopped") -> Analysis:
        """End the session (``stopped``, ``still``, ``disconnected``); if its end cannot be
        written, :attr:`failure` says why and what is lost."""
        analysis = self.checkpoint("complete", reason)
        if self.failure:
            kept = sum(len(block) for _, block in self._blocks)
            where = (f"session {self.session_id} keeps what its last checkpoint wrote"
                     if self.session_id else "the session was never stored")
            self.failure = f"{self.failure}; {where}, {kept} samples were not written"
        return analysis

    def _begin(self, wait_s: float) -> None:
        if self.session_id is None:
            self.session_id = self.store.start_session(self.start, wait_s)

    def _store(self, analysis: Analysis, status: str, reason: str | None,
               wait_s: float) -> None:
        self._begin(wait_s)
        assert self.session_id is not None
        end = analysis.start_s + analysis.duration_s
        self.store.checkpoint(self.session_id, analysis, self._blocks, self.wall(end), status,
                              reason, self.ending.gaps, self._moments, self.start.device,
                              wait_s, self.program() if self.program else None)
        self._blocks, self._moments = [], []

    def _write(self, write: Callable[[], None]) -> None:
        """Write now, or keep everything for the next try and say why once."""
        try:
            write()
        except StoreError as exc:
            if self.failure is None:
                log.warning("%s: cannot store the session now, keeping it in memory: %s",
                            self.start.device or "the roller", exc)
            self.failure = str(exc)
            return
        if self.failure is not None:
            log.warning("%s: the session is stored again", self.start.device or "the roller")
        self.failure = None

    def wall(self, t_s: float) -> datetime:
        """Wall time of a sample: the start plus session time."""
        return self.start.started_at + timedelta(seconds=t_s - self.start.clock_start_s)


def store_recording(store: Store, start: SessionStart, estimator: SessionEstimator,
                    recording: Recording, digest: str, lifecycle: Lifecycle) -> int:
    """A whole recording as one finished session, in one transaction (all or nothing), with
    the events a live session would have sent; raw samples (if kept) in blocks as long as a
    live session's checkpoints, so their float32 times stay as fine as the recording's."""
    state = estimator.feed(recording.t_s, recording.accel_g, recording.gyro_dps)
    analysis = estimator.finish()
    origin = start.clock_start_s
    moments = raised(state, lambda t: start.started_at + timedelta(seconds=t - origin),
                     analysis)
    window = (recording.t_s - recording.t_s[0]) // lifecycle.checkpoint_s
    edges = np.flatnonzero(np.diff(window)) + 1
    pieces = [b for b in np.split(recording.samples, edges) if len(b)] \
        if lifecycle.keep_raw else []
    blocks = list(enumerate(pieces))
    return store.store_session(start, analysis, blocks, moments, "imported", digest)


def raised(state: LiveState, wall: Callable[[float], datetime],
           analysis: Analysis | None = None) -> list[Moment]:
    """The cautions and alerts a chunk raised, in time order. Each carries the latest
    position, or the position at its moment from ``analysis``'s track (a whole file is
    one chunk)."""
    def where(t_s: float) -> tuple[float, float]:
        if analysis is None:
            return state.s_cm, state.s_sd_cm
        return (float(np.interp(t_s, analysis.track_t_s, analysis.track_s_cm)),
                float(np.interp(t_s, analysis.track_t_s, analysis.track_s_sd_cm)))

    moments = [(t, "lumbar_caution") for t in state.cautions_s]
    moments += [(t, "lumbar_contact_alert") for t in state.alerts_s]
    return [Moment(kind, wall(t), *where(t)) for t, kind in sorted(moments)]
