"""The roller dashboard: one asyncio loop for bleak, the estimator, the store and Textual.

The BLE ingest and the estimator run as one async worker; a timer samples the latest status
at ``redraw_hz`` and redraws, so there is never one message per IMU sample.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.driver import Driver
from textual.message import Message
from textual.screen import Screen
from textual.worker import WorkerCancelled, WorkerFailed

from dashboards.calibrate import CalibrationScreen
from dashboards.devices import DevicesScreen
from dashboards.history import HistoryScreen
from dashboards.live import LiveScreen
from dashboards.modals import ChoiceScreen, RefusalScreen, SafetyScreen, SummaryScreen
from dashboards.program import ProgramScreen
from dashboards.schedule import ScheduleScreen
from dashboards.weeks import WeeksScreen
from tracker.config import Settings, programs
from tracker.core import clock
from tracker.core.body import ROUTINES
from tracker.core.comfort import SCALE
from tracker.core.guidance import PLACEMENT
from tracker.core.limits import visible
from tracker.core.program_run import ProgramRun, StepOutcome
from tracker.core.programs import Program, ProgramError
from tracker.core.schedule import Verdict, week_status
from tracker.core.status import Status
from tracker.live import comfort, start
from tracker.live.admission import check_start
from tracker.live.past import rolled
from tracker.live.program import Follow
from tracker.live.session import LiveSession, NotCalibrated, Result
from tracker.live.source import Source
from tracker.store.database import Store
from tracker.store.errors import StoreError

if TYPE_CHECKING:
    from tracker.mqtt.bridge import Bridge


def acknowledgement_path() -> Path:
    return platformdirs.user_config_path("roller") / "safety-acknowledged"


#: The scale's ends and middle in words, beside their numbers.
COMFORT_WORDS = {0: "none", 5: "moderate", 10: "the worst"}


class RollerApp(App[None]):
    CSS_PATH = "roller.tcss"
    TITLE = "roller"
    BINDINGS = [
        Binding("l", "switch_screen('live')", "Live"),
        Binding("s", "switch_screen('schedule')", "Schedule"),
        Binding("w", "switch_screen('weeks')", "Weeks"),
        Binding("h", "switch_screen('history')", "History"),
        Binding("p", "switch_screen('program')", "Program"),
        Binding("d", "switch_screen('devices')", "Devices"),
        Binding("n", "new_session", "New session"),
        Binding("a", "area", "Area"),
        Binding("right_square_bracket", "next_step", "Next step", show=False),
        Binding("o", "override_step", "Roll glutes anyway", show=False),
        Binding("f", "comfort", "Comfort"),
        Binding("c", "calibrate", "Calibrate"),
        Binding("q", "quit", "Quit"),
    ]

    class AlertChanged(Message):
        def __init__(self, on: bool) -> None:
            super().__init__()
            self.on = on

    def __init__(self, settings: Settings, store: Store, routine: str,
                 source: Callable[[], Source], override: bool = False,
                 redraw_hz: float = 12.0, acknowledged: Path | None = None,
                 rate_hz: int = 100, autostart: bool = True,
                 clock: Callable[[], datetime] = clock.now,
                 calibration: Callable[[], Source] | None = None,
                 ask_who: bool = False, program: Program | None = None) -> None:
        super().__init__()
        self.program = program  # followed by each session, until another is chosen
        self.ask_who_first = ask_who  # nobody was named: ask who is rolling
        self.calibration = calibration  # the sensor to calibrate (the simulator's, with --sim)
        self.settings, self.store, self.routine = settings, store, routine
        self.source, self.override, self.redraw_hz = source, override, redraw_hz
        self.rate_hz, self.autostart, self.clock = rate_hz, autostart, clock
        self.acknowledged = acknowledged or acknowledgement_path()
        self.latest: Status | None = None
        self.lumbar = False
        self.result: Result | None = None
        self.ended_at: datetime | None = None  # the last session's end: scored just after
        self.session: LiveSession | None = None
        self.bridge: Bridge | None = None
        self._current: Source | None = None
        self._warned: str | None = None

    def on_mount(self) -> None:
        self.install_screen(LiveScreen(self.settings.body, self.routine, self.redraw_hz,
                                       self.settings.rules), "live")
        self.install_screen(ScheduleScreen(self.store, lambda: self.settings, self.clock),
                            "schedule")
        self.install_screen(WeeksScreen(self.store, lambda: self.settings, self.clock), "weeks")
        self.install_screen(HistoryScreen(self.store, lambda: self.settings), "history")
        self.install_screen(ProgramScreen(self._program_progress), "program")
        self.install_screen(DevicesScreen(self.store, self._scanner, self._battery), "devices")
        self.push_screen("live")
        self.set_interval(1 / self.redraw_hz, self.redraw)
        self.call_after_refresh(self._show_glutes_due)
        if self.acknowledged.exists():
            self._begin()
        else:  # safety first, then who is rolling, then the session
            self.push_screen(SafetyScreen(), self._acknowledge_then_begin)
        loop = asyncio.get_running_loop()
        for name in ("SIGTERM", "SIGHUP"):  # a service manager or a closed terminal
            if hasattr(signal, name):
                loop.add_signal_handler(getattr(signal, name), self.call_later,
                                        self.action_quit)

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver, or on Linux one that lets go of a terminal that is gone
        (:mod:`dashboards.terminal`): a closed terminal must not keep the process."""
        driver = super().get_driver_class()
        if driver.__name__ == "LinuxDriver":
            from dashboards.terminal import HangupDriver

            return HangupDriver
        return driver

    def hang_up(self) -> None:
        """The terminal went away: the session under way is stored and the app ends, as on
        SIGHUP."""
        self.call_later(self.action_quit)

    async def action_quit(self) -> None:
        """Quit; a session under way is ended and stored first, as when it is stopped."""
        if self.session is not None and self.result is None:
            self.session.end("stopped")
            for worker in list(self.workers):
                if worker.name == "session":
                    with contextlib.suppress(WorkerCancelled, WorkerFailed):
                        await worker.wait()
        self.exit()

    def _begin(self) -> None:
        """Once the safety notes are acknowledged: who is rolling, then their session."""
        if self.ask_who_first and len(self.store.people.all()) > 1:
            self.ask_who(then_start=self.autostart)
        elif self.autostart:
            self.start_or_refuse()

    def _acknowledged(self) -> bool:
        """Whether the safety notes have been acknowledged; said when not (the card is up)."""
        if self.acknowledged.exists():
            return True
        self.notify("read the safety notes first", severity="warning")
        return False

    def _acknowledge(self, _: bool | None) -> None:
        self.acknowledged.parent.mkdir(parents=True, exist_ok=True)
        self.acknowledged.write_text(f"{self.clock().isoformat()}\n")

    def _acknowledge_then_begin(self, answer: bool | None) -> None:
        self._acknowledge(answer)
        self._begin()

    def action_area(self) -> None:
        """Roll another area next: the part under way ends; lift the roller to the next."""
        if self.session is None or self.result is not None:
            self.notify("no session under way: n starts one")
            return
        session = self.session
        areas = [(r, r.replace("_", " ")) for r in ROUTINES]

        def switch(area: str, override: bool = False) -> None:
            why = session.switch(area, override=override)
            if why is None:
                self.notify(PLACEMENT[area], title=f"Lift the roller to your "
                            f"{area.replace('_', ' ')}", timeout=10)
            elif not override and session.recorder is not None:  # the schedule's refusal
                _, next_day, _ = check_start(self.store, self.settings, area, self.clock(),
                                             session.recorder.session_id)
                self.push_screen(RefusalScreen(why, f"{next_day:%A %d %B}"),
                                 lambda yes: switch(area, True) if yes else None)

        def chosen(area: str | None) -> None:
            if area:
                switch(area)

        current = session.recorder.estimator.routine if session.recorder else self.routine
        self.push_screen(ChoiceScreen("Roll which area next?", areas, current), chosen)

    def action_comfort(self) -> None:
        """How the area felt, 0 (none) to 10 (the worst): the part under way's score, or,
        just after a session, its last part's."""
        live = self.session if self.result is None else None

        def chosen(value: str | None) -> None:
            if value is None:
                return
            try:
                given = comfort.give(self.store, live, self.result, self.ended_at, int(value),
                                     self.clock(), self.settings.alerts)
            except StoreError as exc:
                self.notify(str(exc), severity="warning", markup=False)
                return
            self.notify(f"comfort {given.score} of 10 kept for the {given.label}")

        scores = [(str(n), f"{n}  {COMFORT_WORDS.get(n, '')}".rstrip())
                  for n in range(SCALE[0], SCALE[1] + 1)]
        self.push_screen(ChoiceScreen("How did this area feel? 0 none, 10 the worst", scores),
                         chosen)

    def _following(self) -> Follow | None:
        """The program the session under way follows; None, said why, when there is none to
        act on (no session, no program, the program done)."""
        if self.session is None or self.result is not None:
            self.notify("no session under way: n starts one")
            return None
        follow = self.session.follow
        if follow is None:
            self.notify("no program followed in this session: Follow a program (in the "
                        "palette) for the next one")
            return None
        if follow.run.finished:
            self.notify("the program is done: every step is behind you")
            return None
        return follow

    def action_next_step(self) -> None:
        """The program's next step now (the current one cut short, or a refused one skipped)."""
        if (follow := self._following()) is None:
            return
        state = self.latest.state if self.latest else None
        if state is None:
            self.notify("the program's steps begin once the roller rolls")
            return
        follow.advance(state)

    def action_override_step(self) -> None:
        if (follow := self._following()) is not None:
            follow.override()
            self.notify("glutes today after all: the schedule's override is recorded")

    def choose_program(self) -> None:
        """Follow a program from the next session on."""
        with contextlib.suppress(ProgramError):
            known = programs()
            choices = [(name, f"{p.title}: {p.about}") for name, p in known.items()]

            def chosen(name: str | None) -> None:
                if name:
                    self.program = known[name]
                    self.notify(visible(f"{self.program.title}: from the next session (n)"),
                                markup=False)

            self.push_screen(ChoiceScreen("Follow which program?", choices), chosen)
            return
        self.notify("a program file is malformed: roller programs says which", severity="error")

    def _program_progress(self) -> tuple[Program | None, list[StepOutcome]]:
        """The program followed and each step's outcome so far (not begun: none reached)."""
        follow = self.session.follow if self.session else None
        if follow is not None:
            return follow.run.program, follow.run.outcomes()
        if self.program is None:
            return None, []
        return self.program, ProgramRun(self.program).outcomes()

    def _person_id(self) -> int | None:
        return self.settings.person.id if self.settings.person else None

    def ask_who(self, then_start: bool = False) -> None:
        """Who is rolling: their height shapes the body map and the lumbar band, and the
        session, schedule and history are theirs."""
        if self.session is not None and self.result is None:
            self.notify("stop the session first (Stop the session, in the palette)")
            return

        def chosen(person_id: int | None) -> None:  # None: cancelled
            if person_id is not None:
                before = self.settings
                self.settings = self.settings.for_person(self.store.people.by_id(person_id))
                if self.program == before.program:  # theirs (or none), not one chosen
                    self.program = self.settings.program
                if (screen := self._live_screen()) is not None:
                    screen.use_person(self.settings.body, self.settings.rules)
                self.sub_title = visible(self.settings.person.name) if self.settings.person \
                    else ""
                self.call_after_refresh(self._show_glutes_due)
            if then_start:
                self.start_or_refuse()

        people = [(str(p.id), visible(p.name)) for p in self.store.people.all()]
        current = str(self._person_id())
        self.push_screen(ChoiceScreen("Who is rolling?", people, current),
                         lambda key: chosen(int(key) if key else None))

    def get_system_commands(self, screen: Screen[Any]) -> Any:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Live", "The session as it happens", self.action_live)
        yield SystemCommand("Schedule", "This week and the glute quota",
                            lambda: self.switch_screen("schedule"))
        yield SystemCommand("Weeks", "The last weeks: heat map and trends",
                            lambda: self.switch_screen("weeks"))
        yield SystemCommand("History", "Past sessions", lambda: self.switch_screen("history"))
        yield SystemCommand("Safety notes", "When not to foam-roll your back",
                            lambda: self.push_screen(SafetyScreen(), self._acknowledge))
        yield SystemCommand("Devices", "Scan, pair, forget rollers; use the simulator",
                            lambda: self.switch_screen("devices"))
        yield SystemCommand("New session", "Start rolling again", self.action_new_session)
        yield SystemCommand("Who is rolling", "Choose the person the sessions are for",
                            self.ask_who)
        yield SystemCommand("Follow a program", "Areas and stretches in a guided order",
                            self.choose_program)
        yield SystemCommand("Program", "The program's steps and how far you got",
                            lambda: self.switch_screen("program"))
        yield SystemCommand("Switch area", "Roll another area next (a)", self.action_area)
        yield SystemCommand("Calibrate", "Learn how the sensor sits in its roller",
                            self.action_calibrate)
        yield SystemCommand("Stop the session", "End and store it", self.action_stop)

    def action_calibrate(self) -> None:
        """The guided calibration step, for the sensor the sessions use."""
        if self.session is not None and self.result is None:
            self.notify("stop the session first (Stop the session, in the palette)")
            return
        if self.calibration is None:
            self.notify("no sensor to calibrate: pair one on the Devices screen", severity="error")
            return
        self.push_screen(CalibrationScreen(self.store, self.calibration()))

    def action_live(self) -> None:
        self.switch_screen("live")

    def action_stop(self) -> None:
        if self.session is None or self.result is not None:
            self.notify("no session under way: n starts one")
            return
        self.session.end("stopped")

    def action_new_session(self) -> None:
        if not self._under_way() and self._acknowledged():
            self.result = None
            self.switch_screen("live")
            self.start_or_refuse()

    def _under_way(self) -> bool:
        """Whether a session is starting or running; said when it is (one at a time)."""
        if any(w.name == "session" and not w.is_finished for w in self.workers):
            self.notify("a session is under way: stop it first (Stop the session, in the "
                        "palette)")
            return True
        return False

    def use_simulator(self) -> None:
        """The next session streams from the simulated roller."""
        from tracker.simulation import sim_roller

        def simulated() -> Source:
            return sim_roller(self.routine, "stray", 300.0, 0, 1.0, self.settings.body.height_cm)

        self.source = simulated

    def _scanner(self) -> Any:
        """The scanner backend the current source uses (None: bleak's own)."""
        return self._current.scanner_backend if self._current else None

    def _battery(self, address: str) -> int | None:
        status = self.latest
        if status and self._current and self._current.address == address:
            return status.battery_pct
        return None

    # -- the session -------------------------------------------------------------------

    def start_or_refuse(self) -> None:
        """Plan a session for whoever is rolling: refused by the schedule, the person may
        roll anyway or not; never before the safety notes are acknowledged."""
        if self._under_way() or not self._acknowledged():
            return
        source = self.source()

        def plan(override: bool) -> start.Plan:
            return start.plan(self.store, self.settings, source.address, self.routine,
                              self.clock(), source.profile, self.program, override)

        try:
            planned = plan(self.override)
        except NotCalibrated as exc:
            self.notify(f"{exc} (press c)", severity="error", timeout=20, markup=False)
            return
        self.routine = planned.routine
        if not planned.refused:
            self.run_session(planned, source)
            return

        def decided(override: bool | None) -> None:
            if override:  # planned again: a program's glute steps go ahead too
                self.override = True
                self.run_session(plan(True), source)
            else:
                start.refuse(self.store, planned, self.clock())
                self.switch_screen("schedule")

        self.push_screen(RefusalScreen(planned.why, f"{planned.next_allowed:%A %d %B}"), decided)

    def run_session(self, planned: start.Plan, source: Source) -> None:
        self.run_worker(self._track(planned, source), exclusive=True, name="session")

    async def _track(self, planned: start.Plan, source: Source) -> None:
        self._current = source

        def started(live: LiveSession, bridge: Bridge | None) -> None:
            self.session, self.bridge = live, bridge

        self.result = await start.run(self.store, planned, source, "dashboard",
                                      self._on_status, started, rate_hz=self.rate_hz)
        self.ended_at = self.clock()
        self.bridge = None
        self.redraw()
        self._show_glutes_due()
        if self.result and self.result.analysis and self.is_running:
            self.push_screen(SummaryScreen(self.result.analysis, self.settings.rules))

    def _on_status(self, status: Status, _: Bridge | None) -> None:
        """From the session worker: keep the latest for the redraw timer; an alert raised or
        cleared is a message at once, not at the next redraw."""
        self.latest = status
        lumbar = bool(status.state and status.state.lumbar)
        if lumbar != self.lumbar:
            self.lumbar = lumbar
            self.post_message(self.AlertChanged(lumbar))
        if status.warning and status.warning != self._warned:
            self._warned = status.warning  # once: the calibration no longer fits
            self.notify(status.warning, title="Calibration", severity="warning", timeout=30,
                        markup=False)

    def _live_screen(self) -> LiveScreen | None:
        """The live screen, when it can be drawn on (not before its first compose, nor while
        the app shuts down)."""
        if not self.is_running:
            return None
        try:
            screen = self.get_screen("live")
        except KeyError:
            return None
        return screen if isinstance(screen, LiveScreen) and screen.is_mounted else None

    def _show_glutes_due(self) -> None:
        """Shade the glutes green on the body map while a glute session is due and allowed."""
        if (screen := self._live_screen()) is None:
            return
        now = self.clock()
        week = week_status(rolled(self.store, self.settings, now, 1), now, self.settings.zone,
                           self.settings.rules)
        screen.body_map.glutes_due = week.due > 0 and week.verdict is Verdict.ALLOWED

    def redraw(self) -> None:
        status = self.latest
        screen = self._live_screen()
        if status is None or screen is None:
            return
        screen.show(status, self.bridge.describe() if self.bridge else "off")
        if self.lumbar and status.state:  # the band flashes (3 Hz of session time) meanwhile
            screen.body_map.flash = int(status.state.t_s * 6) % 2 == 0

    def on_roller_app_alert_changed(self, message: AlertChanged) -> None:
        if (screen := self._live_screen()) is not None:
            screen.alert(message.on)
        if message.on:
            self.bell()
