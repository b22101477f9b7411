"""The real Textual app driven by its Pilot, on the simulated roller beneath bleak."""

from __future__ import annotations

import asyncio
import os
import signal
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from textual.binding import Binding
from textual.geometry import Region
from textual.widgets import Label

from dashboards.app import RollerApp
from dashboards.calibrate import CalibrationScreen
from dashboards.live import AlertBanner, CautionBanner
from dashboards.modals import RefusalScreen, SafetyScreen, SummaryScreen
from firmware_sim.bleak_backend import AIR, SimClient, SimScanner
from firmware_sim.peripheral import SimulatedRoller
from tracker.config import load
from tracker.core import clock
from tracker.core.calibration import Mounting
from tracker.core.estimate import LiveState, analyze
from tracker.core.formats.roller_imu import Recording
from tracker.core.guidance import ALERT, CAUTION
from tracker.core.status import Status
from tracker.live.source import Source
from tracker.simulation import run
from tracker.store.opening import open_store
from tracker.store.rows import SessionStart


def make_app(tmp_path: Path, routine: str, seconds: float = 60, speed: float = 12,
             acknowledged: bool = True) -> RollerApp:
    settings = load(env={"ROLLER_USER_TIMEZONE": "UTC"})
    store = open_store(tmp_path / "r.db")
    ack = tmp_path / "ack"
    if acknowledged:
        ack.write_text("yes")

    def source() -> Source:
        AIR.clear()
        roller = SimulatedRoller(routine=routine, scenario="stray", seconds=seconds, seed=12,
                                 speed=speed)
        AIR[roller.address] = roller
        return Source(roller.address, SimScanner, SimClient, roller.finished)

    return RollerApp(settings, store, routine, source, acknowledged=ack)


