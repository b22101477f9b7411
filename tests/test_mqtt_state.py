"""The bridge's state payloads from plain values: no broker, no store."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from tracker import __version__
from tracker.core.adherence import areas_rolled, figures
from tracker.core.estimate import LiveState
from tracker.core.people import Person
from tracker.core.schedule import Rules, WeekStatus, week_status
from tracker.core.status import Status
from tracker.mqtt.messages import PERSON_KEYS, STATE_KEYS, encode
from tracker.mqtt.state import (
    IDLE,
    URGENT,
    bridge_info,
    live_position,
    live_values,
    person_state,
    roller_state,
    urgent,
)
from tracker.store.rows import SessionRow

RULES = Rules()
#: A person's clinician figures with nothing rolled, prescribed or scored.
NONE = figures([], None, None, [], [], date(2026, 11, 19), RULES)
NOW = datetime(2026, 11, 19, 20, tzinfo=UTC)  # a Thursday
ZONES = ["Europe/Berlin", "America/New_York", "Pacific/Chatham", "UTC"]
ME = Person(1, "0a1b2c3d", "Ada")


def row(started_at: datetime, *, status: str = "complete", duration_s: float = 60.0,
        active_s: float = 45.0, lumbar_events: int = 0, zone: str = "UTC",
        routine: str = "upper_back", glutes_active_s: float = 0.0) -> SessionRow:
    return SessionRow(
        id=1, routine=routine, status=status, started_at=started_at,
        ended_at=None if status == "live" else started_at + timedelta(seconds=duration_s),
        zone=zone, duration_s=duration_s, active_s=active_s, strokes=int(duration_s),
        cadence_cpm=duration_s / 1.3, lumbar_events=lumbar_events, caution_events=0,
        glutes_active_s=glutes_active_s, override=False, verdict=None, person_id=1,
        areas=(routine,))


def week_of(rows: Sequence[SessionRow], now: datetime = NOW, zone: str = "UTC") -> WeekStatus:
    return week_status([r.rolled() for r in rows], now, zone, RULES)


def live(region: str = "upper_back", lumbar: bool = False, caution: bool = False,
         s_cm: float = 30.0, s_sd_cm: float = 2.0) -> LiveState:
    return LiveState(t_s=1.0, s_cm=s_cm, s_sd_cm=s_sd_cm, region=region, lumbar=lumbar,
                     alerts_s=[], caution=caution, cautions_s=[], strokes=3, active_s=4.0,
                     paused_s=0.0, bout_s=4.0, pause_s=0.0)


def test_a_roller_nothing_is_known_of_has_every_key_null_or_false() -> None:
    week = week_of([])
    state = roller_state({}, [], week, "UTC")
    assert list(state) == list(STATE_KEYS)
    assert state == {key: None for key in STATE_KEYS} | {
        "session_active": False, "connected": False, "lumbar_contact": False,
        "lumbar_caution": False, "override_next": False, "glute_sessions_this_week": 0,
        "schedule_status": str(week.status), "next_glute_day": "2026-11-19",
        "last_reset": "2026-11-16T00:00:00+00:00"}


def test_a_rollers_last_session_is_its_last_finished_one_rounded() -> None:
    done = row(NOW - timedelta(days=2), duration_s=61.26, active_s=44.44)
    under_way = row(NOW - timedelta(minutes=5), status="live", duration_s=10.0)
    state = roller_state({"connected": True, "session_active": True, "region": "mid_back",
                          "battery_pct": 81, "next_routine": "glutes"},
                         [done, under_way], week_of([done, under_way]), "UTC", "Hall 01:01")
    assert state["last_session_duration_s"] == 61.3
    assert state["last_session_active_s"] == 44.4
    assert state["last_session_strokes"] == 61
    assert state["last_session_cadence_cpm"] == 47.1
    assert state["last_session_ended_at"] == "2026-11-17T20:01:01.260000+00:00"
    assert (state["connected"], state["session_active"], state["region"],
            state["battery_pct"], state["next_routine"]) == (True, True, "mid_back", 81,
                                                             "glutes")
    assert state["name"] == "Hall 01:01"


def test_a_persons_week_counts_what_they_rolled_since_it_began() -> None:
    last_week = row(datetime(2026, 11, 15, 10, tzinfo=UTC), active_s=50.0, lumbar_events=4)
    monday = row(datetime(2026, 11, 16, 10, tzinfo=UTC), active_s=45.04, lumbar_events=1,
                 routine="glutes", glutes_active_s=45.0)
    wednesday = row(datetime(2026, 11, 18, 10, tzinfo=UTC), active_s=30.0, lumbar_events=2)
    rows = [last_week, monday, wednesday]
    week = week_of(rows)
    rolled = figures([(r.rolled(), areas_rolled(r.rolled(), r.strokes, [])) for r in rows],
                     date(2026, 11, 18), date(2026, 11, 15), [], [], date(2026, 11, 19), RULES)
    state = person_state(ME, RULES, week, rows, rows, "UTC", rolled)
    assert list(state) == list(PERSON_KEYS)
    assert state == {
        "name": "Ada", "glute_sessions_this_week": 1, "glute_sessions_per_week": 3,
        "schedule_status": str(week.status), "next_glute_day": "2026-11-19",
        "sessions_this_week": 2, "rolling_s_this_week": 75.0, "lumbar_contacts_this_week": 3,
        "last_session_ended_at": "2026-11-18T10:01:00+00:00",
        "last_reset": "2026-11-16T00:00:00+00:00",
        # rolled on 3 of the 5 days since the first session, 1 day ago; no prescription
        "days_rolled_last_30": 3, "days_since_rolled": 1, "prescribed_sessions_this_week": None,
        "prescribed_sessions_done_this_week": None, "kept_off_contacts_this_week": 0,
        "last_comfort": None, "last_comfort_area": None}


def test_a_persons_own_quota_and_a_session_from_long_ago() -> None:
    ben = Person(2, "1a2b3c4d", "Ben", rules={"glute_sessions_per_week": 2})
    long_ago = row(datetime(2026, 9, 1, 10, tzinfo=UTC))
    state = person_state(ben, RULES, week_of([]), [], [long_ago], "UTC", NONE)
    assert state["glute_sessions_per_week"] == 2
    assert (state["sessions_this_week"], state["rolling_s_this_week"]) == (0, 0)
    assert state["last_session_ended_at"] == "2026-09-01T10:01:00+00:00"
    assert person_state(ben, RULES, week_of([]), [], [], "UTC", NONE)["last_session_ended_at"] \
        is None


def test_a_live_status_as_the_rollers_live_values() -> None:
    rolling = Status("live", 0, live("lower_back", lumbar=True, caution=True), 0.0, 77,
                     recording=True, routine="upper_back")
    assert live_values(rolling) == {
        "connected": True, "session_active": True, "routine": "upper_back",
        "region": "lower_back", "lumbar_contact": True, "lumbar_caution": True,
        "battery_pct": 77, "rssi_dbm": None}
    waiting = Status("reconnecting", 2, live("lower_back", lumbar=True), 0.0, None,
                     routine="upper_back")  # not recording: nothing of a session shows
    assert live_values(waiting) == {
        "connected": False, "session_active": False, "routine": None, "region": None,
        "lumbar_contact": False, "lumbar_caution": False, "battery_pct": None,
        "rssi_dbm": None}


def test_the_bridges_info_and_the_live_position() -> None:
    info = bridge_info("gym", 4, [{"connected": True}, {}, {"connected": False}])
    assert json.loads(encode(info)) == {"version": __version__, "host": "gym",
                                        "outbox_pending": 4, "rollers_known": 3,
                                        "rollers_connected": 1, "permit_join": False}
    assert list(info) == ["version", "host", "outbox_pending", "rollers_known",
                          "rollers_connected", "permit_join"]
    assert bridge_info("gym", 0, [], permit_join=True)["permit_join"] is True
    assert encode(live_position(live("glutes", s_cm=40.06, s_sd_cm=2.345))) == \
        b'{"region":"glutes","s_cm":40.1,"s_sd_cm":2.3}'


moments = st.datetimes(min_value=datetime(2026, 3, 1), max_value=datetime(2026, 11, 30),
                       timezones=st.just(UTC))
statuses = st.builds(
    Status, link=st.sampled_from(["connecting", "live", "reconnecting", "lost"]),
    attempt=st.just(0),
    state=st.none() | st.builds(live, region=st.sampled_from(["upper_back", "lower_back"]),
                                lumbar=st.booleans(), caution=st.booleans()),
    loss_pct=st.just(0.0), battery_pct=st.none() | st.integers(0, 100),
    recording=st.booleans(), routine=st.none() | st.just("upper_back"))


@given(statuses, statuses)
def test_what_goes_out_at_once_is_an_alert_or_a_session_starting_or_ending(
        before: Status, after: Status) -> None:
    now = live_values(before)
    values = live_values(after)
    changed = {key for key in URGENT if now[key] != values[key]}
    assert urgent(now, values) is bool(changed)
    assert not urgent(now | values, values)  # once taken, the same values are not news
    assert urgent(now, IDLE) is any(now[key] for key in URGENT)
    assert set(IDLE) <= set(values) <= set(STATE_KEYS)


@st.composite
def sessions(draw: st.DrawFn, now: datetime, zone: str) -> SessionRow:
    """One of the sessions the bridge reads: started in the eight days to ``now``."""
    return row(now - timedelta(seconds=draw(st.integers(0, 8 * 86400))),
               status=draw(st.sampled_from(["complete", "interrupted", "live"])),
               duration_s=draw(st.floats(1.0, 3600.0)), active_s=draw(st.floats(0.0, 900.0)),
               lumbar_events=draw(st.integers(0, 5)), zone=zone,
               routine=draw(st.sampled_from(["glutes", "upper_back", "calves"])),
               glutes_active_s=draw(st.sampled_from([0.0, 29.9, 30.0, 120.0])))


@st.composite
def weeks(draw: st.DrawFn) -> tuple[datetime, str, list[SessionRow]]:
    now, zone = draw(moments), draw(st.sampled_from(ZONES))
    rows = draw(st.lists(sessions(now, zone), max_size=12))
    return now, zone, sorted(rows, key=lambda r: r.started_at)


lives = st.fixed_dictionaries({}, optional={
    "session_active": st.booleans(), "connected": st.booleans(),
    "routine": st.sampled_from(["glutes", "upper_back"]),
    "region": st.sampled_from(["glutes", "lower_back"]), "lumbar_contact": st.booleans(),
    "lumbar_caution": st.booleans(), "battery_pct": st.integers(0, 100),
    "next_routine": st.sampled_from(["glutes", "calves"]), "override_next": st.booleans()})


@given(weeks(), lives)
@settings(max_examples=200, deadline=None)
def test_a_rollers_state_always_has_every_key_and_its_last_finished_session(
        history: tuple[datetime, str, list[SessionRow]], now_live: dict[str, Any]) -> None:
    now, zone, rows = history
    week = week_of(rows, now, zone)
    state = roller_state(now_live, rows, week, zone)
    assert list(state) == list(STATE_KEYS)
    assert json.loads(encode(state)) == state  # plain JSON, nothing lost
    finished = [r for r in rows if r.status != "live"]
    if finished:
        last = finished[-1]
        assert last.ended_at is not None and state["last_session_strokes"] == last.strokes
        assert state["last_session_ended_at"] == last.ended_at.isoformat()
    else:
        assert state["last_session_duration_s"] is state["last_session_ended_at"] is None
    for key in ("session_active", "connected", "lumbar_contact", "lumbar_caution",
                "override_next"):
        assert state[key] is bool(now_live.get(key))
    assert (state["glute_sessions_this_week"], state["next_glute_day"]) == (
        week.done, week.next_allowed.isoformat())
    began = datetime.fromisoformat(state["last_reset"])  # the week's totals reset then
    assert began.astimezone(ZoneInfo(zone)).date() == week.week_start
    assert began <= now and (began.hour, began.minute) == (0, 0)


@given(weeks())
@settings(max_examples=200, deadline=None)
def test_a_persons_week_agrees_with_the_schedules_days(
        history: tuple[datetime, str, list[SessionRow]]) -> None:
    """Rolled in the person's own zone, up to now: the sessions of the week are those the
    schedule puts on this week's days."""
    now, zone, rows = history
    person = Person(1, "0a1b2c3d", "Ada", zone=zone)
    week = week_of(rows, now, zone)
    state = person_state(person, RULES, week, rows, rows, zone, NONE)
    this_week = [r for r in rows if r.rolled().local_day() in week.days]
    assert state["sessions_this_week"] == sum(len(areas) for areas in week.days.values())
    assert state["sessions_this_week"] == len(this_week)
    assert state["rolling_s_this_week"] == round(sum(r.active_s for r in this_week), 1)
    assert state["lumbar_contacts_this_week"] == sum(r.lumbar_events for r in this_week)
    assert state["glute_sessions_this_week"] == week.done <= len(this_week)
    ended = [r.ended_at for r in rows if r.ended_at]
    assert state["last_session_ended_at"] == (max(ended).isoformat() if ended else None)
    assert state["last_reset"] == datetime.combine(week.week_start, datetime.min.time(),
                                                   ZoneInfo(zone)).isoformat()
    assert json.loads(encode(state)) == state
