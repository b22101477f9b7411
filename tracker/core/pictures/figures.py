"""What the pictures show of the calendar: the week and the weeks (one session's is
:mod:`~tracker.core.pictures.session_figure`). Pure: stored sessions in, plain values out.

Three painters draw these: :mod:`~tracker.core.pictures.charts` on a terminal (``roller session
show``, ``roller schedule``, ``roller weeks``), the dashboard's screens, and
:mod:`~tracker.core.pictures.share`'s report. Working the figures out once, here, is what keeps
the three telling the same story.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tracker.core.schedule import (
    Rolled,
    Rules,
    Verdict,
    WeekStatus,
    counts,
    glute_days,
    verdict_on,
    week_start,
    week_status,
)

#: Rolling time a day that moves a heat-map cell up one shade: none, a little (under 5 min),
#: a session's worth (5-10 min), a long one (10-20 min), more.
SHADES_S = (0.0, 300.0, 600.0, 1200.0)


@dataclass(frozen=True)
class Day:
    """One calendar day of one person's rolling."""

    day: date
    areas: tuple[str, ...]  # what was rolled, in the order first rolled
    rolled_s: float  # active rolling time
    sessions: int
    lumbar: int  # lumbar contacts
    glutes: bool  # a glute session that counts towards the quota
    glutes_may: Verdict | None  # from today on: may glutes be rolled then; None: past
    future: bool

    @property
    def shade(self) -> int:
        """0 (nothing rolled) to 4: the heat map's step for this day's rolling time."""
        return sum(1 for step in SHADES_S if self.rolled_s > step)


@dataclass(frozen=True)
class WeekPicture:
    """The week under way: its seven days, the glute quota and the rest-day rule."""

    status: WeekStatus
    quota: int
    days: list[Day]


@dataclass(frozen=True)
class WeekTrend:
    """One week's totals: what the trend lines plot."""

    start: date
    rolled_s: float
    sessions: int
    glute_sessions: int
    lumbar: int


@dataclass(frozen=True)
class WeeksPicture:
    """The last weeks, oldest first: each week's seven days (the heat map) and totals."""

    today: date
    quota: int
    days: list[list[Day]]
    trends: list[WeekTrend]


def _days(history: Sequence[Rolled], glutes_on: Sequence[date], first: date, count: int,
          today: date, rules: Rules) -> list[Day]:
    """``count`` days from ``first``; a future day's glute verdict is as things stand today
    (``glutes_on``: the history's glute days)."""
    by_day: dict[date, list[Rolled]] = {}
    for s in history:
        by_day.setdefault(s.local_day(), []).append(s)
    days = []
    for i in range(count):
        day = first + timedelta(days=i)
        rolled = sorted(by_day.get(day, []), key=lambda s: s.started_at)
        areas = [area for s in rolled for area in (s.areas or (s.routine,))]
        days.append(Day(
            day=day,
            areas=tuple(dict.fromkeys(areas)),
            rolled_s=sum(s.active_s for s in rolled),
            sessions=len(rolled),
            lumbar=sum(s.lumbar_events for s in rolled),
            glutes=any(counts(s, rules) for s in rolled),
            glutes_may=verdict_on(day, glutes_on, rules) if day >= today else None,
            future=day > today,
        ))
    return days


def week_picture(history: Sequence[Rolled], now: datetime, zone: str,
                 rules: Rules) -> WeekPicture:
    """This week for the moment ``now`` in ``zone``; ``history`` needs to reach back only
    to :func:`~tracker.core.schedule.since` for ``weeks=1``."""
    status = week_status(history, now, zone, rules)
    return WeekPicture(status, rules.glute_sessions_per_week,
                       _days(history, glute_days(history, rules), status.week_start, 7,
                             status.today, rules))


def weeks_picture(history: Sequence[Rolled], now: datetime, zone: str, rules: Rules,
                  weeks: int) -> WeeksPicture:
    """The last ``weeks`` weeks, this one included."""
    today = now.astimezone(ZoneInfo(zone)).date()
    first = week_start(today, rules) - timedelta(weeks=weeks - 1)
    glutes_on = glute_days(history, rules)
    days = _days(history, glutes_on, first, 7 * weeks, today, rules)
    by_week = [days[i:i + 7] for i in range(0, len(days), 7)]
    trends = [WeekTrend(start=week[0].day, rolled_s=sum(d.rolled_s for d in week),
                        sessions=sum(d.sessions for d in week),
                        glute_sessions=sum(1 for d in glutes_on
                                           if week[0].day <= d <= week[-1].day),
                        lumbar=sum(d.lumbar for d in week))
              for week in by_week]
    return WeeksPicture(today, rules.glute_sessions_per_week, by_week, trends)

