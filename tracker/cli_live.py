"""``roller`` commands that talk to a roller: scan, track, doctor."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from tracker.ble import BleError, Link, LinkEvents, Seen, scan
from tracker.body import ROUTINES
from tracker.calibration import Mounting
from tracker.cli import clean_errors, db_option, fail
from tracker.cli_sessions import enforce, store_of
from tracker.config import Settings
from tracker.devices import PROFILES, Profile
from tracker.live import LiveSession, NotCalibrated, Result, Status, resolve_device
from tracker.mqtt_settings import bridged
from tracker.report import print_summary
from tracker.schedule import Verdict
from tracker.simulation import SIM_ADDRESSES
from tracker.store import Store


def _sim_options(f: Any) -> Any:
    options = [
        click.option("--sim", is_flag=True, help="Use the simulated roller (through bleak)."),
        click.option("--profile", type=click.Choice(list(PROFILES)),
                     help="Device kind [default: as paired or calibrated; the simulator "
                     "presents itself as this one]."),
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
    if status.warning:
        parts.append(f"WARNING: {status.warning}")
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
          rate_hz: str, address: str | None, sim: bool, profile: str | None, scenario: str,
          seconds: float, seed: int, speed: float, sim_loss: float, sim_corrupt_every: int,
          sim_drop: tuple[tuple[float, float], ...]) -> None:
    """Stream from the roller, analyse live, store the session, print its summary."""
    with store_of(settings) as store:
        address = address or (SIM_ADDRESSES[profile or "roller"] if sim else store.paired())
        if not address:
            fail("no roller paired: run roller pair (or roller track --sim)")
        device, mounting = _device(store, address, profile, sim)
        verdict = enforce(store, settings, routine, datetime.now(UTC), override)
        tty = sys.stderr.isatty()

        def show(status: Status, extra: str = "") -> None:
            if tty:
                line = _status_line(status) + extra
                click.echo("\r" + line[:150].ljust(150), nl=False, err=True)

        async def main() -> Result:
            async with bridged(settings, store, address, routine) as bridge:

                def on_status(status: Status) -> None:
                    if bridge is None:
                        show(status)
                        return
                    show(status, f"  mqtt {bridge.describe()}")
                    bridge.follow(status)

                return await track_session(on_status)

        async def track_session(show: Any) -> Result:
            assert address is not None
            scanner = client = None
            clock = time.monotonic
            finished: asyncio.Event | None = None
            if sim:
                from tracker.simulation import sim_roller

                roller = sim_roller(routine, scenario, seconds, seed, speed,
                                    settings.body.height_cm, sim_loss, sim_corrupt_every,
                                    sim_drop, device.name)
                scanner, client = roller.scanner_backend, roller.client_backend
                finished, clock = roller.finished, roller.clock
            live = LiveSession(settings, store, routine, address, show, scanner, client,
                               source="sim" if sim else "live", verdict=verdict.value,
                               override=override and verdict is not Verdict.ALLOWED,
                               record=record, rate_hz=int(rate_hz), profile=device,
                               mounting=mounting, clock=clock)
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
    battery = result.info.battery_pct
    console.print(f"link: {stats.packets} packets, {stats.lost} lost ({stats.loss_pct:.1f} %), "
                  f"{stats.malformed} malformed, {stats.unknown} unknown, {result.gaps} "
                  f"outage(s); battery {'-' if battery is None else battery} %")
    for warning in result.warnings:
        console.print(f"[bold red]warning:[/] {warning}")


def _device(store: Store, address: str, profile: str | None, sim: bool,
            ) -> tuple[Profile, Mounting | None]:
    """The device's profile and calibration, or a clear line telling what to do first."""
    try:
        return resolve_device(store, address, profile)
    except NotCalibrated as exc:
        how = f" --sim --profile {profile}" if sim and profile else ""
        fail(f"{exc} (roller calibrate{how})")


def _scan(timeout: float, sim: bool, kinds: list[str]) -> list[Seen]:
    """Devices in range, or one clear line and exit 1; ``--sim`` puts ``kinds`` in the air."""

    async def main() -> list[Seen]:
        backend = None
        if sim:
            from tracker.simulation import sim_roller

            for kind in kinds:
                backend = sim_roller("upper_back", "clean", 10.0, 0, 1.0, 175.0,
                                     profile=kind).scanner_backend
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
sim_profile = click.option("--profile", type=click.Choice(list(PROFILES)),
                           help="With --sim: the simulated sensor of this kind only.")


@click.command("scan")
@scan_timeout
@scan_sim
@sim_profile
def scan_command(timeout: float, sim: bool, profile: str | None) -> None:
    """List sensors in range: address, signal strength, name, and what kind each is."""
    for roller in _scan(timeout, sim, [profile] if profile else list(PROFILES)):
        click.echo(f"{roller.address}  {roller.rssi:4d} dBm  {roller.name:<24} "
                   f"{roller.profile.label}")


