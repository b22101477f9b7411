"""What the report says: the period, the weeks' figures, the time on each area, the sessions
listed and the adherence in words. Pure: sessions and a moment in, one value out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from tracker.core.adherence import (
    RECENT_DAYS,
    AreaAdherence,
    AreaRolled,
    areas_rolled,
    days_rolled,
    followed,
)
from tracker.core.alert_rules import AlertRules
from tracker.core.alerts import Alert, alerts
from tracker.core.comfort import Score, by_area
from tracker.core.formats.roller_analysis import Part
from tracker.core.pictures.figures import Day, WeeksPicture, weeks_picture
from tracker.core.prescription import Prescription, kept_off_contacts
from tracker.core.schedule import Rolled, Rules


@dataclass(frozen=True)
class Listed:
    """One stored session, as the report needs it."""

    rolled: Rolled  # when, where, which areas, rolling time, glutes, lumbar contacts
    duration_s: float
    strokes: int
    override: bool  # glutes rolled although the schedule said not
    verdict: str | None  # what the schedule said then (``tracker.core.schedule.Verdict``)
    interrupted: bool  # kept up to its last checkpoint
    parts: tuple[Part, ...] = ()  # each area's stretch, for a session of several areas
    session_id: int | None = None  # the store's (its comfort scores are by it)


@dataclass(frozen=True)
class Report:
    """Everything the page shows, worked out."""

    person: str
    person_id: str  # the person's uid: one name can be two people, on every page with it
    first: date  # the first week's first day
    last: date  # today, in the person's zone
    zone: str  # the person's IANA zone: the days are theirs
    made_at: datetime  # in the person's zone
    rules: Rules
    weeks: WeeksPicture
    sessions: list[Listed]  # in the period, oldest first
    area_s: dict[str, float]  # rolling time on each area, most first
    adherence: list[str]  # sentences
    started: date | None  # the person's first session ever (None: none yet)
    alerts: list[Alert] = field(default_factory=list)  # the period's, most urgent first
    alert_rules: AlertRules = field(default_factory=AlertRules)
    #: The prescription followed in the period (the latest that ran in it), if any ...
    prescription: Prescription | None = None
    #: ... and how each of its areas was followed, week by week.
    followed: list[AreaAdherence] = field(default_factory=list)
    comfort: dict[str, list[Score]] = field(default_factory=dict)  # the period's, by area


def build(person: str, person_id: str, sessions: Sequence[Listed], now: datetime, zone: str,
          rules: Rules, weeks: int, started: date | None,
          prescribed: Sequence[tuple[Prescription, datetime | None]] = (),
          scores: Sequence[Score] = (), alert_rules: AlertRules | None = None,
          rolled_before: date | None = None) -> Report:
    """The report of the last ``weeks`` weeks (this one included) as of ``now``.
    ``sessions`` may reach back before the period (to :func:`~tracker.core.schedule.since`, so
    the rest-day rule sees the glute sessions just before it); only the period's are listed.
    ``started``: the local day of the person's first session ever (None: none yet), from
    which their weeks are counted. ``prescribed``: the person's prescriptions, each with
    when it was ended (None: not ended), whose areas and areas to keep off are counted.
    ``scores``: every comfort score the person gave (an area's usual reads back before the
    period). ``rolled_before``: the last day rolled before ``sessions`` (None: none), where a
    stretch without rolling into the period began."""
    alert_rules = alert_rules or AlertRules()
    picture = weeks_picture([s.rolled for s in sessions], now, zone, rules, weeks)
    first = picture.days[0][0].day
    listed = sorted((s for s in sessions if first <= s.rolled.local_day() <= picture.today),
                    key=lambda s: s.rolled.started_at)
    before = max((s.rolled.local_day() for s in sessions
                  if s.rolled.local_day() < first), default=rolled_before)
    # the latest prescription that ran in the period, to the day it ended (early, perhaps)
    rx, ended = next(((rx, None if at is None else at.astimezone(ZoneInfo(zone)).date())
                      for rx, at in reversed(prescribed)
                      if rx.start <= picture.today and rx.end >= first
                      and (at is None or at.astimezone(ZoneInfo(zone)).date() >= first)),
                     (None, None))
    rolls = _rolls(listed)
    return Report(
        person=person, person_id=person_id, first=first, last=picture.today, zone=zone,
        made_at=now.astimezone(ZoneInfo(zone)), rules=rules, weeks=picture, sessions=listed,
        area_s=area_times(listed), started=started,
        adherence=[*adherence(picture, rules, started), *_kept_off(listed, prescribed)],
        alerts=alerts([s.rolled for s in listed], scores, prescribed, first, picture.today,
                      alert_rules, before),
        alert_rules=alert_rules, prescription=rx,
        followed=followed(rx, rolls, first, picture.today, rules, ended) if rx else [],
        comfort={area: [s for s in area_scores if first <= s.day <= picture.today]
                 for area, area_scores in by_area(scores).items()
                 if any(first <= s.day <= picture.today for s in area_scores)},
    )


def area_times(sessions: Sequence[Listed]) -> dict[str, float]:
    """Rolling time on each area, most first, each session's shared among its areas as
    :func:`~tracker.core.adherence.areas_rolled` shares it: the areas add up to the weeks'
    rolling time."""
    totals: dict[str, float] = {}
    for r in _rolls(sessions):
        totals[r.area] = totals.get(r.area, 0.0) + r.active_s
    return dict(sorted(totals.items(), key=lambda item: -item[1]))


def _rolls(sessions: Sequence[Listed]) -> list[AreaRolled]:
    return [r for s in sessions for r in areas_rolled(s.rolled, s.strokes, s.parts)]


def adherence(picture: WeeksPicture, rules: Rules, started: date | None) -> list[str]:
    """The weeks against the advice, in a few sentences: the person's own glute quota, the
    rest days between glute sessions, and lumbar contacts (the goal is none). The weeks
    before the person's first session are not theirs to have missed: they are not counted."""
    if started is None:
        return ["No sessions yet."]
    quota, current = picture.quota, picture.trends[-1]
    met, counted = quota_met(picture, started)
    so_far = f"this week so far {current.glute_sessions} of {quota}"
    if counted:
        weeks = _count(counted, "full week")
        since = f" since the first session ({started:%d %b %Y})" \
            if started > picture.days[0][0].day else ""
        glutes = f"Glute quota ({quota} a week) met in {met} of the {weeks}{since} before " \
                 f"this one; {so_far}."
    else:
        glutes = f"Glute quota: {quota} a week; {so_far}."
    rest = [_rest_days(picture.days, rules)] if rules.glute_rest_days else []
    return [_days_rolled(picture, started), glutes, *rest, _lumbar(picture)]


