"""Live-path figures: per-notification cost, notification-to-state delay, CPU share.

The simulated roller streams through bleak (its backend beneath ``BleakClient``), so the
delay measured is our handling on the event loop; a real radio adds its connection interval.
Run: ``make bench`` (or ``python -m bench.ble``).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import numpy as np

from bench import options
from firmware_sim.bleak_backend import AIR, SimClient, SimScanner
from firmware_sim.peripheral import SimulatedRoller
from firmware_sim.session import simulate
from tracker.config import load
from tracker.core.body import Body
from tracker.core.estimate import SessionEstimator
from tracker.devices import roller as p
from tracker.live.session import LiveSession
from tracker.store.opening import open_store


def per_notification_cost(seconds: float = 300.0) -> np.ndarray:
    """Decode + estimate, per 10-sample packet of a 200 Hz session (microseconds)."""
    sim = simulate("upper_back", "stray", seconds, 3, sample_rate_hz=200.0)
    x = sim.samples
    packets = [
        p.encode_packet(p.Packet(i, round(x[j, 0] * 1e6), p.to_raw(x[j:j + 10, 1:4],
                                                                   x[j:j + 10, 4:7])))
        for i, j in enumerate(range(0, len(x) - 10, 10))
    ]
    decoder = p.StreamDecoder(200)
    est = SessionEstimator("upper_back", Body(), sim.header.roller_diameter_cm, 200)
    costs = []
    for packet in packets:
        begin = time.perf_counter()
        samples = decoder.feed(packet)
        if samples is not None:
            est.feed(*samples)
        costs.append(time.perf_counter() - begin)
    return np.array(costs) * 1e6


async def live(seconds: float) -> tuple[np.ndarray, float, int]:
    """A real-time 200 Hz simulated session: delays (ms) and CPU share of one core."""
    AIR.clear()
    roller = SimulatedRoller(seconds=seconds, seed=9, speed=1.0)
    AIR[roller.address] = roller
    delays: list[float] = []
    original = roller.subscribe

    def timed_subscribe(uuid: str, notify: object) -> None:
        def wrapped(data: bytes) -> None:
            begin = time.perf_counter()
            notify(data)  # type: ignore[operator]  # decoder + estimator run inside
            delays.append(time.perf_counter() - begin)
        original(uuid, wrapped if uuid == p.IMU_DATA_UUID else notify)  # type: ignore[arg-type]

    roller.subscribe = timed_subscribe  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as tmp:
        settings = load(env={})
        store = open_store(Path(tmp) / "r.db")
        session = LiveSession(settings, store, "upper_back", roller.address,
                              scanner_backend=SimScanner, client_backend=SimClient,
                              source="sim", rate_hz=200)

        async def end() -> None:
            await roller.finished.wait()
            session.end("stopped")

        ender = asyncio.get_running_loop().create_task(end())
        cpu0, wall0 = time.process_time(), time.perf_counter()
        result = await session.run()
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        ender.cancel()
    return np.array(delays) * 1000, cpu / wall, result.link.packets


def main() -> None:
    quick = options.parser(__doc__).parse_args().quick
    costs = per_notification_cost(20.0 if quick else 300.0)
    print(f"per notification (200 Hz, 10 samples a packet; decode + estimator): "
          f"mean {costs.mean():.0f} us, p50 {np.median(costs):.0f} us, "
          f"p99 {np.percentile(costs, 99):.0f} us")
    seconds = 3.0 if quick else 30.0
    delays, share, packets = asyncio.run(live(seconds))
    print(f"notification to estimator state, live through bleak ({packets} packets): "
          f"p50 {np.median(delays):.3f} ms, p99 {np.percentile(delays, 99):.3f} ms")
    print(f"CPU share of one core, live 200 Hz session for {seconds:.0f} s without the dashboard: "
          f"{100 * share:.1f} % (the simulated roller's own work included)")


if __name__ == "__main__":
    main()
