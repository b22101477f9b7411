"""``roller track`` and ``roller dashboard``: a live session, in the terminal or the dashboard."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

import click
from rich.console import Console

from tracker.cli.comfort import ask
from tracker.cli.errors import clean_errors, fail
from tracker.cli.frame import LiveFrame, TerminalOut
from tracker.cli.logs import logged_to
from tracker.cli.store import db_option, person_option, refused, store_of, whose, writable
from tracker.cli.types import SEED, Finite
from tracker.config import Settings, programs
from tracker.core import clock
from tracker.core.body import ROUTINES
from tracker.core.formats.roller_imu import RecordingWriter
from tracker.core.guidance import placement
from tracker.core.pictures.tables import summary_table
from tracker.core.program_run import ProgramView
from tracker.core.programs import Program, describe
from tracker.core.schedule import Rules
from tracker.core.status import Status
from tracker.devices import PROFILES
from tracker.live import start
from tracker.live.holds import Held, hold_roller
from tracker.live.program import Follow
from tracker.live.session import LiveSession, NotCalibrated, Result
from tracker.live.source import Source
from tracker.simulation import SIM_ADDRESSES, following, sim_roller
from tracker.store.database import Store

if TYPE_CHECKING:
    from tracker.mqtt.bridge import Bridge

#: Every way a person or the system asks a session to end: each ends it stopped and stored.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                     if hasattr(signal, name))


def _sim_options(f: Any) -> Any:
    options = [
        click.option("--sim", is_flag=True, help="Use the simulated roller (through bleak)."),
        click.option("--profile", type=click.Choice(list(PROFILES)),
                     help="Device kind [default: as paired or calibrated; the simulator "
                     "presents itself as this one]."),
        click.option("--scenario", type=click.Choice(["clean", "stray", "lumbar"]),
                     default="stray", show_default=True, help="Simulator: what happens."),
        click.option("--seconds", type=Finite(5, 4 * 3600), default=120.0, show_default=True,
                     help="Simulator: session length."),
        click.option("--seed", type=SEED, default=0, show_default=True),
        click.option("--speed", type=Finite(0.1, 1000), default=1.0,
                     show_default=True, help="Simulator: times real time."),
        click.option("--sim-loss", type=Finite(0, 0.9), default=0.0, hidden=True),
        click.option("--sim-corrupt-every", type=click.IntRange(0, 10**6), default=0, hidden=True),
        click.option("--sim-drop", type=(Finite(0, 86400), Finite(0.1, 86400)), multiple=True,
                     hidden=True, help="Simulator: drop the link at T for S seconds."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _said(text: str) -> None:
    """A line for whoever reads stderr (no terminal: no live frame to keep clear of)."""
    click.echo(text, err=True)


def _program(settings: Settings, name: str | None) -> Program | None:
    """The program named (built in, or the user's own beside their configuration); none
    named, the person's own (their prescription's, while it runs)."""
    if name is None:
        return settings.program
    with clean_errors():
        known = programs()
    if name not in known:
        fail(f"no program {name!r} (roller programs lists them: {', '.join(sorted(known))})")
    return known[name]


class _ProgramVoice:
    """A program in the terminal: each step said once as it begins; a glute step the
    schedule refuses today skipped, saying why (nobody is at the keyboard to choose).
    ``say`` puts a line on stderr: above the live frame, on a terminal."""

    def __init__(self, rules: Rules, say: Callable[[str], None]) -> None:
        self.rules, self.say = rules, say
        self._said: int | None = None

    def hear(self, status: Status, follow: Follow | None) -> None:
        view = status.program
        if view is None:
            return
        if view.index != self._said:
            self._said = view.index
            self.say(self._step(view))
        if view.refusal is not None and follow is not None and status.state is not None:
            self.say(f"skipping {view.step.title if view.step else 'glutes'}: "
                     f"{view.refusal} (--override rolls it anyway)")
            follow.advance(status.state)

    def _step(self, view: ProgramView) -> str:
        if view.step is None:
            return f"{view.program}: done"
        pace = (f" Roll slowly, {self.rules.stroke_min_s:g}-{self.rules.stroke_max_s:g} s a "
                "stroke." if view.step.kind == "area" else "")
        after = f" Next: {view.next_step.title}." if view.next_step else ""
        return f"step {view.index + 1} of {view.count}: {describe(view.step)}{pace}{after}"


@click.command("track")
@click.option("--routine", type=click.Choice(ROUTINES), default="upper_back", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.option("--record", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the stream as a roller-imu v1 recording.")
@click.option("--override", is_flag=True, help="Roll glutes although the schedule says not now.")
@click.option("--rate", "rate_hz", type=click.Choice(["25", "50", "100", "200"]), default="100",
              show_default=True, help="Sample rate to ask the roller for (Hz).")
@click.option("--address", help="Roller to use [default: the paired one; the simulator "
              "with --sim].")
@click.option("--program", "program_name", metavar="NAME", help="Follow a program: its steps "
              "set the areas, in order (roller programs lists them).")
@person_option
@_sim_options
@db_option
@click.pass_obj
def track(settings: Settings, routine: str, as_json: bool, record: Path | None, override: bool,
          rate_hz: str, address: str | None, program_name: str | None, person: str | None,
          sim: bool,
          profile: str | None, scenario: str, seconds: float, seed: int, speed: float,
          sim_loss: float, sim_corrupt_every: int,
          sim_drop: tuple[tuple[float, float], ...]) -> None:
    """Stream from the roller, analyse live, store the session, print its summary."""
    with clean_errors():
        settings.mqtt.check()
        writer = RecordingWriter(record) if record else None
    with store_of(settings) as store:
        writable(store)
        address = address or (SIM_ADDRESSES[profile or "roller"] if sim else store.devices.paired())
        if not address:
            fail("no roller paired: run roller pair (or roller track --sim)")
        settings = whose(store, settings, person, address)
        planned = _plan(store, settings, address, routine, profile, sim,
                        _program(settings, program_name), override)
        hold(store, address, "track")
        if planned.refused:
            now = clock.now()
            start.refuse(store, planned, now)
            refused(store, settings, planned.why, planned.next_allowed, now,
                    (address, planned.profile))
        terminal = TerminalOut(sys.stderr) if sys.stderr.isatty() else None
        frame = LiveFrame(terminal) if terminal is not None else None
        if frame is not None:
            frame.say(f"{placement(planned.routine, first=True)}\n")
        voice = _ProgramVoice(settings.rules, frame.say if frame is not None else _said)
        lives: list[LiveSession] = []  # the session, once made
        told: list[int] = []  # the signals that ended it

        def end(signum: int) -> None:
            told.append(signum)
            lives[0].end("stopped")

        def show(status: Status, bridge: Bridge | None) -> None:
            voice.hear(status, lives[0].follow if lives else None)
            if frame is not None:
                frame.draw(status, bridge.describe() if bridge else None)

        def started(live: LiveSession, _: Bridge | None) -> None:
            lives.append(live)
            loop = asyncio.get_running_loop()
            for signum in STOP_SIGNALS:
                loop.add_signal_handler(signum, end, signum)

        async def main() -> Result:
            source = Source(address, profile=profile)
            if sim:
                program = planned.program
                parts = following(program, planned.glutes_refusal is not None) if program \
                    else []
                source = sim_roller(planned.routine, scenario, seconds, seed, speed,
                                    settings.body.height_cm, sim_loss, sim_corrupt_every,
                                    sim_drop, planned.profile.name, parts=parts)
            return await start.run(store, planned, source, "track", show, started,
                                   record=writer, rate_hz=int(rate_hz))

        result = None
        try:
            with clean_errors(), logged_to(terminal):
                result = asyncio.run(main())
        finally:
            if frame is not None and terminal is not None:  # its last frame is no longer true
                frame.clear()
                terminal.close()
            if writer is not None:  # with the areas switched, so the file splits the same
                writer.close(result.analysis.switches if result and result.analysis else ())
    if as_json:
        click.echo(json.dumps(result.to_json(), separators=(",", ":")))
        if result.store_failure:
            fail(f"not stored: {result.store_failure}", 1)
        return
    if result.analysis is None:
        fail("; ".join([f"no samples arrived from the roller ({result.end_reason})",
                        *result.warnings]), 1)
    # On the terminal, never waited for: told to end (SIGTERM, SIGHUP) while it reads
    # nothing, the command ends with its session stored, not blocked on the summary.
    console = Console(file=cast("IO[str]", TerminalOut(sys.stdout))) \
        if terminal is not None and sys.stdout.isatty() else Console()
    console.print(summary_table(result.analysis, rules=settings.rules,
                                title=f"session {result.session_id} ({result.end_reason})"))
    stats = result.link
    battery = result.info.battery_pct
    console.print(f"link: {result.info.rate_hz} Hz in force; {stats.packets} packets, "
                  f"{stats.lost} lost ({stats.loss_pct:.1f} %), {stats.malformed} malformed, "
                  f"{stats.torn} torn, {stats.unknown} unknown, {result.gaps} outage(s), "
                  f"{stats.restarts} device restart(s); "
                  f"battery {'-' if battery is None else battery} %")
    for warning in result.warnings:
        console.print(f"[bold red]warning:[/] {warning}")
    if result.store_failure:
        fail(f"not stored: {result.store_failure}", 1)
    # A person at the keyboard (who ended it with ctrl+c, or let it end) is asked how each
    # area felt; a session told to end by its terminal's loss or a service manager is not.
    if result.session_id is not None and set(told) <= {signal.SIGINT} \
            and sys.stdin.isatty() and sys.stdout.isatty() and sys.stderr.isatty():
        with store_of(settings) as store, clean_errors():
            ask(store, settings, result.session_id,
                [p.routine for p in result.analysis.areas])


def hold(store: Store, address: str, role: str) -> None:
    """This process holds the roller, or one line says who does (the gateway, another
    session) and the command ends."""
    try:
        hold_roller(store, address, role)
    except Held as exc:
        fail(str(exc), 1)


def _plan(store: Store, settings: Settings, address: str, routine: str,
          profile: str | None, sim: bool, program: Program | None,
          override: bool) -> start.Plan:
    """The session's plan, or a clear line telling what to do first (calibrate)."""
    try:
        return start.plan(store, settings, address, routine, clock.now(), profile, program,
                          override)
    except NotCalibrated as exc:
        how = f" --sim --profile {profile}" if sim and profile else ""
        fail(f"{exc} (roller calibrate{how})")


