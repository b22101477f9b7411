"""A live session: the roller's link feeding the recorder, with status for whoever watches.

Everything runs on one asyncio loop: bleak's notification callbacks feed the estimator
directly (decoding and estimating a packet takes well under a millisecond), a watchdog ends
the session after the configured still time, and the status callback is throttled.
Samples are turned into the roller's axes by the device's calibration (if it has one) before
anything else sees them, and the first rolling re-checks that calibration.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from tracker import devices
from tracker.analysis import Analysis
from tracker.calibration import AxisCheck, Mounting
from tracker.config import Settings
from tracker.devices import Profile
from tracker.devices import roller as roller_profile
from tracker.devices.base import LinkStats
from tracker.devices.ble import DeviceInfo, Link, LinkEvents
from tracker.estimate import LiveState, SessionEstimator
from tracker.live.recorder import Recorder
from tracker.recording import Header, RecordingWriter
from tracker.status import Identity, Status
from tracker.store.database import Store
from tracker.store.errors import StoreError
from tracker.store.rows import SessionStart

log = logging.getLogger(__name__)
Array = npt.NDArray[np.float64]


class NotCalibrated(ValueError):
    """A sensor whose axes we cannot know until it has been calibrated."""


def resolve_device(store: Store, address: str, profile_name: str | None = None,
                   ) -> tuple[Profile, Mounting | None]:
    """The profile (given, else the stored one, else ours) and calibration of a device."""
    known = store.device(address)
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
    status_every_s: float = 0.5
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    recorder: Recorder | None = None
    warning: str | None = None
    diameter_cm: float | None = None
    _axis: AxisCheck | None = None
    _link_state: tuple[str, int] = ("connecting", 0)
    _identity: Identity | None = None  # who the device said it is, once live
    _last_status: float = -1e9
    _end: str | None = None

    async def run(self) -> Result:
        link = Link(self.address, LinkEvents(self._on_samples, self._on_state), self.rate_hz,
                    reconnect_within_s=self.settings.lifecycle.end_after_disconnect_s,
                    scanner_backend=self.scanner_backend, client_backend=self.client_backend,
                    profile=self.profile, clock=self.clock)
        self._link = link
        watchdog = asyncio.get_running_loop().create_task(self._watch())
        try:
            reason = await link.run(self.stop)
        finally:
            watchdog.cancel()
        reason = self._end or reason
        analysis = self.recorder.finish(reason) if self.recorder else None
        warnings = ((self.warning,) if self.warning else ()) + link.advice()
        recorder = self.recorder
        return Result(recorder.session_id if recorder else None, analysis, reason, link.info,
                      link.decoder.stats, link.gaps, self.diameter_cm, warnings,
                      recorder.failure if recorder else None)

    def end(self, reason: str) -> None:
        """End the session (``stopped`` by the user, or ``still``)."""
        self._end = self._end or reason
        self.stop.set()

    def _on_samples(self, t_s: Array, accel_g: Array, gyro_dps: Array) -> None:
        if self.mounting is not None:
            accel_g, gyro_dps = self.mounting.apply(accel_g, gyro_dps)
        if self.recorder is None:
            self.recorder = self._start(float(t_s[0]))
        if self._axis is not None and self._axis.feed(gyro_dps) and self._axis.wrong:
            self.warning = (f"the roller turns {self._axis.off_deg:.0f} deg away from its "
                            "calibrated axis: has the sensor moved? run roller calibrate")
            log.warning("%s", self.warning)
        state = self.recorder.feed(t_s, accel_g, gyro_dps)
        if self.record:
            self._write_recording(np.column_stack([t_s, accel_g, gyro_dps]))
        now = asyncio.get_running_loop().time()
        if state.alerts_s or now - self._last_status >= self.status_every_s:
            self._last_status = now
            self._emit(state)

    def _start(self, clock_start_s: float) -> Recorder:
        info = self._link.info
        rate_hz = info.rate_hz or self._link.rate_hz
        measured = self.mounting.diameter_cm if self.mounting else None
        self.diameter_cm = measured or info.diameter_cm or self.settings.diameter_cm
        self._axis = AxisCheck(rate_hz)
        body = self.settings.body
        start = SessionStart(
            routine=self.routine, started_at=datetime.now(UTC), zone=self.settings.zone,
            source=self.source, sample_rate_hz=rate_hz, diameter_cm=self.diameter_cm,
            height_cm=body.height_cm, clock_start_s=clock_start_s, device=self.address,
            override=self.override, verdict=self.verdict,
        )
        estimator = SessionEstimator(self.routine, body, self.diameter_cm, rate_hz,
                                     self.settings.estimator)
        return Recorder(self.store, start, estimator, self.settings.lifecycle)

    def _on_state(self, state: str, attempt: int) -> None:
        previous = self._link_state[0]
        self._link_state = (state, attempt)
        if state == "live" and self._identity is None:
            self._identity = self._link.identity
            try:
                self.store.remember_identity(self._identity, datetime.now(UTC))
            except StoreError as exc:  # who it is can wait for the next connection
                log.warning("cannot remember the device's identity: %s", exc)
        if self.recorder:
            now = datetime.now(UTC)
            if state == "reconnecting" and previous == "live":
                self.recorder.ending.link_lost(now)
            elif state == "live" and previous == "reconnecting":
                self.recorder.ending.link_restored(now)
        self._emit(None)

    def _emit(self, state: LiveState | None) -> None:
        recorder_state = state or (self.recorder.estimator.last_state if self.recorder else None)
        failure = self.recorder.failure if self.recorder else None
        warning = f"not stored yet: {failure}" if failure else self.warning
        self.on_status(Status(self._link_state[0], self._link_state[1], recorder_state,
                              self._link.decoder.stats.loss_pct, self._link.info.battery_pct,
                              warning, self._identity))

    async def _watch(self) -> None:
        """End the session once the roller has lain still for the configured time."""
        while True:
            await asyncio.sleep(1.0)
            state = self.recorder.estimator.last_state if self.recorder else None
            if self.recorder and state:
                wall = datetime.now(UTC)
                reason = self.recorder.ending.due(wall, state.t_s)
                if reason == "still":
                    self.end("still")

    def _write_recording(self, samples: Array) -> None:
        """The stream in the roller's axes (calibration applied), as roller-imu v1; a disk
        that fails stops the recording file, never the session."""
        assert self.record is not None and self.diameter_cm is not None
        try:
            if not self.record.begun:
                info = self._link.info
                self.record.begin(Header(
                    info.rate_hz or self._link.rate_hz, self.diameter_cm,
                    self.settings.body.height_cm, self.routine,
                    {"source": self.source, "device": info.address, "profile": info.profile}))
            self.record.append(samples)
        except OSError as exc:
            self.warning = f"--record {self.record.path} stopped: {exc.strerror or exc}"
            log.warning("%s", self.warning)
            self.record.close()
            self.record = None
