"""One way to start a live session: a plan made in one place and run in one place.

``roller track``, the dashboard and the gateway all start sessions, and each used to wire one
from scratch; that is how the dashboard came to record behind its safety notes. The order
is the plan's, and every caller keeps it:

1. the safety notes acknowledged, where a screen shows them: nothing is planned, recorded
   or analysed before (the dashboard asks first; the terminal says them as it starts);
2. whose session it is: the person's settings (their body, zone and schedule);
3. the roller: its profile and calibration (:class:`NotCalibrated` says what to do first);
4. the first area: the routine asked for, or a program's first area, its glute steps left
   for later on a day the schedule refuses glutes;
5. the schedule's verdict on that area (:func:`plan`), which the person may override (planned
   again with ``override``); a refusal they accept is said on the roller's event topic
   (:func:`refuse`);
6. the session run with the MQTT bridge beside it (:func:`run`), ended by the person, a
   signal, Home Assistant's end button, or the simulated session running out.

The gateway plans each roller once and asks the schedule again each time rolling starts
(:func:`admit`), since a session there begins whenever someone rolls.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from tracker.config import Settings
from tracker.core.calibration import Mounting
from tracker.core.programs import Program
from tracker.core.schedule import Verdict
from tracker.core.status import Status
from tracker.devices import Profile
from tracker.live.admission import Admission, check_start, glutes_refusal
from tracker.live.bridged import bridged, obey
from tracker.live.radio import radio
from tracker.live.session import LiveSession, Result, resolve_device
from tracker.live.source import Source
from tracker.store.database import Store

if TYPE_CHECKING:
    from tracker.mqtt.bridge import Bridge

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """A session about to start: whose, on which roller, which area first, and what the
    schedule says of it."""

    settings: Settings  # the person's
    address: str
    profile: Profile
    mounting: Mounting | None
    routine: str  # the first area
    verdict: Verdict
    next_allowed: date  # the next day glutes are allowed
    why: str  # why the schedule refuses the area ("" when it does not)
    override: bool = False  # the person rolls it although the schedule says not now
    program: Program | None = None
    glutes_refusal: str | None = None  # why a program's glute steps wait today

    @property
    def refused(self) -> bool:
        """The schedule refuses this session and the person has not overridden it."""
        return self.verdict is not Verdict.ALLOWED and not self.override

    @property
    def admission(self) -> Admission:
        """What the session starts as (the verdict, and an override only of a refusal)."""
        return Admission.of(self.routine, self.verdict, self.override)


def plan(store: Store, settings: Settings, address: str, routine: str, now: datetime,
         profile: str | None = None, program: Program | None = None,
         override: bool = False) -> Plan:
    """Steps 3-5 for ``settings.person`` (steps 1 and 2 are the caller's): the roller's
    profile and calibration, the first area and the schedule's verdict on it at ``now``."""
    device, mounting = resolve_device(store, address, profile)
    routine, refusal = program_start(store, settings, program, routine, now, override)
    verdict, allowed, why = check_start(store, settings, routine, now)
    return Plan(settings, address, device, mounting, routine, verdict, allowed, why,
                override, program, refusal)


def program_start(store: Store, settings: Settings, program: Program | None, routine: str,
                  now: datetime, override: bool) -> tuple[str, str | None]:
    """The area a session following ``program`` starts on (``routine`` without one, or for a
    program of stretches only) and why its glute steps wait today (None: they need not)."""
    refusal = None if program is None or override else glutes_refusal(store, settings, now)
    if program is not None:
        routine = program.first_area(skip_glutes=refusal is not None) or routine
    return routine, refusal


def watching(settings: Settings, address: str, profile: Profile, mounting: Mounting | None,
             routine: str) -> Plan:
    """The gateway's plan for a roller it watches: its sessions start whenever rolling
    starts, and the schedule is asked then (:func:`admit`), not now."""
    return Plan(settings, address, profile, mounting, routine, Verdict.ALLOWED,
                date.min, "")


def refuse(store: Store, planned: Plan, now: datetime) -> None:
    """The person accepts the schedule's refusal: said on the roller's event topic (queued
    in the store, sent by whoever owns the bridge)."""
    store.outbox.record_refusal(planned.routine, planned.verdict.value,
                                planned.next_allowed.isoformat(), now, planned.address)


def admit(store: Store, settings: Settings, routine: str, override: bool, now: datetime,
          address: str) -> Admission | None:
    """The gateway's step 5, asked each time rolling starts: the session it is, or None when
    the schedule refuses it (the refusal said at once)."""
    verdict, allowed, why = check_start(store, settings, routine, now)
    if verdict is not Verdict.ALLOWED and not override:
        store.outbox.record_refusal(routine, verdict.value, allowed.isoformat(), now, address)
        log.warning("%s: %s session refused (%s); next allowed %s", address, routine, why,
                    allowed)
        return None
    return Admission.of(routine, verdict, override)


def session(store: Store, planned: Plan, source: Source,
            on_status: Callable[[Status], None], **options: Any) -> LiveSession:
    """The live session a plan starts, streaming from ``source``. ``options`` are the
    caller's own: a recording file, the sample rate, the gateway's repeated sessions."""
    admission = planned.admission
    return LiveSession(
        planned.settings, store, planned.routine, planned.address, on_status,
        source.scanner_backend, source.client_backend, source=source.kind,
        verdict=admission.verdict, override=admission.override, profile=planned.profile,
        mounting=planned.mounting, clock=source.clock, speed=source.speed,
        program=planned.program,
        glutes_refusal=planned.glutes_refusal, **options)


async def run(store: Store, planned: Plan, source: Source, role: str,
              on_status: Callable[[Status, Bridge | None], None],
              started: Callable[[LiveSession, Bridge | None], None] = lambda live, bridge: None,
              **options: Any) -> Result:
    """Step 6: run a planned session to its end with the MQTT bridge beside it (``role``
    names this process to other programs). Every status goes to ``on_status`` and to the
    bridge; ``started`` is told the session and the bridge once both exist (for the
    caller's keys and signals). A simulated source ends the session when it runs out. With
    ``[bluetooth] proxies``, the roller is reached through them as well (:mod:`.radio`)."""
    async with radio(planned.settings.proxies,
                     (source.scanner_backend, source.client_backend)) as air, \
            bridged(planned.settings, store, planned.address, planned.profile,
                    role) as bridge:
        source = air.carry(source)

        def status(now: Status) -> None:
            on_status(now, bridge)
            if bridge is not None:
                bridge.follow(planned.address, now)

        live = session(store, planned, source, status, **options)
        obey(bridge, live)
        started(live, bridge)
        ender = None
        if source.finished is not None:
            finished = source.finished

            async def end_with_simulation() -> None:
                await finished.wait()
                live.end("stopped")

            ender = asyncio.get_running_loop().create_task(end_with_simulation())
        try:
            return await live.run()
        finally:
            if ender is not None:
                ender.cancel()
