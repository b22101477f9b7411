"""``roller`` commands on sensors: scan, pair, devices, doctor, calibrate."""

from __future__ import annotations

import asyncio
import sys
import time
from typing import TYPE_CHECKING, Any

import click

from tracker.cli.errors import clean_errors, fail
from tracker.cli.mqtt import run_action
from tracker.cli.store import db_option, store_of
from tracker.cli.types import SEED, Finite
from tracker.config import Settings
from tracker.core import clock
from tracker.core.limits import visible
from tracker.devices import PROFILES
from tracker.devices.ble import BleError, Link, LinkEvents, Seen, scan
from tracker.live.radio import Radio, radio
from tracker.simulation import SIM_ADDRESSES, sim_roller

if TYPE_CHECKING:
    from tracker.store.database import Store


def _scan(settings: Settings, timeout: float, sim: bool, kinds: list[str]) -> list[Seen]:
    """Devices in range (through the proxies too, if any), or one clear line and exit 1;
    ``--sim`` puts ``kinds`` in the air."""

    async def main() -> list[Seen]:
        backends: tuple[Any, Any] = (None, None)
        if sim:
            for kind in kinds:
                roller = sim_roller("upper_back", "clean", 10.0, 0, 1.0, 175.0, profile=kind)
                backends = (roller.scanner_backend, roller.client_backend)
        async with radio(settings.proxies, backends) as air:
            return await scan(timeout, air.scanner_backend)

    try:
        found = asyncio.run(main())
    except BleError as exc:
        fail(str(exc), 1)
    if not found:
        fail("no roller found: is it switched on and within a few metres?", 1)
    return found


LISTEN_S = 3.0  # roller doctor listens to the roller's stream this long
LOSS_OK_PCT = 0.5  # more notifications lost than this is worth saying
CONGESTED = ("the proxy's network link drops them: put it on Ethernet, nearer the access "
             "point, or give it fewer rollers (docs/gateway.md, a proxy for roller)")

scan_timeout = click.option("--timeout", type=Finite(0.5, 60), default=5.0,
                            show_default=True, help="Seconds to listen.")
scan_sim = click.option("--sim", is_flag=True, help="The simulated roller's air instead.")
sim_profile = click.option("--profile", type=click.Choice(list(PROFILES)),
                           help="With --sim: the simulated sensor of this kind only.")


