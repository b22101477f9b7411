"""The always-on gateway: every watched roller, a session whenever it rolls, Home Assistant kept
current all day.

Each roller has its own watch on the one event loop: connect when it is in range (a roller
advertises when motion wakes it), record a session each time rolling starts (the routine
and schedule override Home Assistant chose for it), and, when it sleeps or leaves, look for
it again. The watches share nothing but the store and the bridge, so no roller waits for
another. Commands from Home Assistant arrive through the bridge (:meth:`Gateway.command`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from tracker.config import ConfigError, Settings
from tracker.core import clock
from tracker.core.status import Status
from tracker.devices.ble import BleError
from tracker.live import comfort, start
from tracker.live.admission import Admission
from tracker.live.bridged import known_identity
from tracker.live.session import LiveSession, NotCalibrated, Result, resolve_device
from tracker.live.source import Source
from tracker.store.database import Store
from tracker.store.errors import StoreError

if TYPE_CHECKING:
    from tracker.mqtt.bridge import Bridge
    from tracker.mqtt.messages import Command

log = logging.getLogger(__name__)
#: Between looks for a roller that is not in range (s); each look scans for 5 s.
LOOK_EVERY_S = 2.0
#: While pairing is open (Home Assistant's *Pair new rollers*), each scan for new rollers
#: listens this long (s).
PAIR_SCAN_S = 5.0


@dataclass
class Next:
    """What a roller's next session will be, as Home Assistant (or the default) chose."""

    routine: str
    override: bool = False  # roll glutes once although the schedule says not now


