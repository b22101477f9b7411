"""MQTT figures on loopback: lumbar alert to subscriber delay, draining a 10,000-event backlog.

Starts a real mosquitto (as the tests do). Run: ``make bench`` (or ``python -m bench.mqtt``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
import time
from pathlib import Path

import aiomqtt
import numpy as np

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


async def alert_arrivals(port: int, folder: Path) -> list[float]:
    """The moments lumbar alerts reached an independent subscriber."""
    settings = load(env={"ROLLER_MQTT_HOST": "127.0.0.1", "ROLLER_MQTT_PORT": str(port)})
    store = open_store(folder / "alerts.db")
    AIR.clear()
    roller = SimulatedRoller(scenario="stray", seconds=900, seed=12, speed=30)
    AIR[roller.address] = roller
    arrived: list[float] = []
    bridge = Bridge(settings.mqtt, store, settings.rules, settings.zone, owner=True,
                    client_id="roller-bench")
    bridge.watch(roller.address, PROFILES["roller"].identity(roller.address))
    stop = asyncio.Event()
    bridge_task = asyncio.create_task(bridge.run(stop))
    async with aiomqtt.Client("127.0.0.1", port) as sub:
        await sub.subscribe("roller/+/event", qos=1)
        listener = asyncio.create_task(alerts_arriving(sub, arrived))
        session = LiveSession(settings, store, "upper_back", roller.address,
                              scanner_backend=SimScanner, client_backend=SimClient,
                              source="sim")

        async def end() -> None:
            await roller.finished.wait()
            session.end("stopped")

        ender = asyncio.create_task(end())
        await session.run()
        await asyncio.sleep(0.5)
        stop.set()
        await bridge_task
        listener.cancel()
        ender.cancel()
    return arrived


async def drain_backlog(port: int, folder: Path, count: int) -> tuple[float, int]:
    settings = load(env={"ROLLER_MQTT_HOST": "127.0.0.1", "ROLLER_MQTT_PORT": str(port)})
    mqtt = dataclasses.replace(settings.mqtt, replay_per_s=0.0)  # no rate limit: raw speed
    store = open_store(folder / "backlog.db")
    with store.db.atomic():
        for i in range(count):
            store.outbox.enqueue(store.db, "lumbar_contact_alert", None,
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
    with tempfile.TemporaryDirectory() as tmp:
        broker = create(Path(tmp) / "broker")
        broker.start()
        try:
            with alerts_raised() as raised:
                arrived = asyncio.run(alert_arrivals(broker.port, Path(tmp)))
            delays = [1000 * (b - a) for a, b in zip(raised, arrived, strict=False)]
            print(f"lumbar alert to subscriber on loopback ({len(delays)} alerts): "
                  f"p50 {np.median(delays):.1f} ms, p99 {np.percentile(delays, 99):.1f} ms")
            spent, count = asyncio.run(drain_backlog(broker.port, Path(tmp), 10_000))
            print(f"drain {count} queued events after an outage (QoS 1, each marked sent on "
                  f"PUBACK, rate limit off): {spent:.1f} s ({count / spent:.0f} events/s)")
        finally:
            broker.stop()


if __name__ == "__main__":
    main()
