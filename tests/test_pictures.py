"""The pictures: their figures (pure), the terminal charts at narrow and wide widths, and
the commands that print them."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from tests.weeks import NOW, fill, kind
from tracker.core.body import Body
from tracker.core.pictures.charts import build, draw_session, pieces, thinned, time_ticks
from tracker.core.pictures.figures import week_picture, weeks_picture
from tracker.core.pictures.grids import calendar, heat_map
from tracker.core.pictures.session_figure import session_picture
from tracker.core.schedule import Rolled, Rules, Verdict, since

Run = Callable[..., subprocess.CompletedProcess[str]]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def rolled(day: date, routine: str = "upper_back", active_s: float = 120.0,
           lumbar: int = 0) -> Rolled:
    at = datetime(day.year, day.month, day.day, 18, tzinfo=UTC)
    return Rolled(at, "UTC", routine, active_s if routine == "glutes" else 0.0, (routine,),
                  active_s, lumbar)


def test_the_week_shows_the_rest_day_rule_and_lumbar_contacts() -> None:
    monday = date(2026, 11, 16)
    history = [rolled(monday, "glutes"), rolled(monday + timedelta(days=1), lumbar=2),
               rolled(monday + timedelta(days=2), "glutes")]
    week = week_picture(history, NOW, "UTC", Rules())  # Thursday
    days = {d.day.weekday(): d for d in week.days}
    assert [d.glutes for d in week.days] == [True, False, True, False, False, False, False]
    assert days[1].lumbar == 2 and days[1].areas == ("upper_back",)
    assert days[2].glutes_may is None  # the past has no verdict
    assert days[3].glutes_may is Verdict.TOO_SOON  # today: the day after a glute day
    assert days[4].glutes_may is Verdict.ALLOWED and days[4].future
    assert week.status.done == 2 and week.status.next_allowed == date(2026, 11, 20)


def test_the_weeks_total_each_week_and_shade_each_day() -> None:
    history = [rolled(date(2026, 11, 2), "glutes", 700.0),
               rolled(date(2026, 11, 3), lumbar=1, active_s=100.0),
               rolled(date(2026, 11, 18), active_s=30.0)]
    weeks = weeks_picture(history, NOW, "UTC", Rules(), 4)
    assert [t.start for t in weeks.trends] == [date(2026, 10, 26), date(2026, 11, 2),
                                               date(2026, 11, 9), date(2026, 11, 16)]
    assert [(t.glute_sessions, t.lumbar, t.sessions) for t in weeks.trends] == \
        [(0, 0, 0), (1, 1, 2), (0, 0, 0), (0, 0, 1)]
    assert weeks.trends[1].rolled_s == 800.0
    assert [d.shade for d in weeks.days[1][:3]] == [3, 1, 0]  # 11:40, 1:40, nothing
    assert all(d.future for d in weeks.days[-1][4:])
    assert since(NOW, "UTC", Rules(), 4) == datetime(2026, 10, 24, tzinfo=UTC)


def test_the_session_picture_of_a_stray_into_the_lumbar_band() -> None:
    sim, analysis = kind("stray")
    pic = session_picture(analysis, Body(sim.header.user_height_cm), Rules())
    assert pic.alerts_s and all(0 < t < pic.duration_s for t in pic.alerts_s)
    assert pic.top_cm < pic.lumbar.top_cm < pic.lumbar.bottom_cm < pic.bottom_cm
    assert [b.region for b in pic.bands] == ["thoracic", "lumbar", "glutes"]
    assert list(pic.region_s) == ["thoracic", "lumbar"]  # head first
    assert pic.bouts_s and pic.pauses_s == [b - a for a, b in pic.holds]


def test_without_its_samples_a_session_still_has_regions_but_no_bouts() -> None:
    sim, analysis = kind("both")
    bare = replace(analysis, track_t_s=[], track_s_cm=[], pauses=[])
    pic = session_picture(bare, Body(sim.header.user_height_cm), Rules())
    assert pic.regions and not pic.t_s and not pic.bouts_s and not pic.pauses_s
    text = ANSI.sub("", build(lambda f: draw_session(f, pic), 80, 14))
    assert "glutes" in text and "thoracic" in text


def test_the_track_is_cut_at_lifts() -> None:
    assert pieces([0.0, 0.1, 0.2, 5.0, 5.1], [1, 2, 3, 4, 5]) == \
        [([0.0, 0.1, 0.2], [1, 2, 3]), ([5.0, 5.1], [4, 5])]
    assert time_ticks(75.0) == [0.0, 15.0, 30.0, 45.0, 60.0, 75.0]
    assert time_ticks(1800.0)[:3] == [0.0, 600.0, 1200.0]


@given(st.lists(st.floats(-50, 250), min_size=1, max_size=400), st.floats(0.01, 2.0))
def test_a_long_track_is_drawn_from_each_runs_highest_and_lowest(
        s_cm: list[float], share: float) -> None:
    """Thinned for plotext, whose time grows with every point: about the share asked, in
    time order, and never losing the track's extremes (a stroke's turn into the lumbar
    band is exactly what the chart is for)."""
    t_s = [i / 10 for i in range(len(s_cm))]
    kept_t, kept_s = thinned(t_s, s_cm, share)
    assert kept_t == sorted(set(kept_t)) and set(kept_t) <= set(t_s)
    assert kept_s == [s_cm[round(t * 10)] for t in kept_t]
    assert max(kept_s) == max(s_cm) and min(kept_s) == min(s_cm)
    assert len(kept_t) <= max(len(s_cm) * share + 2, 2) or share >= 1


def test_the_grids_name_every_day() -> None:
    history = [rolled(date(2026, 11, 17), lumbar=1), rolled(date(2026, 11, 18), "glutes")]
    week = week_picture(history, NOW, "UTC", Rules())
    console = Console(width=80, record=True, color_system=None)
    console.print(calendar(week))
    text = console.export_text()
    for name in ("Mon 16", "Thu 19", "Sun 22", "upper", "1 lumbar", "glutes ✓", "glutes ok",
                 "rest"):
        assert name in text, name
    weeks = weeks_picture([rolled(date(2026, 11, 17), lumbar=1)], NOW, "UTC", Rules(), 12)
    lines = heat_map(weeks).plain.splitlines()
    assert [line[:3] for line in lines[1:8]] == [f" {d} " for d in "MTWTFSS"]
    assert "!" in lines[2]  # the Tuesday with a lumbar contact


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three weeks of sessions up to a Thursday evening (:data:`NOW`): the commands run as
    of five minutes later, whatever day the suite runs on."""
    path = tmp_path_factory.mktemp("weeks") / "r.db"
    fill(path, weeks=3).close()
    return path