@click.command()
@click.argument("address", required=False)
@scan_timeout
@scan_sim
@sim_profile
@click.pass_obj
def pair(settings: Settings, address: str | None, timeout: float, sim: bool,
         profile: str | None) -> None:
    """Choose the roller to use (the only one in range, or the one you pick).

    With --sim: the simulated roller, or the simulated sensor of --profile's kind.
    """
    found = _scan(timeout, sim, [profile or "roller"])
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
        store.pair(chosen.address, chosen.name, datetime.now(UTC), chosen.profile.name)
    click.echo(f"paired {chosen.name} {chosen.address} ({chosen.profile.label})")
    if not chosen.profile.axes_known:
        click.echo("next: roller calibrate, so the sensor's axes are known")


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
        calibrated = f"calibrated {d['calibrated_at'][:10]}" if d["calibrated_at"] else ""
        click.echo(f"{mark}  {d['address']}  {d['name'] or '':<16} {d['profile']:<10} "
                   f"{d['sessions']} sessions, last seen {d['last_seen'] or 'never'}"
                   f"{', ' + calibrated if calibrated else ''}")


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
        known = store.device(paired) if paired else None
    report(True, f"store {store.path}")
    kind = PROFILES[known[0] if known else "roller"]
    if paired and not kind.axes_known:
        report(known is not None and known[1] is not None,
               f"{paired} is a {kind.label}: " + ("calibrated" if known and known[1]
                                                  else "not calibrated: run roller calibrate"))

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
                    client_backend=backend[1], profile=kind)
        try:
            info = await link.probe()
        except BleError as exc:
            report(False, str(exc))
            return
        cfg = info.config
        about = (f"protocol {cfg.protocol_version}, {cfg.rate_hz} Hz, {cfg.diameter_cm:g} cm"
                 if cfg else f"{info.rate_hz} Hz")
        report(True, f"{target}: {info.model or info.profile} {info.firmware} {about}, "
                     f"battery {'-' if info.battery_pct is None else info.battery_pct} %")

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
              profile: str | None, scenario: str, seconds: float, seed: int, speed: float,
              sim_loss: float, sim_corrupt_every: int,
              sim_drop: tuple[tuple[float, float], ...]) -> None:
    """The live terminal dashboard: body map, lumbar alerts, schedule, history."""
    from dashboards.app import RollerApp, Source

    with store_of(settings) as store:
        target = address or (SIM_ADDRESSES[profile or "roller"] if sim else store.paired())
        if not target:
            fail("no roller paired: run roller pair (or roller dashboard --sim)")

        def sensor(sim_routine: str, **faults: Any) -> Source:
            assert target is not None
            if not sim:
                return Source(target, profile=profile)
            from tracker.simulation import sim_roller

            return Source.simulated(sim_roller(
                sim_routine, scenario, seconds, seed, speed, settings.body.height_cm,
                profile=profile or "roller", **faults), profile)

        def source() -> Source:
            return sensor(routine, loss=sim_loss, corrupt_every=sim_corrupt_every,
                          drops=sim_drop)

        def calibration() -> Source:
            return sensor("calibrate")

        RollerApp(settings, store, routine, source, override, redraw_hz=settings.redraw_hz,
                  calibration=calibration).run()


@click.command()
@click.argument("address", required=False)
@click.option("--distance", "distance_cm", type=click.FloatRange(20, 300),
              help="Roll exactly this far (cm) along a tape measure, to measure the roller's "
              "effective diameter.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(10, 600), default=60.0,
              show_default=True, help="Seconds to wait for the whole step.")
@click.option("--sim", is_flag=True, help="Calibrate a simulated sensor (through bleak).")
@click.option("--profile", type=click.Choice(list(PROFILES)),
              help="Device kind [default: as paired; the simulator presents itself as this].")
@click.option("--speed", type=click.FloatRange(0.1, 1000), default=1.0, show_default=True,
              help="Simulator: times real time.")
@click.option("--seed", type=int, default=0, show_default=True)
@db_option
@click.pass_obj
def calibrate(settings: Settings, address: str | None, distance_cm: float | None,
              timeout_s: float, sim: bool, profile: str | None, speed: float,
              seed: int) -> None:
    """Learn how the sensor sits in its roller: keep it still, roll it away and back."""
    from tracker.calibration import CalibrationError
    from tracker.calibration import calibrate as solve
    from tracker.calibration_run import prompt, record

    with store_of(settings) as store:
        address = address or (SIM_ADDRESSES[profile or "roller"] if sim else store.paired())
        if not address:
            fail("no sensor paired: run roller pair, or give its address")
        known = store.device(address)
        if profile is None and known is None and not sim:  # never seen: what is it?
            seen = [r for r in _scan(5.0, False, []) if r.address.lower() == address.lower()]
            profile = seen[0].profile.name if seen else None
        kind = PROFILES[profile or (known[0] if known else "roller")]

        async def main() -> tuple[Any, Any]:
            assert address is not None
            backends: tuple[Any, Any] = (None, None)
            clock = time.monotonic
            if sim:
                from tracker.simulation import sim_roller

                roller = sim_roller("calibrate", "clean", 20.0, seed, speed,
                                    settings.body.height_cm, profile=kind.name,
                                    distance_cm=distance_cm or 60.0)
                backends, clock = (roller.scanner_backend, roller.client_backend), roller.clock
            return await record(address, kind, lambda phase: click.echo(
                prompt(phase, distance_cm)), timeout_s=timeout_s, scanner_backend=backends[0],
                client_backend=backends[1], clock=clock)

        try:
            with clean_errors():
                samples, info = asyncio.run(main())
            result = solve(samples[:, 0], samples[:, 1:4], samples[:, 4:7], distance_cm)
        except (BleError, CalibrationError) as exc:
            fail(str(exc), 1)
        store.calibrate(address, info.name or kind.label, kind.name, result.mounting,
                        datetime.now(UTC))
    m = result.mounting
    axis = " ".join(f"{v:+.2f}" for v in m.axis)
    click.echo(f"calibrated {address} ({kind.label}): roller axis = sensor ({axis}), "
               f"{result.spread_deg:.1f} deg wobble, {result.tilt_deg:.1f} deg tilt, "
               f"turned {result.turn_deg:.0f} deg")
    if m.diameter_cm is not None:
        click.echo(f"effective diameter {m.diameter_cm:.1f} cm")
    click.echo("Mark the roller's left end (as you rolled it away): lie on it with that end "
               "on your left.")


COMMANDS = [track, scan_command, pair, devices, doctor, dashboard, calibrate]
