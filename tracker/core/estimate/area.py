"""One area's analysis, fed samples as they arrive: a part of a session, or all of it.

The chain per chunk: rotation (gyro and gravity) -> contact position along the body and its
uncertainty -> region segments, lumbar cautions and alerts at every sample -> strokes and
pauses on a 20 Hz track.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tracker.core.body import REGIONS, Body
from tracker.core.estimate.lumbar import LumbarWatch
from tracker.core.estimate.motion import Decimator, PauseDetector, StrokeCounter
from tracker.core.estimate.rotation import RotationEstimator
from tracker.core.estimate.uncertainty import CautionWatch, PositionSpread
from tracker.core.formats.roller_analysis import Analysis, Segment
from tracker.core.tuning import EstimatorConfig

Array = npt.NDArray[np.float64]
MOTION_RATE_HZ = 20.0


@dataclass(frozen=True)
class LiveState:
    """The estimator's view after the latest chunk: what a live display shows."""

    t_s: float
    s_cm: float
    s_sd_cm: float  # the position's standard deviation
    region: str
    lumbar: bool
    alerts_s: list[float]  # lumbar alerts raised by this chunk
    caution: bool  # the contact is possibly in the lumbar band
    cautions_s: list[float]  # cautions raised by this chunk
    strokes: int
    active_s: float
    paused_s: float
    bout_s: float  # rolling since the last pause ended (0 while paused)
    pause_s: float  # the pause under way (0 while rolling)
    lifted_s: float = 0.0  # between parts, the roller lifted and being put down
    placing: bool = False  # between two parts now: nothing on the body is known
    part: int = 0  # which part of the session (0: the first)
    part_active_s: float = 0.0  # active rolling in this part (a program step's progress)
    #: The carry before this part could not tell which way round the roller went down: the
    #: person is asked to check (tracker.core.estimate.carry); its positions may be mirrored.
    orientation_unsure: bool = False

    @property
    def cadence_cpm(self) -> float:
        return self.strokes / 2 / (self.active_s / 60) if self.active_s > 0 else 0.0