async def wait_for(condition: object, timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():  # type: ignore[operator]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)


def test_a_glute_session_that_strays_raises_and_clears_the_banner(tmp_path: Path) -> None:
    app = make_app(tmp_path, "glutes", seconds=90, speed=10)

    async def main() -> None:
        async with app.run_test(size=(100, 32)) as pilot:
            live = app.get_screen("live")
            banner, caution = live.query_one(AlertBanner), live.query_one(CautionBanner)
            placement = live.query_one("#placement", Label)
            assert placement.display and "buttocks" in str(placement.render())
            await wait_for(lambda: banner.display, 30)
            assert not caution.display and not placement.display  # the alert says more
            await wait_for(lambda: not banner.display, 10)
            await wait_for(lambda: caution.display, 5)  # it holds after the contact has left
            await wait_for(lambda: isinstance(app.screen, SummaryScreen), 30)
            await pilot.press("enter")
            await pilot.press("s")
            assert "1 of 3 done" in str(app.screen.query_one("#quota").render())

    asyncio.run(main())
    assert app.store.sessions()[0].lumbar_events >= 1


def test_a_fourth_glute_session_in_a_week_is_refused_then_overridden(tmp_path: Path) -> None:
    app = make_app(tmp_path, "glutes", seconds=20, speed=20)
    now = clock.now()
    for days in (1, 3, 5):  # yesterday, so too soon whatever the weekday (and over quota)
        at = now - timedelta(days=days)
        sid = app.store.start_session(SessionStart("glutes", at, "UTC", "import", 100, 15,
                                                   175, 0.0))
        app.store.db.database.table("sessions").update(sid, {"glutes_active_s": 100.0,
                                                    "status": "complete"})

    async def main() -> None:
        async with app.run_test(size=(100, 32)) as pilot:
            await wait_for(lambda: isinstance(app.screen, RefusalScreen), 5)
            await pilot.click("#override")
            await wait_for(lambda: app.result is not None, 30)

    asyncio.run(main())
    assert app.store.sessions()[-1].override is True


def test_first_run_shows_the_safety_notes_and_remembers(tmp_path: Path) -> None:
    app = make_app(tmp_path, "upper_back", seconds=10, speed=20, acknowledged=False)

    async def main() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(lambda: isinstance(app.screen, SafetyScreen), 5)
            await pilot.click("#ack")
            await pilot.press("q")

    asyncio.run(main())
    assert (tmp_path / "ack").exists()


def test_nothing_is_recorded_before_the_safety_notes_are_acknowledged(tmp_path: Path) -> None:
    """A new user reads the card for as long as they like: no session exists meanwhile,
    whatever asks for one; it starts once they acknowledge it."""
    app = make_app(tmp_path, "upper_back", seconds=600, speed=1, acknowledged=False)

    async def main() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(lambda: isinstance(app.screen, SafetyScreen), 5)
            app.action_new_session()  # the key, the palette's New session
            app.start_or_refuse()
            await pilot.pause(1.0)
            assert app.session is None and app.store.count() == 0
            assert isinstance(app.screen, SafetyScreen)
            await pilot.click("#ack")
            await wait_for(lambda: app.session is not None and app.session.recorder, 30)
            await pilot.press("q")

    asyncio.run(main())
    assert len(app.store.sessions()) == 1


@pytest.mark.parametrize("key", ["h"])
def test_history_lists_stored_sessions(tmp_path: Path, key: str) -> None:
    app = make_app(tmp_path, "upper_back", seconds=10, speed=20)

    async def main() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(lambda: isinstance(app.screen, SummaryScreen), 30)
            await pilot.press("enter")
            await pilot.press(key)
            table = app.screen.query_one("#sessions")
            assert table.row_count == 1  # type: ignore[attr-defined]
            await pilot.press("enter")
            await wait_for(lambda: app.screen.query("#detail"), 5)

    asyncio.run(main())


def test_a_dropped_link_shows_reconnecting_then_live_and_the_session_goes_on(
    tmp_path: Path,
) -> None:
    from firmware_sim.peripheral import Faults

    settings = load(env={"ROLLER_USER_TIMEZONE": "UTC"})
    store = open_store(tmp_path / "r.db")
    (tmp_path / "ack").write_text("yes")

    def source() -> Source:
        AIR.clear()
        roller = SimulatedRoller(seconds=30, seed=4, speed=3, faults=Faults(drops=((9.0, 4.0),)))
        AIR[roller.address] = roller
        return Source(roller.address, SimScanner, SimClient, roller.finished)

    app = RollerApp(settings, store, "upper_back", source, acknowledged=tmp_path / "ack")
    seen: list[str] = []

    async def main() -> None:
        async with app.run_test(size=(100, 30)):
            link = app.get_screen("live").query_one("#link")
            while app.result is None:
                text = str(link.render())
                if not seen or not text.startswith(seen[-1]):
                    seen.append(text.split()[1])
                await asyncio.sleep(0.02)

    asyncio.run(main())
    states = [s for i, s in enumerate(seen) if i == 0 or s != seen[i - 1]]
    assert "reconnecting" in states and states[states.index("reconnecting") + 1:].count("live")
    (row,) = store.sessions()
    assert row.duration_s > 25  # one session, continued after the outage


def test_devices_scan_pair_and_forget(tmp_path: Path) -> None:
    app = make_app(tmp_path, "upper_back", seconds=8, speed=20)

    async def main() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(lambda: isinstance(app.screen, SummaryScreen), 30)
            await pilot.press("enter")
            await pilot.press("d")
            await pilot.click("#scan")
            await wait_for(lambda: "in range" in str(
                app.screen.query_one("#devices-status").render()), 10)
            await pilot.click("#pair")
            assert app.store.devices.paired() == "C0:FF:EE:00:00:01"
            await pilot.click("#forget")
            assert app.store.devices.paired() is None

    asyncio.run(main())


def test_an_uncalibrated_sensor_is_calibrated_on_its_screen_then_tracked(tmp_path: Path) -> None:
    settings = load(env={"ROLLER_USER_TIMEZONE": "UTC"})
    store = open_store(tmp_path / "r.db")
    (tmp_path / "ack").write_text("yes")

    def sensor(routine: str) -> Source:
        AIR.clear()
        roller = SimulatedRoller(routine=routine, scenario="stray", seconds=40, seed=3,
                                 speed=20, profile="witmotion")
        AIR[roller.address] = roller
        return Source(roller.address, SimScanner, SimClient, roller.finished, "witmotion",
                      roller.air_time)

    app = RollerApp(settings, store, "upper_back", lambda: sensor("upper_back"),
                    acknowledged=tmp_path / "ack", calibration=lambda: sensor("calibrate"))

    async def main() -> None:
        async with app.run_test(size=(110, 32)) as pilot:
            await pilot.pause(0.5)
            assert app.session is None  # refused: its axes are not known yet
            await pilot.press("c")
            screen = app.screen
            assert isinstance(screen, CalibrationScreen)
            result = screen.query_one("#calibrate-result")
            await wait_for(lambda: "Calibrated" in str(result.render()), 30)
            await pilot.press("escape")
            app.action_new_session()
            await wait_for(lambda: isinstance(app.screen, SummaryScreen), 30)

    asyncio.run(main())
    assert store.devices.known(SimulatedRoller(profile="witmotion").address) is not None
    assert app.result is not None and not app.result.warnings
    assert app.result.analysis is not None and app.result.analysis.strokes > 10


def test_a_sensor_that_moved_in_its_roller_is_flagged(tmp_path: Path) -> None:
    settings = load(env={"ROLLER_USER_TIMEZONE": "UTC"})
    store = open_store(tmp_path / "r.db")
    (tmp_path / "ack").write_text("yes")
    moved = Mounting.from_json({"rotation": [[0, 1, 0], [0, 0, 1], [1, 0, 0]]})

    def sensor() -> Source:
        AIR.clear()
        roller = SimulatedRoller(scenario="stray", seconds=30, seed=3, speed=15,
                                 profile="witmotion")
        AIR[roller.address] = roller
        store.devices.calibrate(roller.address, roller.name, "witmotion", moved, clock.now())
        return Source(roller.address, SimScanner, SimClient, roller.finished, None,
                      roller.air_time)

    app = RollerApp(settings, store, "upper_back", sensor, acknowledged=tmp_path / "ack")

    async def main() -> None:
        async with app.run_test(size=(110, 32)):
            link = app.get_screen("live").query_one("#link")
            await wait_for(lambda: "calibrated axis" in str(link.render()), 30)

    asyncio.run(main())


@pytest.mark.parametrize("how", ["q", "SIGTERM", "SIGHUP"])
def test_quitting_or_a_signal_mid_session_stores_it_as_ended(tmp_path: Path, how: str) -> None:
    app = make_app(tmp_path, "upper_back", seconds=600, speed=1)

    async def main() -> None:
        async with app.run_test(size=(100, 32)) as pilot:
            app.start_or_refuse()
            await wait_for(lambda: app.session is not None and app.session.recorder, 30)
            if how == "q":
                await pilot.press("q")
            else:
                os.kill(os.getpid(), getattr(signal, how))
            await wait_for(lambda: not app.is_running, 30)

    asyncio.run(main())
    store = open_store(tmp_path / "r.db")
    [row] = store.sessions()
    assert (row.status, store.db.execute("SELECT end_reason FROM sessions").fetchone()[0]) \
        == ("complete", "stopped")


def test_a_redraw_repaints_its_labels_and_lays_the_screen_out_only_when_one_grows(
    tmp_path: Path,
) -> None:
    """Textual lays the whole screen out at each label's update by default, so every widget
    repainted at every redraw; a text that keeps its size now repaints its label alone."""
    (tmp_path / "ack").write_text("yes")
    app = RollerApp(load(env={"ROLLER_USER_TIMEZONE": "UTC"}), open_store(tmp_path / "r.db"),
                    "upper_back", lambda: Source("none"), acknowledged=tmp_path / "ack",
                    autostart=False)
    state = LiveState(t_s=30.0, s_cm=44.0, s_sd_cm=2.5, region="thoracic", lumbar=False,
                      alerts_s=[], caution=False, cautions_s=[], strokes=9, active_s=30.0,
                      paused_s=0.0, bout_s=30.0, pause_s=0.0)

    async def main() -> None:
        async with app.run_test(size=(100, 32)) as pilot:
            live = app.get_screen("live")
            layouts: list[object] = []
            live.screen_layout_refresh_signal.subscribe(live, layouts.append, immediate=True)

            async def show(**changes: float) -> None:
                app._on_status(Status("live", 0, replace(state, **changes), 0.0, 80), None)
                app.redraw()
                await pilot.pause()

            await show()
            layouts.clear()
            await show(s_cm=44.6, t_s=30.5, active_s=30.5, bout_s=30.5)  # digits change
            assert "44.6" in str(live.query_one("#region", Label).render())
            assert layouts == []
            await show(strokes=10)  # "strokes 10": a cell wider, laid out to fit
            strokes = live.query_one("#strokes", Label)
            assert layouts and strokes.size.width == len(str(strokes.render()))

    asyncio.run(main())


def test_the_body_map_repaints_only_the_rows_a_move_changes() -> None:
    """Repainting the whole map at each status cost more than the rest of the Live screen;
    a move within a row repaints nothing, a move to another row only the rows it changes."""
    from textual.app import App, ComposeResult

    from dashboards.body_map import BodyMap
    from tracker.core.body import Body

    class Map(App[None]):
        def compose(self) -> ComposeResult:
            yield BodyMap(Body(), 5)

    async def main() -> None:
        app = Map()
        async with app.run_test(size=(40, 30)) as pilot:
            body_map = app.query_one(BodyMap)
            body_map.move(49.0, 1.0)  # 175 cm in 30 rows: row 8 is 46.7-52.5 cm
            await pilot.pause()
            drawn: list[int] = []
            render_line = body_map.render_line
            body_map.render_line = lambda y: drawn.append(y) or render_line(y)  # type: ignore[method-assign]
            body_map.move(49.5, 1.0)  # the contact, its trail and spread in the same row
            await pilot.pause()
            assert drawn == []
            body_map.move(67.0, 1.0)  # three rows down: the row left and the row reached
            await pilot.pause()
            assert sorted(drawn) == [8, 11]  # row 8 keeps the trail, a dot for the contact

    asyncio.run(main())


def screen_rows(app: RollerApp) -> list[str]:
    """The rows of the screen on top as a person sees them (its compositor's strips)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def shown_whole(rows: list[str], region: Region) -> str:
    """The text inside ``region`` of the screen, its lines joined as one paragraph."""
    return " ".join(" ".join(row[region.x:region.right].split())
                    for row in rows[region.y:region.bottom]).strip()


def idle_app(tmp_path: Path) -> RollerApp:
    """The dashboard with no session of its own: a test shows it statuses."""
    (tmp_path / "ack").write_text("yes")
    return RollerApp(load(env={"ROLLER_USER_TIMEZONE": "UTC"}), open_store(tmp_path / "r.db"),
                     "upper_back", lambda: Source("none"), acknowledged=tmp_path / "ack",
                     autostart=False)


STATE = LiveState(t_s=30.0, s_cm=62.0, s_sd_cm=2.5, region="lumbar", lumbar=False, alerts_s=[],
                  caution=True, cautions_s=[], strokes=9, active_s=30.0, paused_s=0.0,
                  bout_s=30.0, pause_s=0.0)


@pytest.mark.parametrize("columns", [60, 80, 100, 120])
def test_the_caution_then_the_alert_are_whole_and_first_at_every_width(
        tmp_path: Path, columns: int) -> None:
    """Below the title bar, before anything else, each whole (wrapped, never cut)."""
    app = idle_app(tmp_path)

    async def main() -> None:
        async with app.run_test(size=(columns, 24)) as pilot:
            live = app.get_screen("live")
            for state, banner, text in ((STATE, CautionBanner, CAUTION),
                                        (replace(STATE, lumbar=True, alerts_s=[30.0]),
                                         AlertBanner, ALERT)):
                app._on_status(Status("live", 0, state, 0.0, 80), None)
                app.redraw()
                await pilot.pause()
                region = live.query_one(banner).region
                assert region.y == 1 and region.width == columns  # right under the title
                assert shown_whole(screen_rows(app), region) == text

    asyncio.run(main())


def test_a_real_stray_shows_the_alert_whole_at_60_columns(tmp_path: Path) -> None:
    app = make_app(tmp_path, "glutes", seconds=60, speed=3)  # the stray lasts a second

    async def main() -> None:
        async with app.run_test(size=(60, 24)) as pilot:
            banner = app.get_screen("live").query_one(AlertBanner)
            await wait_for(lambda: banner.display, 30)
            await wait_for(lambda: shown_whole(screen_rows(app), banner.region) == ALERT, 1)
            await pilot.press("q")

    asyncio.run(main())


def test_the_summary_card_is_whole_sentences_at_80x24(tmp_path: Path) -> None:
    """A two-part session that strayed and came near: the longest card there is but for a
    program's third part. Every sentence on it is shown whole, none cut at the card's edge
    or the screen's bottom, and the card closes from the keyboard."""
    sim = run("glutes", "stray", 0, 3, 50.0, 175.0,
              parts=[("upper_back", 60.0), ("glutes", 60.0)])
    analysis = analyze(Recording(sim.header, sim.samples))
    assert analysis.parts and analysis.lumbar_events and analysis.caution_events
    app = idle_app(tmp_path)

    async def main() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            app.push_screen(SummaryScreen(analysis))
            await pilot.pause()
            rows = screen_rows(app)
            sentences = app.screen.query(".sentence")
            assert len(sentences) >= 6
            for sentence in sentences:
                text = str(sentence.render())
                assert text.endswith("."), text
                assert sentence.region.bottom <= 24
                assert shown_whole(rows, sentence.content_region) == " ".join(text.split())
            assert app.screen.query_one("#close").region.bottom <= 24
            await pilot.press("enter")
            assert not isinstance(app.screen, SummaryScreen)

    asyncio.run(main())


def notified(app: RollerApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def acts_or_says_why(app: RollerApp, pilot: object, key: str) -> None:
    """``key`` either changes the screen or says why it does nothing now."""
    screen, said = app.screen, len(notified(app))
    await pilot.press(key)  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]
    assert app.screen is not screen or len(notified(app)) > said, f"{key} did nothing, silently"


KEYS = [binding.key for binding in RollerApp.BINDINGS if isinstance(binding, Binding)]


def test_every_key_acts_or_says_why_with_no_session_and_under_a_card(tmp_path: Path) -> None:
    app = idle_app(tmp_path)
    sim = run("upper_back", "stray", 30, 3, 50.0, 175.0)
    analysis = analyze(Recording(sim.header, sim.samples))

    async def main() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            for key in ("s", "w", "h", "p", "d", "l", "a", "escape", "right_square_bracket",
                        "o", "c"):
                if key == "escape":  # the area chooser: a says there is no session first
                    assert notified(app)[-1] == "no session under way: n starts one"
                    continue
                await acts_or_says_why(app, pilot, key)
            app.push_screen(SummaryScreen(analysis))
            await pilot.pause()
            for key in KEYS:
                await acts_or_says_why(app, pilot, key)
                assert isinstance(app.screen, SummaryScreen)
                assert notified(app)[-1] == SummaryScreen.FIRST

    asyncio.run(main())


def test_every_key_acts_or_says_why_during_a_session(tmp_path: Path) -> None:
    """n used to do nothing during a session and say nothing; ] and o without a program."""
    app = make_app(tmp_path, "upper_back", seconds=600, speed=1)

    async def main() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(lambda: app.session is not None and app.session.recorder, 30)
            for key in ("n", "right_square_bracket", "o", "c"):
                await acts_or_says_why(app, pilot, key)
                assert app.screen is app.get_screen("live")
            await acts_or_says_why(app, pilot, "a")  # the area chooser
            await pilot.press("escape")
            await pilot.press("q")

    asyncio.run(main())


def test_names_from_elsewhere_are_shown_as_they_are_never_as_markup(tmp_path: Path) -> None:
    """A name is shown as it was given: markup in it is not obeyed, an escape not sent."""
    app = idle_app(tmp_path)
    for name, given in (("Ada", "[b red]Ada[/]"), ("Zoe", "Zoë\x1b[2J")):  # as a gateway's
        person = app.store.people.add(name)
        app.store.db.execute("UPDATE people SET name = ? WHERE id = ?", [given, person.id])

    async def main() -> None:
        async with app.run_test(size=(100, 32)) as pilot:
            app.ask_who()
            await pilot.pause()
            rows = "\n".join(screen_rows(app))
            assert "[b red]Ada[/]" in rows and "Zoë\u241b[2J" in rows, rows
            await pilot.press("escape")
            app.switch_screen("schedule")
            await pilot.pause()
            rows = "\n".join(screen_rows(app))
            assert "[b red]Ada[/]" in rows and "Zoë\u241b[2J" in rows, rows

    asyncio.run(main())
