"""Dashboard figures, headless: its CPU share of one core while it shows a live 200 Hz simulated
session, against the same session run without Textual in the same run; the delay from the
estimator's lumbar alert to the banner on screen; and how long the History, Schedule (the
week), Weeks and session screens take to open on ten years of sessions (bench.store's
corpus of 6,940).

The two CPU shares are taken over the same window of each session, from the simulated
roller's first packet to its last, in alternating rounds, so that another program busy on
the machine weighs on both alike; the ratio is what the dashboard's screen costs. The bench
waits on events in that window, never polls, so its own work counts in neither share.

Run: ``make bench`` (or ``python -m bench.dashboard``); ``--quick`` runs it all in a few
seconds on a short session and a small store, for ``make test``: figures that only show it
still runs.
"""

from __future__ import annotations

import asyncio
import gc
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path

import numpy as np

from bench import options
from bench.alert_clock import alerts_raised
from bench.store import DAYS, history
from dashboards.app import RollerApp
from dashboards.live import LiveScreen
from dashboards.session import SessionScreen
from firmware_sim.bleak_backend import AIR, SimClient, SimScanner
from firmware_sim.peripheral import SimulatedRoller
from tracker.config import Settings, load
from tracker.core import clock
from tracker.core.status import Status
from tracker.devices import roller as p
from tracker.live import start
from tracker.live.source import Source
from tracker.store.opening import open_store


@dataclass(frozen=True)
class Scale:
    """How long and how large the bench runs."""

    seconds: float  # each live session
    rounds: int  # live sessions with the dashboard, and as many without
    days: int  # of ten years of evenings in the store the screens open on
    tries: int  # each screen opened


FULL = Scale(seconds=30.0, rounds=3, days=DAYS, tries=5)
QUICK = Scale(seconds=2.0, rounds=1, days=30, tries=1)
ROUTINE = "upper_back"


class Window:
    """The CPU and wall time from a simulated roller's first packet to its last."""

    def __init__(self, roller: SimulatedRoller) -> None:
        self.roller = roller
        self.cpu0 = self.wall0 = 0.0
        subscribe = roller.subscribe

        def first_packet(uuid: str, notify: Callable[[bytes], None]) -> None:
            if uuid == p.IMU_DATA_UUID and not self.wall0:
                self.cpu0, self.wall0 = time.process_time(), time.perf_counter()
            subscribe(uuid, notify)

        roller.subscribe = first_packet  # type: ignore[method-assign]

    async def share(self) -> float:
        """The CPU share of one core once the session has run out (awaited, not polled)."""
        await self.roller.finished.wait()
        return (time.process_time() - self.cpu0) / (time.perf_counter() - self.wall0)


def simulated(seconds: float) -> tuple[Window, Source]:
    """The same session every time: the upper back, straying into the lumbar band."""
    AIR.clear()
    roller = SimulatedRoller(routine=ROUTINE, scenario="stray", seconds=seconds, seed=31,
                             speed=1.0)
    AIR[roller.address] = roller
    return Window(roller), Source(roller.address, SimScanner, SimClient, roller.finished)


def settings_for(folder: Path) -> Settings:
    (folder / "ack").write_text("yes")
    return load(env={"ROLLER_USER_TIMEZONE": "UTC"})


async def without_textual(folder: Path, seconds: float) -> float:
    """The CPU share of the dashboard's session worker alone: planned and run as the
    dashboard runs it, its statuses kept as the dashboard keeps them, nothing drawn."""
    settings = settings_for(folder)
    store = open_store(folder / "r.db")
    window, source = simulated(seconds)
    planned = start.plan(store, settings, source.address, ROUTINE, clock.now(),
                         source.profile)
    latest: list[Status] = []

    def on_status(status: Status, _: object) -> None:
        latest[:] = [status]

    session = asyncio.get_running_loop().create_task(
        start.run(store, planned, source, "dashboard", on_status, rate_hz=200))
    share = await window.share()
    await session
    return share


@contextmanager
def banners_shown() -> Iterator[tuple[list[float], list[float]]]:
    """Record the moments each lumbar banner was shown (the alert reached the screen) and
    painted (after the screen's next refresh)."""
    shown: list[float] = []
    painted: list[float] = []
    alert = LiveScreen.alert

    def timed_alert(self: LiveScreen, on: bool) -> None:
        alert(self, on)
        if on:
            shown.append(time.perf_counter())
            self.app.call_after_refresh(lambda: painted.append(time.perf_counter()))

    LiveScreen.alert = timed_alert  # type: ignore[method-assign]
    try:
        yield shown, painted
    finally:
        LiveScreen.alert = alert  # type: ignore[method-assign]


