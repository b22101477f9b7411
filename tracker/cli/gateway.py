"""``roller gateway``: the always-on process beside the mat (docs/gateway.md)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import click

from tracker import __version__
from tracker.cli import logs
from tracker.cli.errors import clean_errors, fail
from tracker.cli.store import db_option, store_of, writable
from tracker.cli.track import STOP_SIGNALS, hold
from tracker.cli.types import SEED, Finite
from tracker.config import Settings
from tracker.core.body import ROUTINES
from tracker.core.limits import visible
from tracker.live.gateway import Gateway
from tracker.live.holds import hold_bridge
from tracker.live.radio import radio
from tracker.live.session import NotCalibrated
from tracker.live.source import Source
from tracker.simulation import sim_household
from tracker.store.database import Store

log = logging.getLogger(__name__)


@click.command()
@click.option("--routine", type=click.Choice(ROUTINES), default="upper_back",
              show_default=True, help="Each roller's routine until Home Assistant picks one.")
@click.option("--sim", "sim_count", type=click.IntRange(1, 16),
              help="Run N simulated rollers that wake, are rolled and sleep at random.")
@click.option("--speed", type=Finite(0.1, 1000), default=1.0, show_default=True,
              help="Simulator: times real time.")
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option("--sim-asleep", type=(Finite(0, 86400), Finite(0, 86400)), hidden=True,
              help="Simulator: seconds asleep between sessions (least, most).")
@click.option("--sim-rolling", type=(Finite(5, 86400), Finite(5, 86400)), hidden=True,
              help="Simulator: seconds of rolling a session (least, most).")
@click.option("--sim-sessions", type=click.IntRange(0, 10**6), default=0, hidden=True,
              help="Simulator: sessions each roller rolls (0: for ever).")
@db_option
@click.pass_obj
def gateway(settings: Settings, routine: str, sim_count: int | None, speed: float, seed: int,
            sim_asleep: tuple[float, float] | None, sim_rolling: tuple[float, float] | None,
            sim_sessions: int) -> None:
    """Watch every paired roller, track each session by itself, keep Home Assistant current.

    Runs in the foreground and logs to stderr; SIGTERM or Ctrl-C ends it, each session in
    progress stored as stopped.
    """
    if not settings.log_level:  # a service says what it does unless told to be quiet
        logs.at_least("info")
    with clean_errors():
        settings.mqtt.check()
    with store_of(settings) as store:
        writable(store)
        life = None
        if sim_count:
            habits: dict[str, Any] = {"sessions": sim_sessions, "routine": routine}
            habits |= {"asleep_s": sim_asleep} if sim_asleep else {}
            habits |= {"rolling_s": sim_rolling} if sim_rolling else {}
            sources, life = sim_household(sim_count, seed, speed, settings.body.height_cm,
                                          **habits)
        else:
            sources = [Source(address) for address in store.devices.paired_all()]
        if not sources:
            fail("no roller paired: run roller pair (once for each roller), or try "
                 "roller gateway --sim 3")
        for source in sources:
            hold(store, source.address, "gateway")
        log.info("roller %s gateway: broker %s; store %s; watching %s", __version__,
                 settings.mqtt.summary(), store.path.absolute(), rollers(store, sources))

        async def main() -> int:
            local = (sources[0].scanner_backend, sources[0].client_backend)
            async with radio(settings.proxies, local) as air:
                return await serve([air.carry(source) for source in sources])

        async def serve(sources: list[Source]) -> int:
            bridge = None
            if settings.mqtt.enabled:
                from tracker.mqtt.bridge import Bridge

                bridge = Bridge(settings.mqtt, store, settings.configured.rules,
                                settings.configured.zone, alerts=settings.configured.alerts,
                                owner=hold_bridge(store, "gateway"),
                                client_id=settings.mqtt.client_id_for("gateway"))
            try:
                watching = Gateway(settings, store, sources, routine, bridge)
            except NotCalibrated as exc:
                fail(f"{exc} (roller calibrate --address ADDRESS)")
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in STOP_SIGNALS:
                loop.add_signal_handler(signum, stop.set)
            signed_off = asyncio.Event()  # after the sessions' ends are queued
            publishing = loop.create_task(bridge.run(signed_off)) if bridge else None
            living = loop.create_task(life()) if life else None
            results = await watching.run(stop)
            signed_off.set()
            if living is not None:
                living.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await living
            if publishing is not None:
                try:
                    await asyncio.wait_for(publishing, 15)
                except TimeoutError:  # what is not sent stays in the outbox for next time
                    log.warning("the broker took too long: events wait in the outbox")
            return len(results)

        with clean_errors():
            sessions = asyncio.run(main())
    log.info("gateway stopped after %d session(s)", sessions)


def rollers(store: Store, sources: list[Source]) -> str:
    """The rollers watched, for the start-up line: ``2 rollers: ADDRESS (name), ...``."""
    named = []
    for source in sources:
        identity = store.devices.identity(source.address)
        named.append(f"{source.address} ({visible(identity.name)})" if identity and identity.name
                     else source.address)
    return f"{len(sources)} roller{'s' if len(sources) != 1 else ''}: {', '.join(named)}"
