"""The weekly schedule: glutes three times a week, never on consecutive days; no lumbar rolling.

Pure: history and a moment in, answers out. Days and weeks are the user's local calendar
days in an IANA time zone, so a session at 23:30 counts for the day the user lived it, also
across DST changes; each session keeps the zone it was rolled in, so moving to another zone
does not move past sessions to other days.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tracker.core.formats.roller_analysis import Analysis
from tracker.core.limits import check_ranges


@dataclass(frozen=True)
class Rules:
    """``[schedule]`` in the configuration file."""

    glute_sessions_per_week: int = 3
    glute_min_active_s: float = 30.0
    glute_rest_days: int = 1  # days with no glute session between two glute sessions
    week_starts_on: int = 0  # 0 Monday ... 6 Sunday
    bout_min_s: float = 30.0
    bout_max_s: float = 60.0
    pause_min_s: float = 10.0
    pause_max_s: float = 20.0
    stroke_min_s: float = 2.0  # a one-way stroke, at the advised pace
    stroke_max_s: float = 4.0

    def __post_init__(self) -> None:
        check_ranges("schedule", self, {
            "glute_sessions_per_week": (1, 7), "glute_min_active_s": (0, 3600),
            "glute_rest_days": (0, 6), "week_starts_on": (0, 6),
            "bout_min_s": (1, 3600), "bout_max_s": (self.bout_min_s, 3600),
            "pause_min_s": (1, 3600), "pause_max_s": (self.pause_min_s, 3600),
            "stroke_min_s": (0.2, 30), "stroke_max_s": (self.stroke_min_s, 60)})


@dataclass(frozen=True)
class Rolled:
    """What the schedule needs to know of one stored session."""

    started_at: datetime  # aware
    zone: str  # the IANA zone the session was rolled in
    routine: str
    glutes_active_s: float
    areas: tuple[str, ...] = ()  # each part's; empty: the routine alone
    active_s: float = 0.0  # rolling time, for the pictures of the weeks
    lumbar_events: int = 0

    def local_day(self) -> date:
        return self.started_at.astimezone(ZoneInfo(self.zone)).date()


class Verdict(enum.StrEnum):
    ALLOWED = "allowed"
    TOO_SOON = "too_soon"  # a glute session yesterday or already today
    OVER_QUOTA = "over_quota"  # this week's glute sessions are done


class Status(enum.StrEnum):
    ON_TRACK = "on_track"
    BEHIND = "behind"  # the sessions still due no longer fit in the days left
    DONE = "done"
    OVER = "over"


@dataclass(frozen=True)
class WeekStatus:
    today: date
    week_start: date
    done: int
    due: int
    days_left: int  # including today
    verdict: Verdict
    next_allowed: date
    status: Status
    days: dict[date, list[str]]  # the areas rolled each day of this week, in order


def counts(session: Rolled, rules: Rules) -> bool:
    """Whether a session counts as a glute session (enough active rolling on the glutes)."""
    return session.glutes_active_s >= rules.glute_min_active_s


def week_start(day: date, rules: Rules) -> date:
    return day - timedelta(days=(day.weekday() - rules.week_starts_on) % 7)


def since(now: datetime, zone: str, rules: Rules, weeks: int) -> datetime:
    """The earliest moment whose sessions can change the last ``weeks`` weeks at ``now``:
    their verdicts, next glute days and pictures. The first week's start, less the glute rest
    days (a glute session then still makes its first days too soon) and a day for time zones
    (a session counts on its own zone's day). Reading only from here keeps ten years of
    history from slowing a start or a screen down."""
    today = now.astimezone(ZoneInfo(zone)).date()
    first = week_start(today, rules) - timedelta(weeks=weeks - 1,
                                                 days=rules.glute_rest_days + 1)
    return datetime(first.year, first.month, first.day, tzinfo=ZoneInfo(zone))


def glute_days(history: Iterable[Rolled], rules: Rules) -> list[date]:
    """Local days of counting glute sessions, one entry per session, in order."""
    return sorted(s.local_day() for s in history if counts(s, rules))


def verdict_on(day: date, days: Sequence[date], rules: Rules) -> Verdict:
    """May a glute session be rolled on ``day``, given the glute sessions in ``days``?"""
    gap = rules.glute_rest_days
    if any(0 <= (day - d).days <= gap for d in days):
        return Verdict.TOO_SOON
    start = week_start(day, rules)
    in_week = sum(1 for d in days if start <= d < start + timedelta(days=7))
    if in_week >= rules.glute_sessions_per_week:
        return Verdict.OVER_QUOTA
    return Verdict.ALLOWED


def next_allowed(day: date, days: Sequence[date], rules: Rules) -> date:
    """The first day from ``day`` on when a glute session is allowed."""
    candidate = day
    while verdict_on(candidate, days, rules) is not Verdict.ALLOWED:
        candidate += timedelta(days=1)
    return candidate


def week_status(history: Sequence[Rolled], now: datetime, zone: str, rules: Rules) -> WeekStatus:
    """This week at a glance, for the moment ``now`` in the user's zone ``zone``."""
    today = now.astimezone(ZoneInfo(zone)).date()
    start = week_start(today, rules)
    end = start + timedelta(days=7)
    days = glute_days(history, rules)
    done = sum(1 for d in days if start <= d < end)
    due = max(0, rules.glute_sessions_per_week - done)
    days_left = (end - today).days
    upcoming = next_allowed(today, days, rules)
    fit = _sessions_that_fit(upcoming, end, rules) if due else 0
    if done > rules.glute_sessions_per_week:
        status = Status.OVER
    elif due == 0:
        status = Status.DONE
    else:
        status = Status.BEHIND if fit < due else Status.ON_TRACK
    rolled: dict[date, list[str]] = {start + timedelta(days=i): [] for i in range(7)}
    for s in history:
        day = s.local_day()
        if day in rolled:
            rolled[day] += s.areas or (s.routine,)
    return WeekStatus(
        today=today,
        week_start=start,
        done=done,
        due=due,
        days_left=days_left,
        verdict=verdict_on(today, days, rules),
        next_allowed=upcoming,
        status=status,
        days=rolled,
    )


def _sessions_that_fit(first: date, end: date, rules: Rules) -> int:
    """Glute sessions that fit between ``first`` (allowed) and the week's ``end``."""
    if first >= end:
        return 0
    return ((end - first).days - 1) // (rules.glute_rest_days + 1) + 1


@dataclass(frozen=True)
class SessionScore:
    """How a session followed the guide: bouts of 30-60 s, pauses of 10-20 s, slow strokes
    of 2-4 s each way, no lumbar."""

    bouts: list[float]
    bouts_short: int
    bouts_long: int
    pauses: list[float]
    pauses_in_range: int
    lumbar_events: int
    stroke_s: float | None  # a one-way stroke's mean duration (None: no strokes)
    pace: str  # "fast", "good" or "slow" against the guide; "" without strokes


def pace(stroke_s: float | None, rules: Rules) -> str:
    """A one-way stroke's duration against the guide: people left alone roll about 1 s a
    stroke; studies roll 2-4 s, and slow is the advice."""
    if stroke_s is None:
        return ""
    return "fast" if stroke_s < rules.stroke_min_s else "slow" \
        if stroke_s > rules.stroke_max_s else "good"


def stroke_s(active_s: float, strokes: int) -> float | None:
    """A one-way stroke's mean duration: the rolling time over the strokes in it."""
    return active_s / strokes if strokes else None


def score(analysis: Analysis, rules: Rules) -> SessionScore:
    """Bouts are the active stretches between pauses (and between parts: a lift ends one)."""
    edges = [analysis.start_s]
    for a, b in sorted([*analysis.pauses, *analysis.lifts]):
        edges += [a, b]
    edges.append(analysis.start_s + analysis.duration_s)
    bouts = [b - a for a, b in zip(edges[::2], edges[1::2], strict=True) if b - a > 0.5]
    pauses = [b - a for a, b in analysis.pauses]
    return SessionScore(
        bouts=bouts,
        bouts_short=sum(1 for b in bouts if b < rules.bout_min_s),
        bouts_long=sum(1 for b in bouts if b > rules.bout_max_s),
        pauses=pauses,
        pauses_in_range=sum(1 for p in pauses if rules.pause_min_s <= p <= rules.pause_max_s),
        lumbar_events=len(analysis.lumbar_events),
        stroke_s=(mean := stroke_s(analysis.active_s, analysis.strokes)),
        pace=pace(mean, rules),
    )


def glutes_active_s(analysis: Analysis) -> float:
    """Active time (outside pauses) with the contact in the glutes region."""
    total = 0.0
    for seg in analysis.segments:
        if seg.region != "glutes":
            continue
        total += seg.end_s - seg.start_s
        for a, b in analysis.pauses:
            total -= max(0.0, min(b, seg.end_s) - max(a, seg.start_s))
    return total