class AreaEstimator:
    """Streaming analysis of one area rolled from ``routine``'s landmark: a session's part
    (:class:`tracker.core.estimate.session.SessionEstimator` strings them together).

    ``reversed``: the roller lies end for end (its axis to the person's right), so rolling
    away turns it negatively and the contact moves by ``+R * dphi``: a part after a lift that
    turned the roller round (:mod:`tracker.core.estimate.carry`)."""

    def __init__(
        self,
        routine: str,
        body: Body,
        diameter_cm: float,
        sample_rate_hz: float,
        config: EstimatorConfig | None = None,
        reversed: bool = False,
    ) -> None:
        cfg = config or EstimatorConfig()
        self.routine, self.body, self.config = routine, body, cfg
        self.reversed = reversed
        self._radius_cm = diameter_cm / 2
        self._start_cm = body.landmark_cm(routine)
        self._rotation = RotationEstimator(self._radius_cm, sample_rate_hz, cfg.fusion)
        top, bottom = body.lumbar_cm
        self._lumbar = LumbarWatch(top, bottom, cfg.lumbar_alert_depth_cm)
        self._spread = PositionSpread(cfg.uncertainty, self._start_cm)
        self._caution = CautionWatch(top, bottom, cfg.lumbar_caution_cm, cfg.lumbar_caution_sd,
                                     cfg.lumbar_caution_hold_s)
        self._strokes = StrokeCounter(cfg.stroke_min_cm, cfg.stroke_reversal_cm)
        self._pauses = PauseDetector(cfg.pause_speed_cm_s, cfg.pause_min_s,
                                     reach=max(1, round(0.125 * MOTION_RATE_HZ)))
        self._motion_grid = Decimator(MOTION_RATE_HZ)
        self._track_grid = Decimator(cfg.track_rate_hz)
        self._track: tuple[list[float], list[float], list[float]] = ([], [], [])
        self._segments: list[Segment] = []
        self._region = -1
        self._region_since = 0.0
        self._t_first: float | None = None
        self._state: LiveState | None = None

    def feed(self, t_s: Array, accel_g: Array, gyro_dps: Array) -> LiveState:
        """Add samples (time in s, accelerations in g, rates in deg/s); return the live state."""
        return self.feed_rotation(t_s, self._rotation.feed(t_s, accel_g, gyro_dps))

    def feed_rotation(self, t_s: Array, rotation_rad: Array) -> LiveState:
        """Add the roller's rotation since the start, however it was found (the bench feeds
        the exact one to score an estimator that has no error but slip)."""
        if len(t_s) == 0:
            if self._state is None:
                raise ValueError("no samples yet")
            return self._state
        if self._t_first is None:
            self._t_first = float(t_s[0])
        sign = 1.0 if self.reversed else -1.0
        s_cm = self._start_cm + sign * self._radius_cm * rotation_rad
        sd_cm = self._spread.update(s_cm)
        self._update_regions(t_s, s_cm)
        alerts = self._lumbar.update(t_s, s_cm)
        cautions = self._caution.update(t_s, s_cm, sd_cm)
        picks = self._motion_grid.pick(t_s)
        t_pick, s_pick = t_s[picks].tolist(), s_cm[picks].tolist()
        self._strokes.update(s_pick)
        self._pauses.update(t_pick, s_pick)
        track = self._track_grid.pick(t_s)
        self._track[0].extend(t_s[track].tolist())
        self._track[1].extend(s_cm[track].tolist())
        self._track[2].extend(sd_cm[track].tolist())
        now = float(t_s[-1])
        elapsed = now - self._t_first
        paused = self._pauses.paused_s
        finished = self._pauses.pauses
        still = self._pauses.still_since
        pause_s = now - still if still is not None and now - still >= self._pauses.min_s else 0.0
        bout_start = finished[-1][1] if finished else self._t_first
        self._state = LiveState(
            t_s=float(t_s[-1]),
            s_cm=float(s_cm[-1]),
            s_sd_cm=float(sd_cm[-1]),
            region=REGIONS[self._region],
            lumbar=self._lumbar.active,
            alerts_s=alerts,
            caution=self._caution.active,
            cautions_s=cautions,
            strokes=self._strokes.total,
            active_s=elapsed - paused,
            paused_s=paused,
            bout_s=0.0 if pause_s else now - bout_start,
            pause_s=pause_s,
            part_active_s=elapsed - paused,
        )
        return self._state

    def _update_regions(self, t_s: Array, s_cm: Array) -> None:
        region = self.body.region_index(s_cm)
        if self._region < 0:
            self._region, self._region_since = int(region[0]), float(t_s[0])
        changes = np.flatnonzero(np.diff(region, prepend=self._region))
        for i in changes.tolist():
            t = float(t_s[i])
            self._segments.append(Segment(REGIONS[self._region], self._region_since, t))
            self._region, self._region_since = int(region[i]), t

    @property
    def last_state(self) -> LiveState | None:
        """The state after the latest chunk, if any."""
        return self._state

    def snapshot(self) -> Analysis:
        """The analysis so far, with what is under way included as it stands (checkpoints)."""
        if self._state is None or self._t_first is None:
            raise ValueError("a session needs at least one sample")
        end = self._state.t_s
        segments = [*self._segments, Segment(REGIONS[self._region], self._region_since, end)]
        return Analysis(
            routine=self.routine,
            start_s=self._t_first,
            duration_s=end - self._t_first,
            pauses=self._pauses.so_far(),
            strokes=self._strokes.total,
            segments=segments,
            lumbar_events=self._lumbar.so_far(end),
            track_t_s=list(self._track[0]),
            track_s_cm=list(self._track[1]),
            track_s_sd_cm=list(self._track[2]),
            caution_events=self._caution.so_far(end),
        )

    def finish(self) -> Analysis:
        """Close everything under way and return the session's analysis."""
        if self._state is None:
            raise ValueError("a session needs at least one sample")
        self._pauses.finish()
        self._lumbar.finish(self._state.t_s)
        self._caution.finish(self._state.t_s)
        return self.snapshot()
