"""MQTT figures on loopback: lumbar alert to subscriber delay, draining a 10,000-event backlog.

The alerts are those of a simulated session with strays into the lumbar band, twice on one
roller: its first session, when Home Assistant hears of it for the first time (its events
wait until Home Assistant listens, SETTLE_S: the first second's alerts are held on purpose),
and its next, which is every session after (p99 within 50 ms, the first second's alerts
included). Starts a real mosquitto (as the tests do). Run: ``make bench`` (or ``python -m
bench.mqtt``; ``--quick`` for a few seconds, as ``make test`` runs it).
"""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
import time
from contextlib import closing
from pathlib import Path

import aiomqtt
import numpy as np

from bench import options
from bench.alert_clock import alerts_arriving, alerts_raised
from firmware_sim.bleak_backend import AIR, SimClient, SimScanner
from firmware_sim.peripheral import SimulatedRoller
from tests.broker import create
from tracker.config import load
from tracker.core import clock
from tracker.devices import PROFILES
from tracker.live.session import LiveSession
from tracker.mqtt.bridge import Bridge
from tracker.store.opening import open_store

#: Within a session's first second: the alerts Home Assistant's settle used to hold (s).
FIRST_S = 1.0
#: The fastest replay the settings take: the rate limit as good as off.
UNLIMITED_PER_S = 10**6


async def alert_arrivals(port: int, store_path: Path, seconds: float) -> tuple[list[float],
                                                                                float]:
    """The moments lumbar alerts reached an independent subscriber, and the session's start."""
    settings = load(env={"ROLLER_MQTT_HOST": "127.0.0.1", "ROLLER_MQTT_PORT": str(port)})
    AIR.clear()
    roller = SimulatedRoller(scenario="stray", seconds=seconds, seed=12, speed=30)
    AIR[roller.address] = roller
    arrived: list[float] = []
    with closing(open_store(store_path)) as store:
        bridge = Bridge(settings.mqtt, store, settings.rules, settings.zone, owner=True,
                        client_id="roller-bench")
        bridge.watch(roller.address, PROFILES["roller"].identity(roller.address))
        stop = asyncio.Event()
        bridge_task = asyncio.create_task(bridge.run(stop))
        async with aiomqtt.Client("127.0.0.1", port) as sub:
            await sub.subscribe(bridge.topics.events, qos=1)
            listener = asyncio.create_task(alerts_arriving(sub, arrived))
            session = LiveSession(settings, store, "upper_back", roller.address,
                                  scanner_backend=SimScanner, client_backend=SimClient,
                                  source="sim")

            async def end() -> None:
                await roller.finished.wait()
                session.end("stopped")

            ender = asyncio.create_task(end())
            started = time.perf_counter()
            await session.run()
            await asyncio.sleep(0.5)
            stop.set()
            await bridge_task
            listener.cancel()
            ender.cancel()
    return arrived, started


def alert_delays(port: int, store_path: Path, seconds: float, which: str) -> None:
    """One session's alerts: raised by the estimator to received by a subscriber."""
    with alerts_raised() as raised:
        arrived, started = asyncio.run(alert_arrivals(port, store_path, seconds))
    delays = [1000 * (b - a) for a, b in zip(raised, arrived, strict=False)]
    first = [d for a, d in zip(raised, delays, strict=False) if a - started < FIRST_S]
    print(f"lumbar alert to subscriber on loopback, {which} ({len(delays)} alerts, "
          f"{len(first)} in its first second): p50 {np.median(delays):.1f} ms, "
          f"p99 {np.percentile(delays, 99):.1f} ms; the first second's "
          f"{', '.join(f'{d:.0f}' for d in first) or 'none'} ms")


async def drain_backlog(port: int, folder: Path, count: int) -> tuple[float, int]:
    settings = load(env={"ROLLER_MQTT_HOST": "127.0.0.1", "ROLLER_MQTT_PORT": str(port)})
    mqtt = dataclasses.replace(settings.mqtt, replay_per_s=UNLIMITED_PER_S)
    with closing(open_store(folder / "backlog.db")) as store:
        with store.db.database.atomic():
            for i in range(count):
                store.outbox.enqueue(store.db.database, "lumbar_contact_alert", None,
                                     clock.now().isoformat(), "C0:FF:EE:00:00:01",
                                     s_cm=float(i))
        bridge = Bridge(mqtt, store, settings.rules, settings.zone, owner=True,
                        client_id="roller-bench")
        stop = asyncio.Event()
        task = asyncio.create_task(bridge.run(stop))
        begin = time.perf_counter()
        while store.outbox.count():
            await asyncio.sleep(0.05)
        spent = time.perf_counter() - begin
        stop.set()
        await task
    return spent, count


def main() -> None:
    parser = options.parser(__doc__)
    args = parser.parse_args()
    seconds, backlog = (60.0, 1000) if args.quick else (900.0, 10_000)
    with tempfile.TemporaryDirectory() as tmp:
        broker = create(Path(tmp) / "broker")
        broker.start()
        try:
            store_path = Path(tmp) / "alerts.db"
            alert_delays(broker.port, store_path, seconds, "a roller's first session")
            alert_delays(broker.port, store_path, seconds, "its next session")
            spent, count = asyncio.run(drain_backlog(broker.port, Path(tmp), backlog))
            print(f"drain {count} queued events after an outage (QoS 1, each marked sent on "
                  f"PUBACK, rate limit at its highest, {UNLIMITED_PER_S:.0e}/s): {spent:.1f} s "
                  f"({count / spent:.0f} events/s)")
        finally:
            broker.stop()


if __name__ == "__main__":
    main()