async def with_dashboard(folder: Path, seconds: float
                         ) -> tuple[float, list[tuple[float, float]]]:
    """The dashboard's CPU share on the Live screen, and each alert's delays to its banner
    shown and painted (ms)."""
    settings = settings_for(folder)
    store = open_store(folder / "r.db")
    windows: list[Window] = []

    def source() -> Source:
        window, made = simulated(seconds)
        windows.append(window)
        return made

    app = RollerApp(settings, store, ROUTINE, source, acknowledged=folder / "ack",
                    rate_hz=200)
    with alerts_raised() as raised, banners_shown() as (shown, painted):
        async with app.run_test(size=(100, 32)):
            share = await windows[0].share()
            for worker in list(app.workers):
                if worker.name == "session":
                    await worker.wait()
    return share, [(1000 * (b - a), 1000 * (c - a))
                   for a, b, c in zip(raised, shown, painted, strict=False)]


SCREENS = ("history", "schedule", "weeks", "devices")  # devices: a small screen, for scale


async def opening(folder: Path, scale: Scale
                  ) -> tuple[int, dict[str, list[float]], dict[str, list[float]]]:
    """Milliseconds from asking for a screen to its first paint (its store reads, its
    pictures, Textual's switch and layout), each opened ``scale.tries`` times from the Live
    screen on ``scale.days`` of ten years of evenings, and a session's screen, which
    re-analyses its samples; and, apart, the screen's own work as it is shown (store reads,
    pictures, widget updates)."""
    count = history(folder / "ten.db", scale.days)
    store = open_store(folder / "ten.db")
    settings = load(env={"ROLLER_USER_TIMEZONE": "Europe/Berlin"}).for_person(
        store.people.default())
    (folder / "ack").write_text("yes")
    latest = store.sessions(last=1)[0]
    now = latest.started_at + timedelta(hours=1)
    app = RollerApp(settings, store, ROUTINE, lambda: Source("none"),
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
        for _ in range(scale.tries):
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


def live(scale: Scale) -> tuple[list[float], list[float], list[tuple[float, float]]]:
    """``scale.rounds`` rounds, each the session without Textual then with the dashboard:
    the two CPU shares of each round, and every alert's delays to its banner. The garbage
    of what ran before is collected before each session, so neither pays for it."""
    plain: list[float] = []
    shown: list[float] = []
    delays: list[tuple[float, float]] = []
    for _ in range(scale.rounds):
        gc.collect()
        with tempfile.TemporaryDirectory() as tmp:
            plain.append(asyncio.run(without_textual(Path(tmp), scale.seconds)))
        gc.collect()
        with tempfile.TemporaryDirectory() as tmp:
            share, delay = asyncio.run(with_dashboard(Path(tmp), scale.seconds))
        shown.append(share)
        delays.extend(delay)
    return shown, plain, delays


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + "s" * (count != 1)


def main() -> None:
    scale = QUICK if options.parser(__doc__).parse_args().quick else FULL
    with tempfile.TemporaryDirectory() as tmp:
        count, times, own = asyncio.run(opening(Path(tmp), scale))
    for name, ms in times.items():
        print(f"{name} screen to its first paint on {count} sessions: median "
              f"{np.median(ms):.0f} ms, max {max(ms):.0f} ms ({plural(scale.tries, 'time')}, "
              "headless 100x32)" + (f"; its own work {np.median(own[name]):.0f} ms"
                                    if name in own else ""))
    shown, plain, delays = live(scale)
    dashboard, reference = float(np.median(shown)), float(np.median(plain))
    rounds = ", ".join(f"{100 * a:.1f}/{100 * b:.1f} %" for a, b in zip(shown, plain,
                                                                      strict=True))
    print(f"dashboard CPU share of one core, live 200 Hz simulated session, headless (median "
          f"of {plural(scale.rounds, 'round')} of {scale.seconds:.0f} s, first packet to "
          f"last): {100 * dashboard:.1f} %; the same session without Textual "
          f"{100 * reference:.1f} %: {dashboard / reference:.1f}x (rounds: {rounds})")
    if delays:
        shown_ms, painted_ms = zip(*delays, strict=True)
        print(f"estimator alert to banner ({len(delays)} alerts): shown p50 "
              f"{np.median(shown_ms):.1f} ms, max {max(shown_ms):.1f} ms; painted p50 "
              f"{np.median(painted_ms):.0f} ms, max {max(painted_ms):.0f} ms")


if __name__ == "__main__":
    main()
