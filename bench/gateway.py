"""``roller gateway`` figures: CPU share of one core for 1, 4 and 7 simulated rollers at 100 Hz
in real time (headless, the simulated rollers' own work included), and the lumbar alert to
subscriber delay with 7 rollers rolling at once; then the README's household
(``roller gateway --sim 3 --speed 20``, the shipped session timings) for a few uses of each
roller: sessions stored per simulated use (1.00: each use is one session) and packets
dropped per hour of the rollers' time.

Starts a real mosquitto (as the tests do). Run: ``make bench`` (or ``python -m bench.gateway``).
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from pathlib import Path

import aiomqtt
import numpy as np

from bench import options
from bench.alert_clock import alerts_arriving, alerts_raised
from tests.broker import create
from tracker.config import load
from tracker.live.gateway import Gateway
from tracker.mqtt.bridge import Bridge
from tracker.simulation import sim_household
from tracker.store.opening import open_store


async def run(count: int, seconds: float, port: int, folder: Path,
              scenarios: tuple[str, ...]) -> tuple[float, list[float], int]:
    """CPU share of one core, alert arrival times, sessions stored."""
    settings = load(env={"ROLLER_MQTT_HOST": "127.0.0.1", "ROLLER_MQTT_PORT": str(port)})
    store = open_store(folder / f"gateway{count}.db")
    sources, life = sim_household(count, seed=count, speed=1.0, height_cm=175.0,
                                  asleep_s=(0.0, 1.0), rolling_s=(seconds, seconds),
                                  scenarios=scenarios)
    bridge = Bridge(settings.mqtt, store, settings.rules, settings.zone, owner=True,
                    client_id=f"roller-bench-{count}")
    gateway = Gateway(settings, store, sources, "upper_back", bridge)
    arrived: list[float] = []
    stop, signed_off = asyncio.Event(), asyncio.Event()
    async with aiomqtt.Client("127.0.0.1", port) as sub:
        await sub.subscribe(bridge.topics.events, qos=1)
        tasks = [asyncio.create_task(w) for w in (alerts_arriving(sub, arrived), life(),
                                                  bridge.run(signed_off))]
        watching = asyncio.create_task(gateway.run(stop))
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.sleep(seconds)
        share = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
        stop.set()
        results = await watching
        await asyncio.sleep(0.5)
        signed_off.set()
        for task in tasks[:2]:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    store.close()
    return share, arrived, len(results)


class Dropped(logging.Handler):
    """Counts the packets the decoders drop (each is said in one warning)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("dropped"):
            self.count += 1


async def household(count: int, uses: int, speed: float) -> tuple[int, float]:
    """The README's household until each roller has been used ``uses`` times and its
    sessions have ended: sessions stored, and the rollers' hours of time it took."""
    settings = load(env={})
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "household.db")
        sources, life = sim_household(count, seed=0, speed=speed, height_cm=175.0,
                                      sessions=uses)
        gateway = Gateway(settings, store, sources, "upper_back")
        stop = asyncio.Event()
        watching = asyncio.create_task(gateway.run(stop))
        began = time.perf_counter()
        await life()  # every use rolled and left to sleep: each session has ended by then
        hours = (time.perf_counter() - began) * speed * count / 3600
        stop.set()
        results = await watching
        store.close()
    return len([r for r in results if r.session_id is not None]), hours


def main() -> None:
    quick = options.parser(__doc__).parse_args().quick
    fleets, strays, stray_s = (((1, 5.0),), 1, 15.0) if quick else (((1, 30.0), (4, 30.0)), 7, 90.0)
    with tempfile.TemporaryDirectory() as tmp:
        broker = create(Path(tmp) / "broker")
        broker.start()
        try:
            for count, seconds in fleets:
                share, _, stored = asyncio.run(run(count, seconds, broker.port, Path(tmp),
                                                   ("clean",)))
                print(f"{count} roller(s) at 100 Hz for {seconds:.0f} s: CPU {100 * share:.1f} % "
                      f"of one core ({100 * share / count:.1f} % a roller), {stored} sessions")
            with alerts_raised() as raised:
                share, arrived, stored = asyncio.run(run(
                    strays, stray_s, broker.port, Path(tmp),
                    ("lumbar",) if quick else ("stray", "lumbar")))
            print(f"{strays} rollers at 100 Hz for {stray_s:.0f} s: CPU {100 * share:.1f} % of "
                  f"one core ({100 * share / strays:.1f} % a roller), {stored} sessions")
            delays = [1000 * (b - a) for a, b in zip(raised, arrived, strict=False)]
            if not delays:  # a quick run may end before anyone strays
                print(f"no lumbar alert reached the subscriber in {stray_s:.0f} s")
                if not quick:
                    raise SystemExit(1)
            else:
                print(f"lumbar alert to subscriber with {strays} rollers ({len(delays)} alerts): "
                      f"p50 {np.median(delays):.1f} ms, "
                      f"p99 {np.percentile(delays, 99):.1f} ms, max {max(delays):.1f} ms")
        finally:
            broker.stop()
    count, uses, speed = (1, 1, 100.0) if quick else (3, 3, 20.0)
    dropped = Dropped()
    logging.getLogger("tracker.devices").addHandler(dropped)
    stored, hours = asyncio.run(household(count, uses, speed))
    print(f"household of {count} roller(s) at --speed {speed:.0f}, {uses} use(s) each: "
          f"sessions stored per simulated use {stored / (count * uses):.2f}, "
          f"packets dropped per hour {dropped.count / hours:.1f} "
          f"({dropped.count} in {hours:.2f} roller-hours)")
    if stored != count * uses and not quick:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
