"""The clinician's loop closed: comfort scores kept per part, the alerts a clinician would
set, adherence in their units, in the report, ``roller session comfort``, and the person's
figures and alerts as the bridge publishes them."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Callable
from contextlib import closing
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboards.modals import ChoiceScreen
from firmware_sim.session import simulate_parts
from tests.test_cli import assert_one_line_error
from tests.test_dashboard import make_app, notified, wait_for
from tests.weeks import NOW, fill
from tracker.core.adherence import AreaRolled, areas_rolled, figures, followed
from tracker.core.alert_rules import AlertRules
from tracker.core.alerts import alerts, on_score
from tracker.core.body import Body
from tracker.core.comfort import ComfortError, Score, parse_score, trend, usual
from tracker.core.estimate import SessionEstimator
from tracker.core.formats import roller_session as records
from tracker.core.formats.roller_analysis import Part
from tracker.core.prescription import parse
from tracker.core.schedule import Rolled, Rules
from tracker.store import exchange
from tracker.store.clinician import figures as stored_figures
from tracker.store.comfort import NoPart
from tracker.store.opening import open_store

Run = Callable[..., subprocess.CompletedProcess[str]]
#: The person of tests.weeks lives in UTC, whatever zone the suite runs in (make test-clocks).
UTC_USER = {"ROLLER_USER_TIMEZONE": "UTC"}
RULES, ALERTS = Rules(), AlertRules()
#: Upper back five times a week for 2 minutes, glutes twice for 20 strokes; calves kept off
#: for the first two weeks. It began on a Thursday, three weeks before tests.weeks.NOW.
RX = """\
[prescription]
title = "Back and hips"
clinician = "Dr Ana Ruiz"
contact = "ana@example.org"
start = 2026-10-29
end = 2026-12-31
stroke_s = [2, 4]

[[area]]
area = "upper_back"
minutes = 1
per_week = 5

[[area]]
area = "glutes"
strokes = 10
per_week = 2