@click.command()
@click.option("--routine", type=click.Choice(ROUTINES), default="upper_back", show_default=True)
@click.option("--override", is_flag=True, help="Roll glutes although the schedule says not now.")
@click.option("--address", help="Roller to use [default: the paired one].")
@click.option("--program", "program_name", metavar="NAME", help="Follow a program.")
@person_option
@_sim_options
@db_option
@click.pass_obj
def dashboard(settings: Settings, routine: str, override: bool, address: str | None,
              program_name: str | None, person: str | None, sim: bool, profile: str | None,
              scenario: str, seconds: float, seed: int, speed: float, sim_loss: float,
              sim_corrupt_every: int,
              sim_drop: tuple[tuple[float, float], ...]) -> None:
    """The live terminal dashboard: body map, lumbar alerts, schedule, history."""
    from dashboards.app import RollerApp

    with clean_errors():
        settings.mqtt.check()
    with store_of(settings) as store:
        writable(store)
        target = address or (SIM_ADDRESSES[profile or "roller"] if sim else store.devices.paired())
        if not target:
            fail("no roller paired: run roller pair (or roller dashboard --sim)")
        settings = whose(store, settings, person, target)
        program = _program(settings, program_name)
        hold(store, target, "dashboard")

        def sensor(sim_routine: str, **faults: Any) -> Source:
            assert target is not None
            if not sim:
                return Source(target, profile=profile)
            return sim_roller(sim_routine, scenario, seconds, seed, speed,
                              settings.body.height_cm, profile=profile or "roller", **faults)

        def source() -> Source:
            return sensor(routine, loss=sim_loss, corrupt_every=sim_corrupt_every,
                          drops=sim_drop)

        def calibration() -> Source:
            return sensor("calibrate")

        RollerApp(settings, store, routine, source, override, redraw_hz=settings.redraw_hz,
                  calibration=calibration, ask_who=person is None,
                  program=program).run()
