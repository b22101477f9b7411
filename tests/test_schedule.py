"""The schedule engine against brute-force recounts over random histories, zones and DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.core.schedule import (
    Rolled,
    Rules,
    Status,
    Verdict,
    next_allowed,
    verdict_on,
    week_status,
)

RULES = Rules()
ZONES = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC",
         "Pacific/Chatham", "America/St_Johns"]
# Around the 2026 DST changes in Europe (29 Mar, 25 Oct), the US (8 Mar, 1 Nov), Australia.
moments = st.datetimes(min_value=datetime(2026, 3, 1), max_value=datetime(2026, 11, 30),
                       timezones=st.just(UTC))
sessions = st.builds(
    Rolled,
    started_at=moments,
    zone=st.sampled_from(ZONES),
    routine=st.sampled_from(["glutes", "upper_back"]),
    glutes_active_s=st.sampled_from([0.0, 29.9, 30.0, 45.0, 120.0]),
)


def zoned(day: int, hour: int, zone: str = "Europe/Berlin", active: float = 60.0) -> Rolled:
    local = datetime(2026, 11, day, hour, tzinfo=ZoneInfo(zone))
    return Rolled(local.astimezone(UTC), zone, "glutes", active)


def test_three_a_week_never_on_consecutive_days() -> None:
    history = [zoned(16, 19), zoned(18, 7)]  # Monday evening, Wednesday morning
    now = datetime(2026, 11, 19, 20, tzinfo=ZoneInfo("Europe/Berlin"))  # Thursday
    status = week_status(history, now, "Europe/Berlin", RULES)
    assert (status.done, status.due, status.days_left) == (2, 1, 4)
    assert status.verdict is Verdict.TOO_SOON
    assert status.next_allowed == date(2026, 11, 20)
    assert status.status is Status.ON_TRACK
    history.append(zoned(20, 8))
    status = week_status(history, now + timedelta(days=1), "Europe/Berlin", RULES)
    assert status.status is Status.DONE and status.verdict is Verdict.TOO_SOON
    assert status.next_allowed == date(2026, 11, 23)  # next Monday


def test_behind_when_the_sessions_due_no_longer_fit() -> None:
    now = datetime(2026, 11, 20, 9, tzinfo=ZoneInfo("Europe/Berlin"))  # Friday, none done
    status = week_status([], now, "Europe/Berlin", RULES)
    assert status.due == 3 and status.status is Status.BEHIND  # Fri, Sun: only two fit


def test_a_short_glute_session_does_not_count() -> None:
    now = datetime(2026, 11, 17, 9, tzinfo=UTC)
    status = week_status([zoned(16, 19, active=29.0)], now, "Europe/Berlin", RULES)
    assert status.done == 0 and status.verdict is Verdict.ALLOWED


def test_late_evening_counts_for_the_local_day() -> None:
    late = zoned(16, 23, "America/New_York")  # Tuesday 04:00 UTC, Monday in New York
    assert late.local_day() == date(2026, 11, 16)


def brute_force_done(history: list[Rolled], now: datetime, zone: str) -> int:
    today = now.astimezone(ZoneInfo(zone)).date()
    this_week = today.isocalendar()[:2]
    return sum(
        1 for s in history
        if s.glutes_active_s >= 30.0
        and s.started_at.astimezone(ZoneInfo(s.zone)).date().isocalendar()[:2] == this_week
    )


@given(st.lists(sessions, max_size=25), moments, st.sampled_from(ZONES))
@settings(max_examples=300, deadline=None)
def test_counts_agree_with_a_brute_force_recount(
    history: list[Rolled], now: datetime, zone: str
) -> None:
    status = week_status(history, now, zone, RULES)
    done = brute_force_done(history, now, zone)
    assert status.done == done
    assert status.due == max(0, 3 - done)
    assert status.status is (Status.OVER if done > 3 else Status.DONE if done == 3
                             else status.status)
    assert sum(len(v) for v in status.days.values()) == sum(
        1 for s in history if status.week_start <= s.local_day() < status.week_start
        + timedelta(days=7)
    )


@given(st.lists(sessions, max_size=25), moments, st.sampled_from(ZONES))
@settings(max_examples=300, deadline=None)
def test_verdict_and_next_allowed_day_are_consistent(
    history: list[Rolled], now: datetime, zone: str
) -> None:
    status = week_status(history, now, zone, RULES)
    days = sorted(s.local_day() for s in history if s.glutes_active_s >= 30.0)
    today = status.today
    if status.verdict is Verdict.ALLOWED:
        assert today not in days and today - timedelta(days=1) not in days
        assert status.next_allowed == today
    assert verdict_on(status.next_allowed, days, RULES) is Verdict.ALLOWED
    day = today
    while day < status.next_allowed:
        assert verdict_on(day, days, RULES) is not Verdict.ALLOWED
        day += timedelta(days=1)
    assert next_allowed(status.next_allowed, days, RULES) == status.next_allowed
