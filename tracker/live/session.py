"""A live session: the roller's link feeding the recorder, with status for whoever watches.

Everything runs on one asyncio loop: bleak's notification callbacks feed the estimator
directly (decoding and estimating a packet takes well under a millisecond) and the status
callback is throttled. The samples themselves end the session, on their own clock (the
roller's): still for the configured time, or the first sample after a link lost longer than
the configured time (:mod:`tracker.core.lifecycle`); the link gives up alone after as long.
Samples are turned into the roller's axes by the device's calibration (if it has one) before
anything else sees them, and the first rolling re-checks that calibration.

``roller track`` records from the first sample to the end. The gateway (``repeat``) keeps
the link and records session after session: each starts when rolling starts (with the few
seconds before it, so the first stroke counts), is admitted or refused by the schedule
then, and ends as any session does. After a session ended from Home Assistant or a
refusal, it waits until the roller has rested as long as a session's still end before it
watches for rolling again (a session that ended still, or by the link, has rested already).

A session starts at the wall time its first sample reached this process: never before the
process began, whatever the roller's clock says.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from tracker import devices
from tracker.config import Settings
from tracker.core import clock
from tracker.core.calibration import AxisCheck, Mounting
from tracker.core.errors import InputError
from tracker.core.estimate import LiveState, SessionEstimator
from tracker.core.estimate.rolling import RollingStart
from tracker.core.formats.roller_analysis import Analysis
from tracker.core.formats.roller_imu import Header, RecordingWriter
from tracker.core.programs import Program
from tracker.core.schedule import Verdict
from tracker.core.status import Identity, Status
from tracker.devices import Profile
from tracker.devices import roller as roller_profile
from tracker.devices.base import LinkStats
from tracker.devices.ble import DeviceInfo, Link, LinkEvents
from tracker.live.admission import Admission, check_start
from tracker.live.program import Follow
from tracker.live.recorder import Recorder
from tracker.store.database import Store
from tracker.store.errors import StoreError
from tracker.store.rows import SessionStart

log = logging.getLogger(__name__)
Array = npt.NDArray[np.float64]
#: The gateway starts a session this much before rolling was recognised (s).
PREROLL_S = 3.0


class NotCalibrated(InputError):
    """A sensor whose axes we cannot know until it has been calibrated."""


def resolve_device(store: Store, address: str, profile_name: str | None = None,
                   ) -> tuple[Profile, Mounting | None]:
    """The profile (given, else the stored one, else ours) and calibration of a device."""
    known = store.devices.known(address)
    profile = devices.profile(profile_name or (known[0] if known else "roller"))
    mounting = known[1] if known else None
    if mounting is None and not profile.axes_known:
        raise NotCalibrated(f"{address} ({profile.label}) is not calibrated yet: run roller "
                            "calibrate first, so its axes are known")
    return profile, mounting


@dataclass
class Result:
    session_id: int | None
    analysis: Analysis | None
    end_reason: str
    info: DeviceInfo
    link: LinkStats
    gaps: int
    diameter_cm: float | None = None  # the one the estimator used
    warnings: tuple[str, ...] = ()
    store_failure: str | None = None  # what could not be stored, if anything

    def to_json(self) -> dict[str, Any]:
        data = self.analysis.to_json() if self.analysis else {}
        cfg = self.info.config
        data["session_id"] = self.session_id
        data["end_reason"] = self.end_reason
        data["device"] = {
            "address": self.info.address, "profile": self.info.profile,
            "name": self.info.name, "manufacturer": self.info.manufacturer,
            "model": self.info.model, "firmware": self.info.firmware,
            "battery_pct": self.info.battery_pct, "rate_hz": self.info.rate_hz,
            "diameter_cm": self.diameter_cm,
            "protocol_version": cfg.protocol_version if cfg else None,
        }
        data["link"] = {"packets": self.link.packets, "lost": self.link.lost,
                        "malformed": self.link.malformed, "unknown": self.link.unknown,
                        "torn": self.link.torn, "restarts": self.link.restarts,
                        "loss_pct": round(self.link.loss_pct, 2), "gaps": self.gaps}
        data["warnings"] = list(self.warnings)
        data["store_failure"] = self.store_failure
        return data


@dataclass
class LiveSession:
    settings: Settings
    store: Store
    routine: str
    address: str
    on_status: Callable[[Status], None] = lambda status: None
    scanner_backend: Any = None
    client_backend: Any = None
    source: str = "live"
    verdict: str | None = None
    override: bool = False
    record: RecordingWriter | None = None  # the stream, written as it arrives
    rate_hz: int = 100
    profile: Profile = roller_profile.PROFILE
    mounting: Mounting | None = None  # the device's calibration
    clock: Callable[[], float] = time.monotonic  # when notifications arrive
    speed: float = 1.0  # the roller's time runs this many times real time (the simulator)
    status_every_s: float = 0.5
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    #: Sessions one after another, each from when rolling starts (the gateway's way).
    repeat: bool = False
    #: Asked when a repeated session is about to start; None refuses it.
    admit: Callable[[], Admission | None] | None = None
    #: Each repeated session's result, as it ends.
    on_result: Callable[[Result], None] = lambda result: None
    #: A program to follow (and why the schedule refuses glutes today, if it does).
    program: Program | None = None
    glutes_refusal: str | None = None
    follow: Follow | None = None
    recorder: Recorder | None = None
    warning: str | None = None
    diameter_cm: float | None = None
    _rolling: RollingStart = field(default_factory=RollingStart)
    #: Between sessions, the samples of the last :data:`PREROLL_S` and when each block came.
    _preroll: list[tuple[datetime, Array]] = field(default_factory=list)
    _resting: bool = False  # after a session or a refusal: wait until the roller rests
    _axis: AxisCheck | None = None
    _link_state: tuple[str, int] = ("connecting", 0)
    _identity: Identity | None = None  # who the device said it is, once live
    _last_status: float = -1e9
    _end: str | None = None

    async def run(self) -> Result:
        link = Link(self.address, LinkEvents(self._on_samples, self._on_state), self.rate_hz,
                    reconnect_within_s=self.settings.lifecycle.end_after_disconnect_s,
                    scanner_backend=self.scanner_backend, client_backend=self.client_backend,
                    profile=self.profile, clock=self.clock, speed=self.speed)
        self._link = link
        try:
            reason = await link.run(self.stop)
        except BaseException:
            self._finish("disconnected")  # the link failed after a reconnect: store what is
            raise
        return self._finish(self._end or reason)

    def _finish(self, reason: str) -> Result:
        """End the session in progress (if any) and say how it went."""
        recorder, self.recorder = self.recorder, None
        analysis = recorder.finish(reason) if recorder else None
        link = self._link
        warnings = ((self.warning,) if self.warning else ()) + link.advice() + tuple(
            dict.fromkeys(k.caution() for k in recorder.contacts) if recorder else ())
        result = Result(recorder.session_id if recorder else None, analysis, reason, link.info,
                        link.decoder.stats, link.gaps, self.diameter_cm, warnings,
                        recorder.failure if recorder else None)
        if recorder is not None and self.repeat:
            self.on_result(result)
        return result

    def end(self, reason: str) -> None:
        """End the session (``stopped`` by the user, or ``still``), and the link."""
        self._end = self._end or reason
        self.stop.set()

    def end_session(self, reason: str = "stopped") -> bool:
        """End the session in progress but, repeating, keep the link for the next one;
        whether there was one to end."""
        if not self.repeat:
            self.end(reason)
            return True
        if self.recorder is None:
            return False
        self._finish(reason)
        # Ended by a person (or a program): they may still be on it. Still, or the link
        # lost that long, it has rested already.
        self._resting = reason not in ("still", "disconnected")
        self._rolling.reset()
        self._emit(None)
        return True

    def switch(self, routine: str, off: bool = False, override: bool = False) -> str | None:
        """Roll another area next: the part under way ends when the roller is lifted (or at
        once, ``off``: a stretch), and the next starts at its landmark once it is put down
        and rolled. Glutes the schedule refuses today are refused here too, unless
        ``override`` (or the session's own): then it is kept on the session and said, as at
        a start. Returns why the switch was not made, or None."""
        recorder = self.recorder
        if recorder is None:
            return "no session under way"
        if routine == "glutes" and recorder.estimator.routine != "glutes":
            now = clock.now()
            verdict, allowed, why = check_start(self.store, self.settings, routine, now,
                                                recorder.session_id)
            if verdict is not Verdict.ALLOWED:
                try:
                    if not (override or self.override):  # said, as a refused start is
                        self.store.outbox.record_refusal(routine, verdict.value,
                                                         allowed.isoformat(), now, self.address)
                        return why
                    if recorder.session_id is not None:
                        self.store.override(recorder.session_id, routine, verdict.value, now,
                                            self.address)
                except StoreError as exc:  # the store is busy or failing: the session goes on
                    log.warning("%s: the schedule's %s of glutes is not stored: %s",
                                self.address, "refusal" if not override else "override", exc)
                    if not (override or self.override):
                        return why
        recorder.switch(routine, off)
        self._emit(None)
        return None

    def _on_samples(self, t_s: Array, accel_g: Array, gyro_dps: Array) -> None:
        if self.mounting is not None:
            accel_g, gyro_dps = self.mounting.apply(accel_g, gyro_dps)
        if self.recorder is not None and self.recorder.ending.lost:  # the link is back
            if self.recorder.ending.due(float(t_s[0])) == "disconnected":
                self.end_session("disconnected")  # it slept: these samples are after it
                if not self.repeat:
                    return
            else:
                self.recorder.ending.link_restored(self.recorder.wall(float(t_s[0])))
        if self.recorder is None:
            if self.repeat:
                began = self._rolling_began(t_s, accel_g, gyro_dps)
                if began is None:
                    self._throttled(None)
                    return
                t_s, accel_g, gyro_dps, admission = began
            else:
                admission = Admission(self.routine, self.verdict, self.override)
            self.recorder = self._start(float(t_s[0]), self._arrived(float(t_s[0])),
                                        admission)
        if self._axis is not None and self._axis.feed(gyro_dps) and self._axis.wrong:
            self.warning = (f"the roller turns {self._axis.off_deg:.0f} deg away from its "
                            "calibrated axis: has the sensor moved? run roller calibrate")
            log.warning("%s: %s", self.address, self.warning)
        state = self.recorder.feed(t_s, accel_g, gyro_dps)
        if self.record:
            self._write_recording(np.column_stack([t_s, accel_g, gyro_dps]))
        if self.recorder.ending.due(state.t_s) == "still":
            self.end_session("still")
        self._throttled(state, urgent=bool(state.alerts_s))

    def _throttled(self, state: LiveState | None, urgent: bool = False) -> None:
        """Status every :attr:`status_every_s`, and at once when urgent (an alert)."""
        now = asyncio.get_running_loop().time()
        if urgent or now - self._last_status >= self.status_every_s:
            self._last_status = now
            self._emit(state)

    def _rolling_began(self, t_s: Array, accel_g: Array, gyro_dps: Array
                       ) -> tuple[Array, Array, Array, Admission] | None:
        """Repeating, between sessions: the samples to start one with (the last
        :data:`PREROLL_S` and these) and its admission, once rolling has begun and the
        schedule admits it; else None."""
        self._preroll.append((clock.now(), np.column_stack([t_s, accel_g, gyro_dps])))
        while len(self._preroll) > 1 and self._preroll[1][1][0, 0] <= t_s[-1] - PREROLL_S:
            self._preroll.pop(0)
        rolling = self._rolling.feed(t_s, gyro_dps)
        if self._resting:
            self._resting = self._rolling.rested_s() < self.settings.lifecycle.end_after_still_s
            return None
        if not rolling:
            return None
        admission = self.admit() if self.admit else Admission(self.routine)
        if admission is None:  # refused: the admitter said so
            self._resting = True
            self._rolling.reset()
            return None
        block = np.concatenate([samples for _, samples in self._preroll])
        block = block[block[:, 0] >= t_s[-1] - PREROLL_S]  # not the samples before a gap
        self._rolling.reset()
        return block[:, 0], block[:, 1:4], block[:, 4:7], admission

    def _arrived(self, t_s: float) -> datetime:
        """When the sample at ``t_s`` reached this process: the arrival of the block that
        carried it (a session's start, on the wall clock; never before this process began,
        as a start counted back from now on the roller's clock could be)."""
        came = next((at for at, samples in reversed(self._preroll) if samples[0, 0] <= t_s),
                    None)
        self._preroll.clear()
        return came or clock.now()

    def _start(self, clock_start_s: float, started_at: datetime, admission: Admission
               ) -> Recorder:
        info = self._link.info
        rate_hz = info.rate_hz or self._link.rate_hz
        measured = self.mounting.diameter_cm if self.mounting else None
        self.diameter_cm = measured or info.diameter_cm or self.settings.diameter_cm
        self._axis = AxisCheck(rate_hz)
        body = self.settings.body
        start = SessionStart(
            routine=admission.routine, started_at=started_at, zone=self.settings.zone,
            source=self.source, sample_rate_hz=rate_hz, diameter_cm=self.diameter_cm,
            height_cm=body.height_cm, clock_start_s=clock_start_s, device=self.address,
            override=admission.override, verdict=admission.verdict,
            person_id=self.settings.person.id if self.settings.person else None,
        )
        estimator = SessionEstimator(admission.routine, body, self.diameter_cm, rate_hz,
                                     self.settings.estimator)
        rx = self.settings.prescription
        day = started_at.astimezone(ZoneInfo(self.settings.zone)).date()
        recorder = Recorder(self.store, start, estimator, self.settings.lifecycle,
                            rx.kept_off_on(day) if rx else None)
        if self.program is not None:
            self.follow = Follow(self.program, self.glutes_refusal, self.switch,
                                 self.end_session, recorder.ending.excuse,
                                 lambda: recorder.estimator.routine)
            recorder.program = self.follow.run.to_json
        return recorder

    def _on_state(self, state: str, attempt: int) -> None:
        previous = self._link_state[0]
        self._link_state = (state, attempt)
        if state == "live" and self._identity is None:
            self._identity = self._link.identity
            try:
                self.store.devices.remember_identity(self._identity, clock.now())
            except StoreError as exc:  # who it is can wait for the next connection
                log.warning("%s: cannot remember the device's identity: %s", self.address, exc)
        recorder = self.recorder
        if recorder and state == "reconnecting" and previous == "live":
            last = recorder.estimator.last_state
            t_s = last.t_s if last else recorder.start.clock_start_s
            recorder.ending.link_lost(recorder.wall(t_s), t_s)  # back: its first sample says
        self._emit(None)

    def _emit(self, state: LiveState | None) -> None:
        recorder_state = state or (self.recorder.estimator.last_state if self.recorder else None)
        if self.follow is not None and recorder_state is not None and self.recorder:
            self.follow.tick(recorder_state)
        recorder = self.recorder
        failure = recorder.failure if recorder else None
        kept = recorder.kept_off.get(recorder.estimator.routine) if recorder else None
        warning = f"not stored yet: {failure}" if failure else self.warning or (
            kept.caution() if kept else None)  # from when the area is asked for
        self.on_status(Status(self._link_state[0], self._link_state[1], recorder_state,
                              self._link.decoder.stats.loss_pct, self._link.info.battery_pct,
                              warning, self._identity, recorder is not None,
                              recorder.estimator.routine if recorder else None,
                              self.follow.view(recorder_state) if self.follow and recorder_state
                              else None, self._link.info.rssi_dbm))

    def _write_recording(self, samples: Array) -> None:
        """The stream in the roller's axes (calibration applied), as roller-imu v1; a disk
        that fails stops the recording file, never the session."""
        assert self.record is not None and self.diameter_cm is not None
        try:
            if not self.record.begun:
                info = self._link.info
                assert self.recorder is not None
                self.record.begin(Header(
                    info.rate_hz or self._link.rate_hz, self.diameter_cm,
                    self.settings.body.height_cm, self.recorder.start.routine,
                    {"source": self.source, "device": info.address, "profile": info.profile}))
            self.record.append(samples)
        except OSError as exc:
            self.warning = f"--record {self.record.path} stopped: {exc.strerror or exc}"
            log.warning("%s: %s", self.address, self.warning)
            self.record.close()
            self.record = None
