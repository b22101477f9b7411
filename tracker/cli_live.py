"""``roller`` commands that talk to a roller: scan, track, doctor."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from tracker.ble import BleError, Link, LinkEvents, Seen, scan
from tracker.body import ROUTINES
from tracker.cli import clean_errors, db_option, fail
from tracker.cli_sessions import enforce, store_of
from tracker.config import Settings
from tracker.live import LiveSession, Result, Status
from tracker.mqtt_settings import bridged
from tracker.report import print_summary
from tracker.schedule import Verdict
from tracker.simulation import SIM_ADDRESS


def _sim_options(f: Any) -> Any:
    options = [
        click.option("--sim", is_flag=True, help="Use the simulated roller (through bleak)."),
        click.option("--scenario", type=click.Choice(["clean", "stray", "lumbar"]),
                     default="stray", show_default=True, help="Simulator: what happens."),
        click.option("--seconds", type=click.FloatRange(5), default=120.0, show_default=True,
                     help="Simulator: session length."),
        click.option("--seed", type=int, default=0, show_default=True),
        click.option("--speed", type=click.FloatRange(0.1, 1000), default=1.0,
                     show_default=True, help="Simulator: times real time."),
        click.option("--sim-loss", type=click.FloatRange(0, 0.9), default=0.0, hidden=True),
        click.option("--sim-corrupt-every", type=click.IntRange(0), default=0, hidden=True),
        click.option("--sim-drop", type=(float, float), multiple=True, hidden=True,
                     help="Simulator: drop the link at T for S seconds."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _status_line(status: Status) -> str:
    s = status.state
    link = status.link + (f" #{status.attempt}" if status.link == "reconnecting" else "")
    parts = [f"{link:<14}", f"loss {status.loss_pct:4.1f}%"]
    if status.battery_pct is not None:
        parts.append(f"battery {status.battery_pct}%")
    if s:
        parts += [f"{s.region:<10}", f"{s.s_cm:5.1f} cm", f"{s.strokes} strokes",
                  f"{s.cadence_cpm:3.0f} cpm"]
        if s.lumbar:
            parts.append("LOWER BACK: roll back up, or switch to glutes")
    return "  ".join(parts)


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
@_sim_options
@db_option
@click.pass_obj
def track(settings: Settings, routine: str, as_json: bool, record: Path | None, override: bool,
          rate_hz: str, address: str | None, sim: bool, scenario: str, seconds: float, seed: int,
          speed: float, sim_loss: float, sim_corrupt_every: int,
          sim_drop: tuple[tuple[float, float], ...]) -> None:
    """Stream from the roller, analyse live, store the session, print its summary."""
    with store_of(settings) as store:
        address = address or (None if sim else store.paired())
        if not sim and not address:
            fail("no roller paired: run roller pair (or roller track --sim)")
        verdict = enforce(store, settings, routine, datetime.now(UTC), override)
        tty = sys.stderr.isatty()

        def show(status: Status, extra: str = "") -> None:
            if tty:
                line = _status_line(status) + extra
                click.echo("\r" + line[:150].ljust(150), nl=False, err=True)

        async def main() -> Result:
            async with bridged(settings, store, address or (SIM_ADDRESS if sim else None),
                               routine) as bridge:

                def on_status(status: Status) -> None:
                    if bridge is None:
                        show(status)
                        return
                    show(status, f"  mqtt {bridge.describe()}")
                    bridge.follow(status)

                return await track_session(on_status)

        async def track_session(show: Any) -> Result:
            scanner = client = None
            target = address or ""
            finished: asyncio.Event | None = None
            if sim:
                from tracker.simulation import sim_roller

                roller = sim_roller(routine, scenario, seconds, seed, speed,
                                    settings.body.height_cm, sim_loss, sim_corrupt_every,
                                    sim_drop)
                target = address or roller.address
                scanner, client = roller.scanner_backend, roller.client_backend
                finished = roller.finished
            live = LiveSession(settings, store, routine, target, show, scanner, client,
                               source="sim" if sim else "live", verdict=verdict.value,
                               override=override and verdict is not Verdict.ALLOWED,
                               record=record, rate_hz=int(rate_hz))
            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGINT, live.end, "stopped")
            loop.add_signal_handler(signal.SIGTERM, live.end, "stopped")
            if finished is not None:
                async def end_with_simulation() -> None:
                    await finished.wait()
                    live.end("stopped")
                ender = loop.create_task(end_with_simulation())
            try:
                return await live.run()
            finally:
                if finished is not None:
                    ender.cancel()

        try:
            with clean_errors():
                result = asyncio.run(main())
        except BleError as exc:
            fail(str(exc), 1)
    if tty:
        click.echo(err=True)
    if as_json:
        click.echo(json.dumps(result.to_json(), separators=(",", ":")))
        return
    if result.analysis is None:
        fail(f"no samples arrived from the roller ({result.end_reason})", 1)
    console = Console()
    print_summary(result.analysis, title=f"session {result.session_id} ({result.end_reason})",
                  console=console)
    stats = result.link
    console.print(f"link: {stats.packets} packets, {stats.lost} lost ({stats.loss_pct:.1f} %), "
                  f"{stats.malformed} malformed, {result.gaps} outage(s); "
                  f"battery {result.info.battery_pct} %")


def _scan(timeout: float, sim: bool) -> list[Seen]:
    """Rollers in range, or one clear line and exit 1."""

    async def main() -> list[Seen]:
        backend = None
        if sim:
            from tracker.simulation import sim_roller

            backend = sim_roller("upper_back", "clean", 10.0, 0, 1.0, 175.0).scanner_backend
        return await scan(timeout, backend)

    try:
        found = asyncio.run(main())
    except BleError as exc:
        fail(str(exc), 1)
    if not found:
        fail("no roller found: is it switched on and within a few metres?", 1)
    return found


scan_timeout = click.option("--timeout", type=click.FloatRange(0.5, 60), default=5.0,
                            show_default=True, help="Seconds to listen.")
scan_sim = click.option("--sim", is_flag=True, help="The simulated roller's air instead.")


@click.command("scan")
@scan_timeout
@scan_sim
def scan_command(timeout: float, sim: bool) -> None:
    """List rollers in range: address, signal strength, name."""
    for roller in _scan(timeout, sim):
        click.echo(f"{roller.address}  {roller.rssi:4d} dBm  {roller.name}")


@click.command()
@click.argument("address", required=False)
@scan_timeout
@scan_sim
@click.pass_obj
def pair(settings: Settings, address: str | None, timeout: float, sim: bool) -> None:
    """Choose the roller to use (the only one in range, or the one you pick)."""
    found = _scan(timeout, sim)
    if address:
        match = [r for r in found if r.address.lower() == address.lower()]
        if not match:
            fail(f"roller {address} not found: is it switched on and within a few metres?", 1)
        chosen = match[0]
    elif len(found) == 1:
        chosen = found[0]
    elif sys.stdin.isatty():
        for number, roller in enumerate(found, 1):
            click.echo(f"{number}. {roller.name} {roller.address} ({roller.rssi} dBm)")
        index = click.prompt("Which roller", type=click.IntRange(1, len(found)))
        chosen = found[index - 1]
    else:
        fail(f"{len(found)} rollers in range: give the address (see roller scan)")
    with store_of(settings) as store:
        store.pair(chosen.address, chosen.name, datetime.now(UTC))
    click.echo(f"paired {chosen.name} {chosen.address}")


@click.group(invoke_without_command=True)
@click.pass_context
def devices(ctx: click.Context) -> None:
    """Rollers this computer knows; ``devices forget ADDRESS`` unpairs one."""
    if ctx.invoked_subcommand:
        return
    with store_of(ctx.obj) as store:
        known = store.devices()
    if not known:
        click.echo("no rollers yet: roller pair")
    for d in known:
        mark = "paired" if d["paired"] else "      "
        click.echo(f"{mark}  {d['address']}  {d['name'] or '':<16} "
                   f"{d['sessions']} sessions, last seen {d['last_seen'] or 'never'}")


@devices.command()
@click.argument("address")
@click.pass_obj
def forget(settings: Settings, address: str) -> None:
    """Unpair a roller (its sessions stay) and clear its Home Assistant entities."""
    with store_of(settings) as store:
        store.forget(address)
    click.echo(f"forgot {address}")
    if settings.mqtt.enabled:
        from tracker.cli_mqtt import run_action

        click.echo(run_action(settings, "purge", address))


@click.command()
@click.option("--sim", is_flag=True, help="Check the simulated roller's path instead.")
@click.pass_obj
def doctor(settings: Settings, sim: bool) -> None:
    """Check Bluetooth, permissions, the paired roller and its protocol; say what is wrong."""
    ok = True

    def report(good: bool, text: str) -> None:
        nonlocal ok
        ok &= good
        click.echo(f"[{'ok' if good else '!!'}] {text}")

    with store_of(settings) as store:
        paired = store.paired()
    report(True, f"store {store.path}")

    async def check() -> None:
        backend: tuple[Any, Any] = (None, None)
        target = paired
        if sim:
            from tracker.simulation import sim_roller

            roller = sim_roller("upper_back", "clean", 10.0, 0, 1.0, 175.0)
            backend, target = (roller.scanner_backend, roller.client_backend), roller.address
        try:
            found = await scan(3.0, backend[0])
        except BleError as exc:
            report(False, str(exc))
            return
        report(True, f"Bluetooth adapter usable; {len(found)} roller(s) in range")
        if target is None:
            report(False, "no roller paired: run roller pair")
            return
        if target not in {r.address for r in found}:
            report(False, f"paired roller {target} not in range: switch it on, bring it closer")
            return
        link = Link(target, LinkEvents(lambda *_: None), scanner_backend=backend[0],
                    client_backend=backend[1])
        try:
            info = await link.probe()
        except BleError as exc:
            report(False, str(exc))
            return
        cfg = info.config
        assert cfg is not None
        report(True, f"{target}: {info.model} firmware {info.firmware}, protocol "
                     f"{cfg.protocol_version}, {cfg.rate_hz} Hz, {cfg.diameter_cm:g} cm, "
                     f"battery {info.battery_pct} %")

    asyncio.run(check())
    if not ok:
        sys.exit(1)


@click.command()
@click.option("--routine", type=click.Choice(ROUTINES), default="upper_back", show_default=True)
@click.option("--override", is_flag=True, help="Roll glutes although the schedule says not now.")
@click.option("--address", help="Roller to use [default: the paired one].")
@_sim_options
@db_option
@click.pass_obj
def dashboard(settings: Settings, routine: str, override: bool, address: str | None, sim: bool,
              scenario: str, seconds: float, seed: int, speed: float, sim_loss: float,
              sim_corrupt_every: int, sim_drop: tuple[tuple[float, float], ...]) -> None:
    """The live terminal dashboard: body map, lumbar alerts, schedule, history."""
    from dashboards.app import RollerApp, Source

    with store_of(settings) as store:
        target = address or store.paired()
        if not sim and not target:
            fail("no roller paired: run roller pair (or roller dashboard --sim)")

        def source() -> Source:
            if not sim:
                assert target is not None
                return Source(target)
            from tracker.simulation import sim_roller

            roller = sim_roller(routine, scenario, seconds, seed, speed,
                                settings.body.height_cm, sim_loss, sim_corrupt_every, sim_drop)
            return Source(roller.address, roller.scanner_backend, roller.client_backend,
                          roller.finished)

        RollerApp(settings, store, routine, source, override,
                  redraw_hz=settings.redraw_hz).run()


COMMANDS = [track, scan_command, pair, devices, doctor, dashboard]