@click.command("scan")
@scan_timeout
@scan_sim
@sim_profile
@click.pass_obj
def scan_command(settings: Settings, timeout: float, sim: bool, profile: str | None) -> None:
    """List sensors in range: address, signal strength, name, and what kind each is."""
    for roller in _scan(settings, timeout, sim, [profile] if profile else list(PROFILES)):
        click.echo(f"{roller.address}  {roller.rssi:4d} dBm  {visible(roller.name):<24} "
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
    found = _scan(settings, timeout, sim, [profile or "roller"])
    if address:
        match = [r for r in found if r.address.lower() == address.lower()]
        if not match:
            fail(f"roller {address} not found: is it switched on and within a few metres?", 1)
        chosen = match[0]
    elif len(found) == 1:
        chosen = found[0]
    elif sys.stdin.isatty():
        for number, roller in enumerate(found, 1):
            click.echo(f"{number}. {visible(roller.name)} {roller.address} ({roller.rssi} dBm)")
        index = click.prompt("Which roller", type=click.IntRange(1, len(found)))
        chosen = found[index - 1]
    else:
        fail(f"{len(found)} rollers in range: give the address (see roller scan)")
    with store_of(settings) as store:
        store.devices.pair(chosen.address, chosen.name, clock.now(), chosen.profile.name)
        _name_the_first_person(store)
    click.echo(f"paired {visible(chosen.name)} {chosen.address} ({chosen.profile.label})")
    if not chosen.profile.axes_known:
        click.echo("next: roller calibrate, so the sensor's axes are known")


def _name_the_first_person(store: Store) -> None:
    """At first run (a store whose only person is still the placeholder ``me``) ask who
    rolls, where someone can answer: Home Assistant shows them by that name. Elsewhere say
    how to choose it later; until then Home Assistant shows a readable default."""
    from tracker.core.people import FIRST_PERSON, PersonError, name_key

    people = store.people.all()
    if len(people) != 1 or name_key(people[0].name) != name_key(FIRST_PERSON):
        return
    if not sys.stdin.isatty():
        click.echo(f"name yourself for Home Assistant: roller people rename {FIRST_PERSON} "
                   "NAME", err=True)
        return
    from tracker.mqtt.discovery import readable_default

    while True:
        name = click.prompt("Your name, as Home Assistant shows you",
                            default=readable_default())
        try:
            store.people.rename(FIRST_PERSON, name)
            return
        except PersonError as exc:
            click.echo(str(exc), err=True)


@click.group(invoke_without_command=True)
@click.pass_context
def devices(ctx: click.Context) -> None:
    """Rollers this computer knows; ``devices forget ADDRESS`` unpairs one."""
    if ctx.invoked_subcommand:
        return
    with store_of(ctx.obj) as store:
        known = store.devices.all()
    if not known:
        click.echo("no rollers yet: roller pair")
    for d in known:
        mark = "paired" if d["paired"] else "      "
        calibrated = f"calibrated {d['calibrated_at'][:10]}" if d["calibrated_at"] else ""
        name = visible(d["label"] or d["name"] or "")
        click.echo(f"{mark}  {visible(d['address'])}  {name:<16} {d['profile']:<10} "
                   f"{d['sessions']} sessions, last seen {d['last_seen'] or 'never'}"
                   f"{', ' + calibrated if calibrated else ''}")


@devices.command()
@click.argument("address")
@click.pass_obj
def forget(settings: Settings, address: str) -> None:
    """Unpair a roller (its sessions stay) and clear its Home Assistant entities."""
    with store_of(settings) as store:
        store.devices.forget(address)
    click.echo(f"forgot {address}")
    if settings.mqtt.enabled:
        click.echo(run_action(settings, "purge", address))


@devices.command()
@click.argument("address")
@click.argument("name")
@click.pass_obj
def rename(settings: Settings, address: str, name: str) -> None:
    """Name a roller as its owner calls it: its device's name in Home Assistant (by default
    the name it advertises and the end of its address)."""
    from tracker.mqtt.messages import CommandError, check_roller_name

    try:
        name = check_roller_name(name)
    except CommandError as exc:
        fail(str(exc))
    with store_of(settings) as store:
        store.devices.rename(address, name)
    click.echo(f"renamed {address} to {name}" + (
        " (the gateway tells Home Assistant within a second or so)"
        if settings.mqtt.enabled else ""), err=True)


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
        paired = store.devices.paired()
        known = store.devices.known(paired) if paired else None
    report(True, f"store {store.path}")
    kind = PROFILES[known[0] if known else "roller"]
    if paired and not kind.axes_known:
        report(known is not None and known[1] is not None,
               f"{paired} is a {kind.label}: " + ("calibrated" if known and known[1]
                                                  else "not calibrated: run roller calibrate"))

    async def check() -> None:
        backends: tuple[Any, Any] = (None, None)
        target = paired
        if sim:
            roller = sim_roller("upper_back", "clean", 10.0, 0, 1.0, 175.0)
            backends, target = (roller.scanner_backend, roller.client_backend), roller.address
        try:
            async with radio(settings.proxies, backends) as air:
                for proxy in air.proxies.proxies if air.proxies else ():
                    report(not proxy.problem, f"proxy {proxy.label}: {proxy.says()}")
                await probe(target, air)
        except BleError as exc:
            report(False, str(exc))

    async def probe(target: str | None, air: Radio) -> None:
        found = await scan(3.0, air.scanner_backend)
        where = "Bluetooth adapter usable" if air.proxies is None else "Bluetooth usable"
        report(True, f"{where}; {len(found)} roller(s) in range")
        if target is None:
            report(False, "no roller paired: run roller pair")
            return
        if target not in {r.address for r in found}:
            report(False, f"paired roller {target} not in range: switch it on, bring it closer")
            return
        link = Link(target, LinkEvents(lambda *_: None), scanner_backend=air.scanner_backend,
                    client_backend=air.client_backend, profile=kind)
        info = await link.probe(listen_s=LISTEN_S)
        cfg = info.config
        about = (f"protocol {cfg.protocol_version}, {cfg.rate_hz} Hz, {cfg.diameter_cm:g} cm"
                 if cfg else f"{info.rate_hz} Hz in force")
        report(True, f"{target}: {info.model or info.profile} {info.firmware} {about}, "
                     f"battery {'-' if info.battery_pct is None else info.battery_pct} %")
        stats = link.decoder.stats
        via = f" through proxy {info.via}" if info.via else ""
        report(stats.loss_pct <= LOSS_OK_PCT,
               f"link{via}: {stats.packets} notifications in {LISTEN_S:g} s, {stats.lost} lost "
               f"({stats.loss_pct:.1f} %)" + (f": {CONGESTED}" if info.via and
                                               stats.loss_pct > LOSS_OK_PCT else ""))
        for advice in link.advice():
            report(False, advice)

    asyncio.run(check())
    if not ok:
        sys.exit(1)


@click.command()
@click.argument("address", required=False)
@click.option("--distance", "distance_cm", type=Finite(20, 300),
              help="Roll exactly this far (cm) along a tape measure, to measure the roller's "
              "effective diameter.")
@click.option("--timeout", "timeout_s", type=Finite(10, 600), default=60.0,
              show_default=True, help="Seconds to wait for the whole step.")
@click.option("--sim", is_flag=True, help="Calibrate a simulated sensor (through bleak).")
@click.option("--profile", type=click.Choice(list(PROFILES)),
              help="Device kind [default: as paired; the simulator presents itself as this].")
@click.option("--speed", type=Finite(0.1, 1000), default=1.0, show_default=True,
              help="Simulator: times real time.")
@click.option("--seed", type=SEED, default=0, show_default=True)
@db_option
@click.pass_obj
def calibrate(settings: Settings, address: str | None, distance_cm: float | None,
              timeout_s: float, sim: bool, profile: str | None, speed: float,
              seed: int) -> None:
    """Learn how the sensor sits in its roller: keep it still, roll it away and back."""
    from tracker.core.calibration import calibrate as solve
    from tracker.core.guidance import MARK_IT
    from tracker.live.calibration_step import prompt, record

    with store_of(settings) as store:
        address = address or (SIM_ADDRESSES[profile or "roller"] if sim else store.devices.paired())
        if not address:
            fail("no sensor paired: run roller pair, or give its address")
        known = store.devices.known(address)
        if profile is None and known is None and not sim:  # never seen: what is it?
            seen = [r for r in _scan(settings, 5.0, False, [])
                    if r.address.lower() == address.lower()]
            profile = seen[0].profile.name if seen else None
        kind = PROFILES[profile or (known[0] if known else "roller")]

        async def main() -> tuple[Any, Any]:
            assert address is not None
            backends: tuple[Any, Any] = (None, None)
            clock = time.monotonic
            if sim:
                roller = sim_roller("calibrate", "clean", 20.0, seed, speed,
                                    settings.body.height_cm, profile=kind.name,
                                    distance_cm=distance_cm or 60.0)
                backends, clock = (roller.scanner_backend, roller.client_backend), roller.clock
            async with radio(settings.proxies, backends) as air:
                return await record(address, kind, lambda phase: click.echo(
                    prompt(phase, distance_cm)), timeout_s=timeout_s,
                    scanner_backend=air.scanner_backend, client_backend=air.client_backend,
                    clock=clock)

        with clean_errors():  # Bluetooth, or samples no calibration can be made from: 1
            samples, info = asyncio.run(main())
            result = solve(samples[:, 0], samples[:, 1:4], samples[:, 4:7], distance_cm)
        store.devices.calibrate(address, info.name or kind.label, kind.name, result.mounting,
                                clock.now())
    m = result.mounting
    axis = " ".join(f"{v:+.2f}" for v in m.axis)
    click.echo(f"calibrated {address} ({kind.label}): roller axis = sensor ({axis}), "
               f"{result.spread_deg:.1f} deg wobble, {result.tilt_deg:.1f} deg tilt, "
               f"turned {result.turn_deg:.0f} deg")
    if m.diameter_cm is not None:
        click.echo(f"effective diameter {m.diameter_cm:.1f} cm")
    click.echo(MARK_IT)
