"""A roller through an ESPHome Bluetooth proxy beside the same roller on the local link.

Each run is a 10-minute simulated session with strays into the lumbar band (at 20 times real
time), at 100 and at 200 Hz, once over the local simulated link (the simulator beneath bleak)
and once through the test proxy (:mod:`firmware_sim.esphome_proxy`: ESPHome's native API on
127.0.0.1, the real bleak-esphome and aioesphomeapi clients), with the MQTT bridge on a real
mosquitto. It reports the notifications lost; the lumbar alert's latency, from the firmware
sending the notification that carries the alerting sample to the alert's arrival at an MQTT
subscriber (p99; a session has a few alerts, so also the p99 of every notification's way
from the firmware to roller's decoder, the part a proxy changes); and roller's CPU per
roller (this thread's share of one core, divided by the speed-up: the proxy and the rollers
beneath it run on a thread of their own, as an ESP32 would, while the local link's simulated
roller runs on roller's). Targets: loss <= 0.5 %, alert p99 within 20 ms of the local
link's. Run: ``make bench`` (or ``python -m bench.proxy``; ``--quick`` for seconds of it,
as ``make test`` runs it).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiomqtt
import numpy as np

from bench import options
from bench.alert_clock import alerts_arriving
from firmware_sim.bleak_backend import AIR, SimClient, SimScanner
from firmware_sim.esphome_proxy import EsphomeProxy, ProxyThread
from firmware_sim.peripheral import SimulatedRoller
from tests.broker import create
from tracker.config import load
from tracker.core.estimate import AreaEstimator
from tracker.core.proxy_settings import ProxyAddress
from tracker.devices import PROFILES
from tracker.devices import roller as p
from tracker.live.radio import radio
from tracker.live.session import LiveSession
from tracker.mqtt.bridge import Bridge
from tracker.store.opening import open_store

SPEED = 20.0  # simulated time runs this many times real time
LOSS_TARGET_PCT = 0.5
LATENCY_TARGET_MS = 20.0


@dataclass
class Run:
    link: str
    rate_hz: int
    lost_pct: float
    alert_p99_ms: float
    alerts: int
    carried_p99_ms: float  # every notification: sent by the firmware to decoded by roller
    cpu_pct: float


@dataclass
class Stamps:
    """When the firmware sent each notification, how long each took to reach the decoder
    (s), and for each lumbar alert when the notification that carried it was sent."""

    sent: dict[bytes, float]
    carried_s: list[float]
    raised: list[float]


@contextmanager
def stamped() -> Iterator[Stamps]:
    """Each notification stamped when the roller's firmware sends it and when roller decodes
    it, each lumbar alert with its notification's stamp (perf_counter, one clock for both
    threads)."""
    stamps = Stamps({}, [], [])
    sent = stamps.sent
    feeding: list[float] = [0.0]
    subscribe, decode, feed = (SimulatedRoller.subscribe, p.StreamDecoder.feed,
                               AreaEstimator.feed)

    def timed_subscribe(self: SimulatedRoller, uuid: str, notify: Callable[[bytes], None]
                        ) -> None:
        def stamp(data: bytes) -> None:
            sent[bytes(data)] = time.perf_counter()
            notify(data)

        subscribe(self, uuid, stamp if uuid == p.IMU_DATA_UUID else notify)

    def timed_decode(self: p.StreamDecoder, data: bytes, *args: Any) -> Any:
        if (when := sent.pop(bytes(data), None)) is not None:
            feeding[0] = when
            stamps.carried_s.append(time.perf_counter() - when)
        return decode(self, data, *args)

    def timed_feed(self: AreaEstimator, *args: Any) -> Any:
        state = feed(self, *args)
        if state.alerts_s:
            stamps.raised.append(feeding[0])
        return state

    SimulatedRoller.subscribe = timed_subscribe  # type: ignore[method-assign]
    p.StreamDecoder.feed = timed_decode  # type: ignore[method-assign]
    AreaEstimator.feed = timed_feed  # type: ignore[method-assign]
    try:
        yield stamps
    finally:
        SimulatedRoller.subscribe = subscribe  # type: ignore[method-assign]
        p.StreamDecoder.feed = decode  # type: ignore[method-assign]
        AreaEstimator.feed = feed  # type: ignore[method-assign]


async def session(port: int, store_path: Path, roller: SimulatedRoller, rate_hz: int,
                  proxy_port: int | None) -> tuple[list[float], float, float]:
    """One session with the bridge beside it: the alerts' arrivals at a subscriber, the
    share of a core this thread spent, and the notifications lost (%)."""
    settings = load(env={"ROLLER_MQTT_HOST": "127.0.0.1", "ROLLER_MQTT_PORT": str(port)})
    proxies = (ProxyAddress("127.0.0.1", proxy_port),) if proxy_port else ()
    arrived: list[float] = []
    with closing(open_store(store_path)) as store:
        bridge = Bridge(settings.mqtt, store, settings.rules, settings.zone, owner=True,
                        client_id="roller-bench")
        bridge.watch(roller.address, PROFILES["roller"].identity(roller.address))
        stop = asyncio.Event()
        bridge_task = asyncio.create_task(bridge.run(stop))
        async with aiomqtt.Client("127.0.0.1", port) as sub, \
                radio(proxies, (SimScanner, SimClient), use_local=False) as air:
            await sub.subscribe(bridge.topics.events, qos=1)
            listener = asyncio.create_task(alerts_arriving(sub, arrived))
            live = LiveSession(settings, store, "upper_back", roller.address,
                               scanner_backend=air.scanner_backend,
                               client_backend=air.client_backend, rate_hz=rate_hz)

            async def end() -> None:
                while not roller.finished.is_set():
                    await asyncio.sleep(0.05)  # set on the proxy's loop, maybe
                live.end("stopped")

            ender = asyncio.create_task(end())
            cpu, wall = time.thread_time(), time.perf_counter()
            result = await live.run()
            cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
            await asyncio.sleep(0.5)
            stop.set()
            await bridge_task
            listener.cancel()
            ender.cancel()
    return arrived, cpu / wall, result.link.loss_pct


def run(port: int, store_path: Path, seconds: float, rate_hz: int, link: str) -> Run:
    AIR.clear()
    roller = SimulatedRoller(scenario="stray", seconds=seconds, seed=12, speed=SPEED)
    AIR[roller.address] = roller
    beside: AbstractContextManager[int | None] = \
        ProxyThread(EsphomeProxy("proxy-bench")) if link == "proxy" else nullcontext(None)
    with stamped() as stamps, beside as proxy_port:
        arrived, share, lost_pct = asyncio.run(session(port, store_path, roller, rate_hz,
                                                       proxy_port))
    delays = [1000 * (b - a) for a, b in zip(stamps.raised, arrived, strict=False)]
    return Run(link, rate_hz, lost_pct, float(np.percentile(delays, 99)) if delays else 0.0,
               len(delays), 1000 * float(np.percentile(stamps.carried_s, 99)), 100 * share)


def main() -> None:
    quick = options.parser(__doc__).parse_args().quick
    seconds = 40.0 if quick else 600.0
    with tempfile.TemporaryDirectory() as tmp:
        broker = create(Path(tmp) / "broker")
        broker.start()
        try:
            store_path = Path(tmp) / "proxy.db"
            # The roller's first session waits for Home Assistant to hear of it (bench.mqtt
            # says so): one untimed, so that every run is an everyday session.
            run(broker.port, store_path, 5.0, 100, "local")
            runs = [run(broker.port, store_path, seconds, rate_hz, link)
                    for rate_hz in (100, 200) for link in ("local", "proxy")]
        finally:
            broker.stop()
    print(f"a roller for {seconds / 60:.3g} simulated min at {SPEED:g}x, local simulated link "
          f"beside the test ESPHome proxy (targets: loss <= {LOSS_TARGET_PCT} %, alert p99 "
          f"within {LATENCY_TARGET_MS:g} ms of local)")
    for local, proxy in zip(runs[::2], runs[1::2], strict=True):
        for r in (local, proxy):
            print(f"  {r.rate_hz} Hz {r.link:5}: notifications lost {r.lost_pct:.2f} %, "
                  f"alert to subscriber p99 {r.alert_p99_ms:.1f} ms ({r.alerts} alerts), "
                  f"every notification to roller p99 {r.carried_p99_ms:.2f} ms, "
                  f"CPU per roller {r.cpu_pct / SPEED:.2f} % of a core at real time "
                  f"({r.cpu_pct:.0f} % at {SPEED:g}x)")
        print(f"  {local.rate_hz} Hz: the proxy adds {proxy.alert_p99_ms - local.alert_p99_ms:+.1f}"
              f" ms to the alert's p99 ({proxy.carried_p99_ms - local.carried_p99_ms:+.2f} ms to "
              f"every notification's), {proxy.lost_pct - local.lost_pct:+.2f} points of loss")


if __name__ == "__main__":
    main()