def at_now(columns: int | None = None) -> dict[str, str]:
    """A command's environment: the clock five minutes after the weeks' last session."""
    env = {"ROLLER_NOW": (NOW + timedelta(minutes=5)).isoformat(), "TZ": "UTC"}
    return env | ({"COLUMNS": str(columns)} if columns else {})


@pytest.mark.parametrize("columns", [60, 160])
def test_session_show_draws_the_session_to_the_terminal_width(
        roller: Run, store_path: Path, columns: int) -> None:
    shown = roller("--db", str(store_path), "session", "show", "5", env=at_now(columns))
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert max(len(line) for line in lines) <= columns
    chart = lines[next(i for i, line in enumerate(lines) if "position along" in line):]
    assert any(line.lstrip().startswith("lumbar┤") for line in chart)
    assert "lumbar alert" in shown.stdout and "time per region" in shown.stdout
    titles = next(line for line in chart if "time per region" in line)
    # wide: time per region, bouts and pauses side by side; narrow: one under another
    assert ("bouts" in titles) == (columns >= 120)
    assert ("pauses" in shown.stdout) and ("bouts" in shown.stdout)


def test_schedule_and_weeks_print_their_pictures(roller: Run, store_path: Path) -> None:
    week = roller("--db", str(store_path), "schedule", env=at_now(80))
    assert week.returncode == 0, week.stderr
    assert "glutes ■" in week.stdout and "next glute session" in week.stdout
    assert "everyone this week" in week.stdout and "Ben" in week.stdout  # nobody named
    ben = roller("--db", str(store_path), "schedule", "--person", "Ben", env=at_now())
    assert "Ben: week of" in ben.stdout and "everyone" not in ben.stdout
    weeks = roller("--db", str(store_path), "weeks", "--weeks", "4", env=at_now(80))
    assert weeks.returncode == 0, weeks.stderr
    assert "the last 4 weeks" in weeks.stdout and " M " in weeks.stdout
    assert "minutes a week" in weeks.stdout and "lumbar (goal 0)" in weeks.stdout
    bad = roller("--db", str(store_path), "weeks", "--weeks", "1")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    nobody = roller("--db", str(store_path), "weeks", "--person", "Zed")
    assert nobody.returncode == 2 and len(nobody.stderr.strip().splitlines()) == 1
