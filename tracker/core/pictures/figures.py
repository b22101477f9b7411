"""What the pictures show: one session, the week, the weeks. Pure: analyses and stored
sessions in, plain values out.

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

from tracker.core.body import LUMBAR, REGIONS, Body
from tracker.core.formats.roller_analysis import Analysis
from tracker.core.schedule import (
    Rolled,
    Rules,
    Verdict,
    WeekStatus,
    counts,
    glute_days,
    score,
    verdict_on,
    week_start,
    week_status,
)

#: Rolling time a day that moves a heat-map cell up one shade: none, a little (under 5 min),
#: a session's worth (5-10 min), a long one (10-20 min), more.
SHADES_S = (0.0, 300.0, 600.0, 1200.0)
MARGIN_CM = 3.0  # the view's room above and below the track and the lumbar band


@dataclass(frozen=True)
class Band:
    """A body region's stretch of the view, from the head down."""

    region: str
    top_cm: float
    bottom_cm: float

    @property
    def mid_cm(self) -> float:
        return (self.top_cm + self.bottom_cm) / 2


@dataclass(frozen=True)
class SessionPicture:
    """One session as the charts draw it; times are seconds from its start."""

    duration_s: float
    t_s: list[float]  # the contact's track; empty when its samples were not kept
    s_cm: list[float]
    top_cm: float  # the view, head side
    bottom_cm: float
    bands: list[Band]  # the regions in view, head first (the lumbar band always whole)
    contacts: list[tuple[float, float]]  # on the lumbar band
    alerts_s: list[float]  # when each contact was announced
    cautions: list[tuple[float, float]]
    holds: list[tuple[float, float]]  # pauses on a spot: the flat stretches of the track
    lifts: list[tuple[float, float]]  # between parts: the roller in the air
    regions: list[tuple[str, float, float]]  # (region, start, end): where it was when
    region_s: dict[str, float]  # time in each region visited, head first
    bouts_s: list[float]
    pauses_s: list[float]
    bout_guide_s: tuple[float, float]
    pause_guide_s: tuple[float, float]

    @property
    def lumbar(self) -> Band:
        return next(band for band in self.bands if band.region == REGIONS[LUMBAR])


def session_picture(analysis: Analysis, body: Body, rules: Rules) -> SessionPicture:
    """The session's track, bands and marks. An analysis without a track (a session whose
    samples were not kept) still gives its regions, events and time per region, but no
    bouts or pauses: where it paused is not stored without the samples."""
    a = analysis
    origin = a.start_s

    def spans(pairs: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
        return [(start - origin, end - origin) for start, end in pairs]

    top, bottom = body.lumbar_cm
    seen = [*a.track_s_cm] or [p for seg in a.segments for p in _region_cm(body, seg.region)]
    view_top = min([*seen, top]) - MARGIN_CM
    view_bottom = max([*seen, bottom]) + MARGIN_CM
    bounds = body.bounds_cm
    bands = [Band(name, max(view_top, bounds[i]), min(view_bottom, bounds[i + 1]))
             for i, name in enumerate(REGIONS)
             if bounds[i + 1] > view_top and bounds[i] < view_bottom]
    visited = a.time_in_regions()
    scored = score(a, rules)
    bouts, pauses = (scored.bouts, scored.pauses) if a.track_t_s else ([], [])  # unknown
    return SessionPicture(
        duration_s=a.duration_s,
        t_s=[t - origin for t in a.track_t_s],
        s_cm=list(a.track_s_cm),
        top_cm=view_top,
        bottom_cm=view_bottom,
        bands=bands,
        contacts=spans([(e.start_s, e.end_s) for e in a.lumbar_events]),
        alerts_s=[e.alert_s - origin for e in a.lumbar_events],
        cautions=spans([(e.start_s, e.end_s) for e in a.caution_events]),
        holds=spans(a.pauses),
        lifts=spans(a.lifts),
        regions=[(seg.region, seg.start_s - origin, seg.end_s - origin) for seg in a.segments],
        region_s={name: visited[name] for name in REGIONS if name in visited},
        bouts_s=bouts,
        pauses_s=pauses,
        bout_guide_s=(rules.bout_min_s, rules.bout_max_s),
        pause_guide_s=(rules.pause_min_s, rules.pause_max_s),
    )


def _region_cm(body: Body, region: str) -> tuple[float, float]:
    i = REGIONS.index(region)
    return body.bounds_cm[i], body.bounds_cm[i + 1]


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