def _days_rolled(picture: WeeksPicture, started: date) -> str:
    """Days rolled of the last 30 (fewer when the report's weeks hold fewer, or the person
    began since), today included: the first figure a clinician asks for."""
    days = [d.day for week in picture.days for d in week if d.sessions and not d.future]
    rolled, counted = days_rolled(days, picture.today, max(started, picture.days[0][0].day))
    if not counted:
        return "Not rolled yet in these weeks."
    since = f" since the first session ({started:%d %b %Y})" \
        if started > picture.today - timedelta(days=RECENT_DAYS - 1) \
        and started > picture.days[0][0].day else ""
    return f"Rolled on {rolled} of the last {_count(counted, 'day')}{since}."


def quota_met(picture: WeeksPicture, started: date | None) -> tuple[int, int]:
    """(weeks the glute quota was met, full weeks counted): the full weeks before this one,
    from the week of the person's first session on."""
    counted = [week for week in picture.trends[:-1]
               if started is not None and week.start + timedelta(days=7) > started]
    return sum(1 for week in counted if week.glute_sessions >= picture.quota), len(counted)


def _rest_days(weeks: list[list[Day]], rules: Rules) -> str:
    """How often a glute day came too soon after the one before (the rule: at least
    ``glute_rest_days`` days without glutes between two glute days)."""
    glute_days = [d.day for week in weeks for d in week if d.glutes]
    if not glute_days:
        return "No glute sessions."
    soon = sum(1 for a, b in pairwise(glute_days)
               if (b - a).days <= rules.glute_rest_days)
    gap = "on consecutive days" if rules.glute_rest_days == 1 else \
        f"with fewer than {rules.glute_rest_days} days' rest between"
    if not soon:
        return f"Glutes never rolled {gap}."
    return f"Glutes rolled {gap} {_count(soon, 'time')}."


def _lumbar(picture: WeeksPicture) -> str:
    lumbar = [week.lumbar for week in picture.trends]
    total = sum(lumbar)
    if not total:
        return "No lumbar contacts."
    clean = next(i for i, count in enumerate(reversed(lumbar)) if count)
    contacts = _count(total, "lumbar contact")
    if not clean:
        return f"{contacts}, {lumbar[-1]} this week."
    return f"{contacts}, none " + ("this week." if clean == 1 else f"in the last {clean} weeks.")


def _kept_off(sessions: Sequence[Listed],
              prescribed: Sequence[tuple[Prescription, datetime | None]]) -> list[str]:
    """The contacts with areas a prescription kept off (the goal is none), when one did."""
    if not any(rx.keep_off for rx, _ in prescribed):
        return []
    contacts = kept_off_contacts([s.rolled for s in sessions], prescribed)
    return [f"{_count(contacts, 'contact') if contacts else 'No contacts'} with an area "
            "a prescription keeps off."]


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" + ("" if n == 1 else "s")
