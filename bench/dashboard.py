"""Dashboard figures, headless: CPU share of one core while it shows a live 200 Hz simulated
session for 60 s, and the delay from the estimator's lumbar alert to the banner on screen.

Run: ``make bench`` (or ``python -m bench.dashboard``).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.alert_clock import alerts_raised
from dashboards.app import RollerApp
from dashboards.live import AlertBanner
from firmware_sim.bleak_backend import AIR, SimClient, SimScanner
from firmware_sim.peripheral import SimulatedRoller
from tracker.config import load
from tracker.live.source import Source
from tracker.store.database import open_store

SECONDS = 60.0


async def run(folder: Path) -> tuple[float, list[float]]:
    """CPU share, and the moments the banner appeared."""
    settings = load(env={"ROLLER_USER_TIMEZONE": "UTC"})
    store = open_store(folder / "r.db")
    (folder / "ack").write_text("yes")
    shown: list[float] = []

    def source() -> Source:
        AIR.clear()
        roller = SimulatedRoller(routine="upper_back", scenario="stray", seconds=SECONDS,
                                 seed=31, speed=1.0)
        AIR[roller.address] = roller
        return Source(roller.address, SimScanner, SimClient, roller.finished)

    app = RollerApp(settings, store, "upper_back", source, acknowledged=folder / "ack",
                    rate_hz=200)
    async with app.run_test(size=(100, 32)):
        banner = app.get_screen("live").query_one(AlertBanner)
        was = False
        cpu0, wall0 = time.process_time(), time.perf_counter()
        while app.result is None:
            if banner.display and not was:
                shown.append(time.perf_counter())
            was = banner.display
            await asyncio.sleep(0.002)
        share = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
    return share, shown


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, alerts_raised() as raised:
        share, shown = asyncio.run(run(Path(tmp)))
    delays = [1000 * (b - a) for a, b in zip(raised, shown, strict=False)]
    print(f"dashboard CPU share of one core, live 200 Hz simulated session for "
          f"{SECONDS:.0f} s, headless: {100 * share:.1f} % (the simulated roller and the "
          f"bench's own 2 ms polling included)")
    if delays:
        print(f"estimator alert to banner on screen ({len(delays)} alerts): "
              f"p50 {np.median(delays):.0f} ms, max {max(delays):.0f} ms")


if __name__ == "__main__":
    main()
