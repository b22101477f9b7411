"""A program in the real dashboard, driven by its Pilot: the steps in order, glutes skipped
on a day the schedule refuses them, the outcome stored with the session; and a person
chosen at the start."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

from textual.widgets import DataTable, Label

from dashboards.app import RollerApp
from dashboards.modals import ChoiceScreen
from firmware_sim.bleak_backend import AIR, SimClient, SimScanner
from firmware_sim.peripheral import SimulatedRoller
from tests.test_dashboard import wait_for
from tracker.config import load
from tracker.core import clock
from tracker.core.programs import Program, Step
from tracker.live.source import Source
from tracker.store.opening import open_store
from tracker.store.rows import SessionStart

PROGRAM = Program("test", "Back, glutes, stretch", "", (
    Step("area", "upper_back", 12.0, "Upper back"),
    Step("area", "glutes", 15.0, "Glutes"),
    Step("stretch", None, 30.0, "Seated piriformis stretch, left", "Sit tall."),
))


def make_app(tmp_path: Path, **kwargs: object) -> RollerApp:
    settings = load(env={"ROLLER_USER_TIMEZONE": "UTC"})
    store = open_store(tmp_path / "r.db")
    (tmp_path / "ack").write_text("yes")

    def source() -> Source:
        AIR.clear()
        roller = SimulatedRoller(parts=[("upper_back", 60.0), ("glutes", 40.0)], seed=3,
                                 speed=8)
        AIR[roller.address] = roller
        return Source(roller.address, SimScanner, SimClient, roller.finished)

    return RollerApp(settings, store, "upper_back", source, acknowledged=tmp_path / "ack",
                     **kwargs)  # type: ignore[arg-type]


def test_a_program_skips_glutes_on_a_refused_day(tmp_path: Path) -> None:
    app = make_app(tmp_path, program=PROGRAM)
    yesterday = clock.now() - timedelta(days=1)
    sid = app.store.start_session(SessionStart("glutes", yesterday, "UTC", "import", 100, 15,
                                               175, 0.0))
    app.store.db.database.table("sessions").update(
        sid, {"glutes_active_s": 100.0, "status": "complete"})

    async def main() -> None:
        async with app.run_test(size=(100, 36)) as pilot:
            step = app.get_screen("live").query_one("#program", Label)
            await wait_for(lambda: "step 1/3 Upper back" in str(step.render()), 10)
            await wait_for(lambda: "not today" in str(step.render()), 30)  # glutes refused
            assert "o rolls it anyway" in str(step.render())
            await pilot.press("right_square_bracket")  # skip it
            await wait_for(lambda: "step 3/3 Seated piriformis" in str(step.render()), 10)
            await pilot.press("p")  # the program screen: every step and its outcome
            steps = app.screen.query_one(DataTable)
            await wait_for(lambda: steps.row_count == 3, 5)
            assert [steps.get_row_at(i)[3] for i in range(3)] == ["done", "skipped", "now"]
            assert "yesterday" in str(steps.get_row_at(1)[5])
            await wait_for(lambda: app.result is not None, 30)  # the program's end ends it

    asyncio.run(main())
    row = app.store.db.execute("SELECT program, areas FROM sessions WHERE id = 2").fetchone()
    run = json.loads(row[0])
    assert [o["status"] for o in run["outcomes"]] == ["done", "skipped", "done"]
    assert "yesterday" in run["outcomes"][1]["reason"]
    assert "glutes" not in row[1].split(",")  # glutes were never counted


def test_the_dashboard_asks_who_is_rolling(tmp_path: Path) -> None:
    app = make_app(tmp_path, ask_who=True)
    tall = app.store.people.add("Tall", height_cm=195.0)

    async def main() -> None:
        async with app.run_test(size=(100, 36)) as pilot:
            await wait_for(lambda: isinstance(app.screen, ChoiceScreen), 5)
            await pilot.press("down", "enter")
            await wait_for(lambda: app.session is not None, 10)
            app.session.end("stopped")
            await wait_for(lambda: app.result is not None, 20)

    asyncio.run(main())
    assert app.settings.person is not None and app.settings.person.id == tall.id
    assert app.settings.body.height_cm == 195.0
    (row,) = app.store.sessions()
    assert row.person_id == tall.id and row.person_id != app.store.people.named("me").id