class Gateway:
    def __init__(self, settings: Settings, store: Store, sources: list[Source],
                 routine: str, bridge: Bridge | None = None) -> None:
        self.settings, self.store, self.sources, self.bridge = settings, store, sources, bridge
        self.routine = routine
        self.plans = {source.address: Next(routine) for source in sources}
        #: Each roller's profile and calibration (:class:`NotCalibrated` here, not later).
        self.devices = {s.address: resolve_device(store, s.address, s.profile) for s in sources}
        self.lives: dict[str, LiveSession] = {}
        self.results: list[Result] = []
        #: Each roller's last session and when it ended: a score given just after is its.
        self.last: dict[str, tuple[Result, datetime]] = {}
        self._stop = asyncio.Event()
        self._watches: list[asyncio.Task[None]] = []
        self._pairing: asyncio.Task[None] | None = None
        if bridge is not None:
            bridge.on_command = self.command
            bridge.on_permit_join = self.permit_join
            for address, (profile, _) in self.devices.items():
                plan = self.plans[address]  # the rest starts idle: no session, no region
                bridge.watch(address, known_identity(store, address, profile), connected=False,
                             next_routine=plan.routine, override_next=plan.override)


    async def run(self, stop: asyncio.Event) -> list[Result]:
        """Watch every roller until ``stop``; then end each session in progress as
        ``stopped`` and return every session's result."""
        self._watches = [asyncio.create_task(self._watch(source)) for source in self.sources]
        await stop.wait()
        self._stop.set()
        self.permit_join(False)
        for live in list(self.lives.values()):
            live.end("stopped")
        await asyncio.gather(*self._watches, return_exceptions=True)
        return self.results

    def permit_join(self, open_: bool) -> None:
        """Pairing opened from Home Assistant (the bridge closes it after ``[mqtt]
        permit_join_s``): while open, every roller heard that is not watched yet is paired
        and watched, as ``roller pair`` would, without stopping the gateway."""
        if open_ and self._pairing is None and not self._stop.is_set():
            self._pairing = asyncio.get_running_loop().create_task(self._pair_new())
        elif not open_ and self._pairing is not None:
            self._pairing.cancel()
            self._pairing = None

    async def _pair_new(self) -> None:
        from tracker.devices.ble import scan

        template = self.sources[0] if self.sources else Source("")
        while not self._stop.is_set():
            try:
                found = await scan(PAIR_SCAN_S, template.scanner_backend)
            except BleError as exc:
                log.warning("pairing: %s", exc)
                found = []
            for seen in found:
                if seen.address not in self.plans:
                    self.adopt(replace(template, address=seen.address, finished=None,
                                       profile=seen.profile.name), seen.name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), LOOK_EVERY_S)

    def adopt(self, source: Source, name: str) -> bool:
        """Pair a roller heard while pairing is open and watch it from now on; False (and
        said) when it cannot be watched yet (held by another process, or a sensor whose
        axes need ``roller calibrate`` first)."""
        from tracker.live.holds import Held, hold_roller

        address = source.address
        try:
            self.store.devices.pair(address, name, clock.now(), source.profile or "roller")
            hold_roller(self.store, address, "gateway")
            self.devices[address] = resolve_device(self.store, address, source.profile)
        except (Held, NotCalibrated, StoreError, ConfigError) as exc:
            log.warning("paired %s %s, but cannot watch it now: %s", name, address, exc)
            self.plans[address] = Next(self.routine)  # not asked again while this runs
            return False
        log.info("paired %s %s from Home Assistant: watching it", name, address)
        plan = self.plans[address] = Next(self.routine)
        self.sources.append(source)
        if self.bridge is not None:
            profile = self.devices[address][0]
            self.bridge.watch(address, known_identity(self.store, address, profile),
                              connected=False, next_routine=plan.routine,
                              override_next=plan.override)
        self._watches.append(asyncio.get_running_loop().create_task(self._watch(source)))
        return True

    async def _watch(self, source: Source) -> None:
        address = source.address
        profile, mounting = self.devices[address]
        missing = False
        while not self._stop.is_set():
            planned = start.watching(self._whose(address), address, profile, mounting,
                                     self.plans[address].routine)
            live = start.session(self.store, planned, source, partial(self._status, address),
                                 repeat=True, admit=partial(self._admit, address),
                                 on_result=partial(self._ended, address))
            self.lives[address] = live
            try:
                await live.run()
                missing = False
            except BleError as exc:
                if not missing:  # said once, until it is found again
                    log.info("%s: %s; looking for it every %.0f s", address, exc, LOOK_EVERY_S)
                missing = True
            except Exception:  # one roller's failure never ends the others' watch, or its own
                log.exception("%s: the link failed; looking for it again", address)
            finally:
                self.lives.pop(address, None)
                if self.bridge is not None:
                    self.bridge.update(address, connected=False)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), LOOK_EVERY_S)

    def _whose(self, address: str) -> Settings:
        """The settings of the roller's person (``roller people default NAME --roller``),
        asked each time the roller is found, so a change takes effect at its next wake."""
        return self.settings.for_person(self.store.people.default(address))

    def _status(self, address: str, status: Status) -> None:
        if self.bridge is not None:
            self.bridge.follow(address, status)

    def _admit(self, address: str) -> Admission | None:
        """Rolling has started: the session it is, or None when the schedule refuses it
        (the refusal goes out on the roller's event topic at once)."""
        plan, live, now = self.plans[address], self.lives.get(address), clock.now()
        try:
            settings, routine = self._whose(address), plan.routine
            if live is not None:  # the person's as they are now (a prescription begun or
                live.settings = settings  # ended since the roller woke): its program sets
                live.program = settings.program  # the area
                routine, live.glutes_refusal = start.program_start(
                    self.store, settings, live.program, routine, now, plan.override)
            admission = start.admit(self.store, settings, routine, plan.override, now, address)
        except (StoreError, ConfigError) as exc:  # no schedule to ask: track, never refuse
            log.warning("%s: cannot check the schedule (%s): recording anyway", address, exc)
            return Admission(plan.routine)
        if admission is None:
            return None
        if plan.override:
            plan.override = False  # once
            self._tell(address, override_next=False)
        log.info("%s: %s session started", address, admission.routine)
        self._tell(address, comfort=None)  # a new part to score
        return admission

    def _ended(self, address: str, result: Result) -> None:
        self.results.append(result)
        self.last[address] = (result, clock.now())
        a = result.analysis
        log.info("%s: session %s ended (%s): %s", address, result.session_id,
                 result.end_reason, f"{a.duration_s:.0f} s, {a.strokes} strokes, "
                 f"{len(a.lumbar_events)} lumbar contacts" if a else "no samples")
        if result.store_failure:
            log.error("%s: session not stored: %s", address, result.store_failure)
        if self.bridge is not None:
            self.bridge.session_over(address)

    def _tell(self, address: str, **state: object) -> None:
        if self.bridge is not None:
            self.bridge.update(address, urgent=True, **state)

    def command(self, address: str, command: Command) -> None:
        """A command from Home Assistant (already checked by the bridge)."""
        plan = self.plans[address]
        if command.what == "routine":
            plan.routine = command.value
            self._tell(address, next_routine=plan.routine)
        elif command.what == "override":
            plan.override = command.value == "ON"
            self._tell(address, override_next=plan.override)
        elif command.what == "end":
            live = self.lives.get(address)
            if live is None or not live.end_session("stopped"):
                log.warning("%s: no session in progress to end", address)
        elif command.what == "comfort":
            self._comfort(address, int(command.value))
        elif command.what == "area":
            live = self.lives.get(address)
            why = live.switch(command.value) if live else "no session under way"
            if why:
                log.warning("%s: not switching to %s: %s", address, command.value, why)
            else:
                self._tell(address, comfort=None)  # the next area is scored afresh

    def _comfort(self, address: str, score: int) -> None:
        """A comfort score from Home Assistant: the part under way's, or the last part's of
        the session that just ended (a store that cannot take it now is said, not fatal)."""
        last, ended_at = self.last.get(address, (None, None))
        try:
            given = comfort.give(self.store, self.lives.get(address), last, ended_at, score,
                                 clock.now(), self._whose(address).alerts)
        except (StoreError, ConfigError) as exc:
            log.warning("%s: comfort %s not kept: %s", address, score, exc)
            return
        log.info("%s: comfort %s kept for the %s of session %s", address, given.score,
                 given.label, given.session_id)
        self._tell(address, comfort=given.score)
