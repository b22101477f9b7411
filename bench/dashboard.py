"""Dashboard figures, headless: CPU share of one core while it shows a live 200 Hz simulated
session for 60 s, the delay from the estimator's lumbar alert to the banner on screen, and
how long the History, Schedule (the week), Weeks and session screens take to open on ten
years of sessions (bench.store's corpus of 6,940).

Run: ``make bench`` (or ``python -m bench.dashboard``).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial
from pathlib import Path

import numpy as np

from bench.alert_clock import alerts_raised
from bench.store import ten_years
from dashboards.app import RollerApp
from dashboards.live import AlertBanner
from dashboards.session import SessionScreen
from firmware_sim.bleak_backend import AIR, SimClient, SimScanner
from firmware_sim.peripheral import SimulatedRoller
from tracker.config import load
from tracker.live.source import Source
from tracker.store.opening import open_store

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


SCREENS = ("history", "schedule", "weeks", "devices")  # devices: a small screen, for scale
TRIES = 5


async def opening(folder: Path) -> tuple[int, dict[str, list[float]], dict[str, list[float]]]:
    """Milliseconds from asking for a screen to its first paint (its store reads, its
    pictures, Textual's switch and layout), each opened ``TRIES`` times from the Live screen
    on ten years of sessions, and a session's screen, which re-analyses its samples; and,
    apart, the screen's own work as it is shown (store reads, pictures, widget updates)."""
    count = ten_years(folder / "ten.db")
    store = open_store(folder / "ten.db")
    settings = load(env={"ROLLER_USER_TIMEZONE": "Europe/Berlin"}).for_person(
        store.people.default())
    (folder / "ack").write_text("yes")
    latest = store.sessions(last=1)[0]
    now = latest.started_at + timedelta(hours=1)
    app = RollerApp(settings, store, "upper_back", lambda: Source("none"),
                    acknowledged=folder / "ack", autostart=False, clock=lambda: now)
    times: dict[str, list[float]] = {name: [] for name in (*SCREENS, "session")}
    own: dict[str, list[float]] = {name: [] for name in SCREENS[:-1]}

    async def painted(show: Callable[[], Awaitable[object]]) -> float:
        done = asyncio.Event()
        begin = time.perf_counter()
        await show()
        app.call_after_refresh(done.set)
        await done.wait()
        return 1000 * (time.perf_counter() - begin)

    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        for _ in range(TRIES):
            for name in SCREENS:
                times[name].append(await painted(partial(app.switch_screen, name)))
                if name in own:
                    begin = time.perf_counter()
                    app.screen.on_screen_resume()  # type: ignore[attr-defined]
                    own[name].append(1000 * (time.perf_counter() - begin))
                await app.switch_screen("live")
                await pilot.pause()
            times["session"].append(await painted(partial(
                app.push_screen, SessionScreen(store, latest.id, settings))))
            await app.pop_screen()
            await pilot.pause()
    return count, times, own


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        count, times, own = asyncio.run(opening(Path(tmp)))
    for name, ms in times.items():
        print(f"{name} screen to its first paint on {count} sessions: median "
              f"{np.median(ms):.0f} ms, max {max(ms):.0f} ms ({TRIES} times, headless 100x32)"
              + (f"; its own work {np.median(own[name]):.0f} ms" if name in own else ""))
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