[[keep_off]]
area = "calves"
reason = "strain"
until = 2026-11-12
"""


def score(day: int, value: int, area: str = "upper_back", seq: int = 0) -> Score:
    """A score given on 2026-11-``day`` at noon."""
    at = datetime(2026, 11, day, 12, tzinfo=UTC)
    return Score(day, seq, area, value, at, at, at.date())


@given(st.text(max_size=12))
def test_a_score_is_a_whole_number_from_0_to_10_or_one_clear_error(text: str) -> None:
    try:
        value = parse_score(text)
    except ComfortError as exc:
        assert "0 (none) to 10 (the worst)" in str(exc) and "\n" not in str(exc)
    else:
        assert 0 <= value <= 10 and str(value) == text.strip().lstrip("0").rjust(1, "0")


@pytest.mark.parametrize(("text", "value"), [("0", 0), (" 7 ", 7), ("10", 10), ("07", 7)])
def test_scores_as_people_type_them(text: str, value: int) -> None:
    assert parse_score(text) == value


@pytest.mark.parametrize("text", ["", "11", "-1", "5.5", "five", "٣", "1e1"])
def test_what_is_not_a_score(text: str) -> None:
    with pytest.raises(ComfortError):
        parse_score(text)


def test_the_usual_is_the_median_of_the_last_five_from_the_third_on() -> None:
    scores = [score(d, v) for d, v in zip(range(1, 8), (9, 9, 2, 3, 2, 4, 3), strict=True)]
    assert usual(scores[:2]) is None
    assert usual(scores[:3]) == 9
    assert usual(scores) == 3  # the last five: 2 3 2 4 3
    assert trend(scores) == ("Upper back: down, 9 on 01 Nov to 3 on 07 Nov over 7 scores, "
                             "usually 3 now.")
    assert trend(scores[:1]) == "Upper back: 9 of 10 on 01 Nov."


def test_a_score_of_7_or_2_above_the_usual_raises_an_alert() -> None:
    before = [score(d, 2) for d in (1, 2, 3)]
    assert on_score(score(4, 3), before, ALERTS) == []
    (rise,) = on_score(score(4, 4), before, ALERTS)
    assert rise.kind == "comfort_rise" and "up from a usual 2" in rise.text
    kinds = [a.kind for a in on_score(score(4, 8), before, ALERTS)]
    assert kinds == ["comfort_high", "comfort_rise"]
    assert [a.kind for a in on_score(score(4, 7), [], ALERTS)] == ["comfort_high"]
    calm = AlertRules(comfort_at_least=9, comfort_rise=7)  # configurable
    assert on_score(score(4, 8), before, calm) == []


def rolled(day: int, *areas: str, month: int = 11) -> Rolled:
    return Rolled(datetime(2026, month, day, 18, tzinfo=UTC), "UTC", areas[0], 0.0, areas,
                  120.0)


def test_the_period_s_alerts_most_urgent_first() -> None:
    rx = parse(RX, "rx.toml")
    sessions = [rolled(2, "upper_back"), rolled(3, "calves"), rolled(20, "upper_back"),
                rolled(21, "calves")]  # the calves kept off to the 12th only
    found = alerts(sessions, [score(d, 2) for d in (2, 3, 20)] + [score(21, 8)],
                   [(rx, None)], date(2026, 11, 1), date(2026, 12, 7), ALERTS)
    assert [(a.kind, a.day) for a in found] == [
        ("kept_off_contact", date(2026, 11, 3)),
        ("comfort_high", date(2026, 11, 21)),
        ("comfort_rise", date(2026, 11, 21)),
        ("not_rolling", date(2026, 11, 17)),  # 3rd to 20th: 17 days
        ("not_rolling", date(2026, 12, 5))]  # and none since the 21st
    assert found[3].text == "17 days from one session to the next, 03 Nov to 20 Nov 2026."
    assert found[4].text == "16 days since the last session, on 21 Nov 2026."
    # a prescription ended before the session keeps nothing off
    ended = datetime(2026, 11, 2, tzinfo=UTC)
    assert not [a for a in alerts(sessions, [], [(rx, ended)], date(2026, 11, 1),
                                  date(2026, 11, 21), ALERTS) if a.kind == "kept_off_contact"]


def test_adherence_week_by_week_from_the_prescription_s_start() -> None:
    rx = parse(RX, "rx.toml")
    rolls = [AreaRolled(date(2026, 11, d), "upper_back", 70.0, 20) for d in
             (1, 2, 3, 4, 5, 6, 9, 10, 17, 18, 19, 20, 21)]
    rolls.append(AreaRolled(date(2026, 11, 4), "upper_back", 20.0, 5))  # under half the dose
    rolls += [AreaRolled(date(2026, 11, d), "glutes", 40.0, 12) for d in (2, 4, 16)]
    upper, glutes = followed(rx, rolls, date(2026, 10, 1), date(2026, 11, 19), RULES)
    # Thu 29 Oct to Sun 1 Nov: 4 of 7 days, 3 sessions prescribed; then full weeks.
    assert [(w.start.day, w.done, w.prescribed, w.full) for w in upper.weeks] == [
        (26, 1, 3, True), (2, 5, 5, True), (9, 2, 5, True), (16, 3, 5, False)]
    assert (upper.done, upper.prescribed) == (8, 13)
    assert upper.sentence() == (
        "Upper back: 8 of 13 sessions in 3 full weeks (5 a week); 3 of 5 this week so far; "
        "1 min prescribed, 1.2 a session; 3.5 s a stroke (good: 2-4 s prescribed).")
    assert glutes.sentence().startswith("Glutes: 2 of 5 sessions in 3 full weeks (2 a week); "
                                        "1 of 2 this week so far; 10 strokes prescribed, 12 a "
                                        "session")


def test_a_session_s_areas_share_its_time_by_span_and_keep_their_strokes() -> None:
    both = Rolled(datetime(2026, 11, 2, 18, tzinfo=UTC), "UTC", "upper_back", 0.0,
                  ("upper_back", "glutes"), 90.0)
    parts = [Part("upper_back", 0, 0, 60, 20), Part("glutes", 60, 65, 95, 11)]
    assert [(r.area, r.active_s, r.strokes) for r in areas_rolled(both, 31, parts)] == [
        ("upper_back", 60.0, 20), ("glutes", 30.0, 11)]
    assert [(r.area, r.active_s, r.strokes) for r in areas_rolled(both, 31, [])] == [
        ("upper_back", 45.0, 15), ("glutes", 45.0, 15)]


def test_figures_count_the_last_30_days_since_the_first_session() -> None:
    today = date(2026, 11, 30)
    sessions = [(rolled(d, "upper_back"), [AreaRolled(date(2026, 11, d), "upper_back", 70.0,
                                                      20)]) for d in (10, 11, 20)]
    none = figures([], None, None, [], [], today, RULES)
    assert (none.days_rolled, none.days_counted, none.days_since_rolled) == (0, 0, None)
    some = figures(sessions, date(2026, 11, 20), date(2026, 11, 10), [], [score(20, 4)],
                   today, RULES)
    assert (some.days_rolled, some.days_counted, some.days_since_rolled) == (3, 21, 10)
    assert some.prescribed_this_week is None and some.last_comfort == score(20, 4)
    rx = parse(RX, "rx.toml")
    running = figures(sessions, date(2026, 11, 20), date(2026, 11, 10), [(rx, None)], [],
                      today, RULES)
    assert (running.prescribed_this_week, running.done_this_week) == (7, 0)


def test_scores_are_kept_per_part_replaced_and_raise_their_alerts(tmp_path: Path) -> None:
    with closing(fill(tmp_path / "r.db", weeks=2)) as store:
        sessions = store.sessions(person=store.people.default().id)
        both = next(r for r in sessions if len(r.areas) == 2)
        upper = [r.id for r in sessions if r.areas == ("upper_back",)]
        for i, value in enumerate((2, 2, 3)):
            store.comfort.give(upper[i], value, NOW - timedelta(hours=3 - i), ALERTS)
        store.comfort.give(both.id, 6, NOW, ALERTS, seq=0)  # the upper back: up 4
        given = store.comfort.give(both.id, 8, NOW, ALERTS)  # its last part: the glutes
        assert (given.area, given.seq) == ("glutes", 1)
        assert store.comfort.of_session(both.id) == {0: 6, 1: 8}
        store.comfort.give(both.id, 3, NOW, ALERTS)  # corrected
        assert store.comfort.of_session(both.id) == {0: 6, 1: 3}
        events = [json.loads(r["payload"]) for r in store.outbox.pending(1000)
                  if r["kind"] == "comfort_alert"]
        assert [(e["kind"], e["area"], e["score"]) for e in events] == [
            ("comfort_rise", "upper_back", 6), ("comfort_high", "glutes", 8)]
        with pytest.raises(NoPart, match="has no part 3"):
            store.comfort.give(both.id, 3, NOW, ALERTS, seq=2)
        with pytest.raises(NoPart, match="no session 9999"):
            store.comfort.give(9999, 3, NOW, ALERTS)
        # a re-analysis writes the parts again; the scores stay
        store.replace_analysis(both.id, store.session_detail(both.id).analysis(
            store.session(both.id)))
        assert store.comfort.of_session(both.id) == {0: 6, 1: 3}
        store.delete_session(both.id)
        assert store.comfort.of_session(both.id) == {}


def test_a_person_s_alert_of_days_without_rolling_is_queued_once(tmp_path: Path) -> None:
    with closing(open_store(tmp_path / "r.db")) as store:
        me = store.people.default()
        for _ in range(2):
            queued = store.outbox.person_alert(me.id, me.uid, "not_rolling_alert",
                                               "2026-11-01", NOW, days=18)
            assert queued is (_ == 0)
        (row,) = store.outbox.pending()
        assert json.loads(row["payload"])["person"] == me.uid
    with closing(open_store(tmp_path / "r.db")) as store:  # nor after a restart
        assert not store.outbox.person_alert(me.id, me.uid, "not_rolling_alert", "2026-11-01",
                                             NOW, days=19)


def test_the_stored_figures_of_a_person(tmp_path: Path) -> None:
    with closing(fill(tmp_path / "r.db")) as store:
        me = store.people.default()
        store.prescriptions.add(me, "rx.toml", RX)
        found = stored_figures(store, store.people.default(), RULES, "UTC", NOW)
    assert found.days_since_rolled == 0 and found.days_counted == 30
    assert 15 <= found.days_rolled <= 30
    assert [a.dose.area for a in found.areas] == ["upper_back", "glutes"]
    assert found.prescribed_this_week == 7 and found.done_this_week is not None


@pytest.mark.cli
def test_roller_session_comfort_and_the_report_a_clinician_reads(tmp_path: Path,
                                                                 roller: Run) -> None:
    db = tmp_path / "r.db"
    with closing(fill(db)) as store:
        me = store.people.default()
        store.prescriptions.add(me, "rx.toml", RX)
        ids = [r.id for r in store.sessions(person=me.id)]
    for i, (session_id, value) in enumerate(zip(ids[-6:], "232328", strict=True)):
        given = roller("--db", str(db), "session", "comfort", str(session_id), value,
                       env={"ROLLER_NOW": (NOW + timedelta(minutes=i)).isoformat(), **UTC_USER})
        assert given.returncode == 0, given.stderr
        assert f"comfort {value} of 10 kept for the" in given.stderr
    assert_one_line_error(roller("--db", str(db), "session", "comfort", str(ids[0]), "11"),
                          "0 (none) to 10 (the worst)")
    assert_one_line_error(roller("--db", str(db), "session", "comfort", "99999", "3"),
                          "99999")
    assert_one_line_error(roller("--db", str(db), "session", "comfort", str(ids[0]), "3",
                                 "--part", "9"), "has no part 9")
    week = roller("--db", str(db), "schedule", env={"ROLLER_NOW": (NOW + timedelta(
        minutes=9)).isoformat(), **UTC_USER})
    assert week.returncode == 0, week.stderr
    said = " ".join(week.stdout.split())
    assert "Rolled on" in said and "of the last 30 days; last today." in said
    assert "Upper back: " in said and "sessions a week" not in said  # weeks counted
    assert "Last comfort score: 8 of 10" in said
    assert "Comfort, the last 30 days: Upper back: up, 2 on" in said
    made = roller("--db", str(db), "report", "--now", NOW.isoformat(), "-o",
                  str(tmp_path / "r.html"), env=UTC_USER)
    assert made.returncode == 0, made.stderr
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    order = [html.index(f'id="{name}"') for name in ("alerts", "prescription", "adherence",
                                                      "comfort", "sessions")]
    assert order == sorted(order)  # the alerts first
    assert "<strong>Comfort:</strong> Upper back scored 8 of 10 on 19 Nov 2026 (the alert is " \
        "at 7 or worse)." in html and "An alert is raised at 7 or worse" in html
    assert "<td>upper back 8</td>" in html  # the session's row
    assert 'id="chart-comfort"' in html and 'class="comfort-trend"' in html
    assert "Back and hips: prescribed by Dr Ana Ruiz" in html
    assert html.count('class="rx-area"') == 2 and 'id="rx-weeks"' in html


@pytest.mark.bluetooth
def test_the_dashboard_s_key_scores_the_area_under_way(tmp_path: Path) -> None:
    """f during a session: the score is the part's under way, kept at once, and an 8 is an
    alert for MQTT."""
    app = make_app(tmp_path, "upper_back", seconds=600, speed=1)

    async def main() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(lambda: app.session is not None and app.session.recorder
                           and app.session.recorder.session_id, 30)
            await pilot.press("f")
            assert isinstance(app.screen, ChoiceScreen)
            for _ in range(8):
                await pilot.press("down")
            await pilot.press("enter")
            await wait_for(lambda: app.screen is app.get_screen("live"), 5)
            assert notified(app)[-1] == "comfort 8 of 10 kept for the upper back"
            await pilot.press("q")

    asyncio.run(main())
    (row,) = app.store.sessions()
    assert app.store.comfort.of_session(row.id) == {0: 8}
    assert [r["kind"] for r in app.store.outbox.pending(1000)].count("comfort_alert") == 1
    app.store.close()


def test_scores_travel_with_the_session_to_a_central_store(tmp_path: Path) -> None:
    """A session's scores go in its roller-session/1 record (an older gateway's has none),
    and a bad one refuses the record."""
    with closing(fill(tmp_path / "gym.db", weeks=1)) as gym:
        session_id = gym.sessions()[-1].id
        gym.comfort.give(session_id, 4, NOW, ALERTS)
        sent = records.encode(exchange.record(gym, session_id, "gym"))
    with closing(open_store(tmp_path / "central.db")) as central:
        taken = exchange.take(central, records.parse(sent))
        assert taken is not None and central.comfort.of_session(taken) == {0: 4}
        with closing(open_store(tmp_path / "gym.db")) as gym:  # corrected once it was sent
            gym.outbox.records = True
            gym.comfort.give(session_id, 6, NOW + timedelta(minutes=5), ALERTS)
            assert [r["kind"] for r in gym.outbox.pending(1000)][-1] == "session_record"
            again = exchange.record(gym, session_id, "gym")
        assert exchange.take(central, again) is None  # the session is taken once ...
        assert central.comfort.of_session(taken) == {0: 6}  # ... its scores since, too
        assert exchange.take(central, records.parse(sent)) is None  # an old copy: no effect
        assert central.comfort.of_session(taken) == {0: 6}
    older = json.loads(sent)
    del older["comfort"]
    assert records.parse(json.dumps(older).encode()).details["comfort"] == []
    for bad in (11, -1, 4.0, True):
        older["comfort"] = [[0, "upper_back", bad, NOW.isoformat()]]
        with pytest.raises(records.RecordError, match="is not a score"):
            records.parse(json.dumps(older).encode())
    older["comfort"] = [[0, "lumbar", 3, NOW.isoformat()]]
    with pytest.raises(records.RecordError, match="area 'lumbar'"):
        records.parse(json.dumps(older).encode())


def test_a_score_between_two_areas_is_the_one_just_rolled() -> None:
    """A person rates the area they just rolled: while the next is asked for and not yet
    rolled, "this area" is the part behind them, never the one ahead."""
    sim = simulate_parts([("upper_back", 40.0), ("glutes", 40.0)], "clean", seed=1,
                         sample_rate_hz=50.0)
    h, t0 = sim.header, float(sim.samples[0, 0])
    est = SessionEstimator(h.routine, Body(h.user_height_cm), h.roller_diameter_cm,
                           h.sample_rate_hz, None,
                           [replace(p, at_s=t0 + p.at_s) for p in h.parts])
    assert est.rolled_part is None  # nothing rolled yet: nothing to score
    seen = []
    for chunk in np.array_split(sim.samples, len(sim.samples) // 25):
        est.feed(chunk[:, 0], chunk[:, 1:4], chunk[:, 4:7])
        seen.append((est.rolled_part, est.routine))
    parts = [rolled for rolled, _ in seen]
    assert parts[0] == (0, "upper_back") and parts[-1] == (1, "glutes")
    assert ((0, "upper_back"), "glutes") in seen  # glutes asked for, the upper back rolled
    assert parts.index((1, "glutes")) > max(i for i, (_, asked) in enumerate(seen)
                                            if asked == "upper_back")


def test_a_prescription_ended_early_is_counted_to_the_day_it_ended() -> None:
    rx = parse(RX, "rx.toml")
    rolls = [AreaRolled(date(2026, 11, d), "upper_back", 70.0, 20) for d in (2, 3, 4)]
    upper, _ = followed(rx, rolls, date(2026, 10, 1), date(2026, 12, 7), RULES,
                        ended=date(2026, 11, 4))  # a Wednesday: 3 of the week's 7 days
    assert [(w.start.day, w.done, w.prescribed, w.full) for w in upper.weeks] == [
        (26, 0, 3, True), (2, 3, 2, True)]


@pytest.mark.cli
def test_the_report_says_a_stretch_without_rolling_that_began_before_it(
        tmp_path: Path, roller: Run) -> None:
    """The last session a month before the report's weeks began: the days since are an
    alert, although no session of the period's shows where they began."""
    db = tmp_path / "r.db"
    fill(db, weeks=1).close()  # up to Thursday 19 Nov
    later = NOW + timedelta(weeks=8)
    made = roller("--db", str(db), "report", "--weeks", "4", "--now", later.isoformat(),
                  "-o", str(tmp_path / "r.html"), env=UTC_USER)
    assert made.returncode == 0, made.stderr
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<strong>Not rolling:</strong> 56 days since the last session, on 19 Nov 2026." \
        in html
