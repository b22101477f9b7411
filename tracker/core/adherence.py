"""Adherence in a clinician's units: for each prescribed area, the sessions done against
the sessions prescribed, week by week from the prescription's start, the minutes or strokes
against the dose, and the pace against the guide.

A session counts for an area when it gave the area at least half its dose, in the dose's own
unit (minutes of rolling, or strokes): a pass over the calves on the way to the hamstrings is
not a calf session, and a session cut short by a phone call still is one. Pure: what was
rolled and the prescription in, figures and sentences out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tracker.core.comfort import Score, by_area, trend
from tracker.core.formats.roller_analysis import Part
from tracker.core.prescription import Dose, Prescription, kept_off_contacts
from tracker.core.schedule import Rolled, Rules, pace, stroke_s, week_start

#: The share of an area's dose a session must give it to count as one of its sessions.
COUNTS_FROM = 0.5


@dataclass(frozen=True)
class AreaRolled:
    """One area's share of one session."""

    day: date  # the session's local day
    area: str
    active_s: float
    strokes: int


def areas_rolled(rolled: Rolled, strokes: int, parts: Sequence[Part]) -> list[AreaRolled]:
    """A session's rolling time and strokes by area, an area rolled in two parts once (it
    is one of that area's sessions). Each part's strokes are its own; its rolling time is
    the session's shared in proportion to the parts' spans (each part's pauses are not
    stored apart), or equally when the spans are unknown. A session of one area (``parts``
    may then be empty) is that area's whole."""
    areas = rolled.areas or (rolled.routine,)
    if parts:
        spans = [max(0.0, p.end_s - p.start_s) for p in parts]
        total_s = sum(spans)
        shares = [(p.routine, rolled.active_s * (span / total_s if total_s else 1 / len(parts)),
                   p.strokes) for p, span in zip(parts, spans, strict=True)]
    else:
        shares = [(a, rolled.active_s / len(areas), strokes // len(areas)) for a in areas]
    by_area: dict[str, tuple[float, int]] = {}
    for area, active_s, area_strokes in shares:
        was_s, was_strokes = by_area.get(area, (0.0, 0))
        by_area[area] = (was_s + active_s, was_strokes + area_strokes)
    return [AreaRolled(rolled.local_day(), area, active_s, area_strokes)
            for area, (active_s, area_strokes) in by_area.items()]


@dataclass(frozen=True)
class Week:
    start: date
    done: int  # sessions that counted
    prescribed: int  # the week's sessions, fewer in a week the prescription only partly ran
    full: bool  # over (False: this week, so far)


@dataclass(frozen=True)
class AreaAdherence:
    """One prescribed area, followed."""

    dose: Dose
    stroke_guide_s: tuple[float, float]
    weeks: list[Week]  # from the prescription's start (or the period's), oldest first
    session_s: float | None  # the area's mean rolling time a counted session (None: none)
    session_strokes: float | None  # its mean strokes a counted session
    stroke_s: float | None  # the area's one-way stroke, on average
    pace: str  # "fast", "good", "slow"; "" without strokes

    @property
    def done(self) -> int:
        return sum(w.done for w in self.weeks if w.full)

    @property
    def prescribed(self) -> int:
        return sum(w.prescribed for w in self.weeks if w.full)

    @property
    def label(self) -> str:
        return self.dose.area.replace("_", " ").capitalize()

    def dose_text(self) -> str:
        """The dose against what a counted session gave, in the clinician's unit."""
        if self.dose.strokes is not None:
            given = "" if self.session_strokes is None else \
                f", {self.session_strokes:.0f} a session"
            return f"{self.dose.strokes} strokes prescribed{given}"
        given = "" if self.session_s is None else f", {self.session_s / 60:.1f} a session"
        return f"{self.dose.minutes:g} min prescribed{given}"

    def sentence(self) -> str:
        """The area in one sentence: its full weeks, this week, the dose and the pace."""
        full = [w for w in self.weeks if w.full]
        current = next((w for w in self.weeks if not w.full), None)
        said = [f"{self.label}: {self.done} of {self.prescribed} sessions in "
                f"{len(full)} full week{'s' if len(full) != 1 else ''} "
                f"({self.dose.per_week} a week)" if full
                else f"{self.label}: {self.dose.per_week} sessions a week"]
        if current is not None:
            said.append(f"{current.done} of {current.prescribed} this week so far")
        said.append(self.dose_text())
        if self.stroke_s is not None:
            low, high = self.stroke_guide_s
            said.append(f"{self.stroke_s:.1f} s a stroke ({self.pace}: {low:g}-{high:g} s "
                        "prescribed)")
        return "; ".join(said) + "."


def followed(prescription: Prescription, rolls: Sequence[AreaRolled], first: date,
             today: date, rules: Rules, ended: date | None = None) -> list[AreaAdherence]:
    """Each prescribed area, in order, followed from the later of the prescription's start
    and ``first`` to the earliest of its end, the day it was ``ended`` (early, by the
    clinician or the next import) and ``today``. ``rolls`` may hold days outside that: they
    are not counted. ``rules`` start the weeks."""
    begin = max(prescription.start, first)
    end = min(prescription.end, ended or prescription.end)
    return [_area(dose, prescription, [r for r in rolls if r.area == dose.area
                                       and begin <= r.day <= min(end, today)],
                  begin, end, today, rules)
            for dose in prescription.doses]


def _counts(dose: Dose, rolled: AreaRolled, stroke_s: tuple[float, float]) -> bool:
    """Whether a session gave the area at least :data:`COUNTS_FROM` of its dose."""
    if dose.strokes is not None:
        return rolled.strokes >= COUNTS_FROM * dose.strokes
    return rolled.active_s >= COUNTS_FROM * dose.seconds(stroke_s)


def _area(dose: Dose, rx: Prescription, rolls: list[AreaRolled], begin: date, end: date,
          today: date, rules: Rules) -> AreaAdherence:
    """A week the prescription runs only part of is prescribed its share of sessions (the
    week it begins or ends); this week is prescribed whole, and counted so far."""
    counted = [r for r in rolls if _counts(dose, r, rx.stroke_s)]
    weeks = []
    start = week_start(begin, rules)
    while start <= min(end, today):
        days = [start + timedelta(days=i) for i in range(7)]
        running = sum(1 for d in days if begin <= d <= end)
        weeks.append(Week(start, sum(1 for r in counted if r.day in days),
                          round(dose.per_week * running / 7),
                          full=days[-1] < today or end < today))
        start += timedelta(days=7)
    active_s, strokes = sum(r.active_s for r in rolls), sum(r.strokes for r in rolls)
    mean = stroke_s(active_s, strokes)
    return AreaAdherence(
        dose, rx.stroke_s, weeks,
        session_s=sum(r.active_s for r in counted) / len(counted) if counted else None,
        session_strokes=sum(r.strokes for r in counted) / len(counted) if counted else None,
        stroke_s=mean, pace=pace(mean, rx.rules(rules)))


#: The window a clinician reads adherence over first: days rolled of the last 30.
RECENT_DAYS = 30


def days_rolled(days: Sequence[date], today: date, counts_from: date | None,
                window: int = RECENT_DAYS) -> tuple[int, int]:
    """(days rolled, days counted) of the last ``window`` days to ``today``, both included,
    from ``counts_from`` when that is later: the person's first session (the days before
    were not theirs to roll), or the first day a report shows. None: nothing counts yet."""
    first = today - timedelta(days=window - 1)
    if counts_from is not None and counts_from > first:
        first = counts_from
    counted = max(0, (today - first).days + 1) if counts_from is not None else 0
    return len({d for d in days if first <= d <= today}), counted


@dataclass(frozen=True)
class Figures:
    """A person's figures in a clinician's units, at a moment: what Home Assistant shows
    for each person."""

    days_rolled: int  # of the last 30 (or fewer: since the first session)
    days_counted: int
    days_since_rolled: int | None  # None: never rolled
    prescribed_this_week: int | None  # None: no prescription runs
    done_this_week: int | None
    kept_off_this_week: int
    last_comfort: Score | None
    areas: list[AreaAdherence]  # the running prescription's, this week's included
    comfort: list[str]  # each area's comfort trend over the last 30 days, in a sentence

    def lines(self) -> list[str]:
        """The figures as ``roller schedule`` says them, a sentence each."""
        since = self.days_since_rolled
        if since is None:
            return ["Not rolled yet."]
        when = "today" if since == 0 else "yesterday" if since == 1 else f"{since} days ago"
        said = [f"Rolled on {self.days_rolled} of the last {self.days_counted} days; last "
                f"{when}."]
        said += [a.sentence() for a in self.areas]
        if self.kept_off_this_week:
            said.append(f"Kept-off areas rolled this week: {self.kept_off_this_week}.")
        if self.last_comfort is not None:
            c = self.last_comfort
            said.append(f"Last comfort score: {c.score} of 10, {c.label}, {c.day:%d %b}.")
        return said + [f"Comfort, the last {RECENT_DAYS} days: {line}" for line in self.comfort]


def figures(sessions: Sequence[tuple[Rolled, list[AreaRolled]]], last_rolled: date | None,
            started: date | None, prescribed: Sequence[tuple[Prescription, datetime | None]],
            scores: Sequence[Score], today: date, rules: Rules) -> Figures:
    """``sessions``: the last 30 days' at least (and the last four weeks'), each with its
    areas; ``last_rolled``: the last day rolled ever; ``prescribed``: the person's
    prescriptions, each with when it was ended; ``scores``: their comfort scores."""
    rolls = [r for _, areas in sessions for r in areas]
    rolled, counted = days_rolled([r.day for r in rolls], today, started)
    rx = next((rx for rx, ended in prescribed if ended is None and rx.running(today)), None)
    monday = week_start(today, rules)
    areas = followed(rx, rolls, monday - timedelta(weeks=4), today, rules) if rx else []
    this_week = [w for a in areas for w in a.weeks if not w.full]
    return Figures(
        rolled, counted, (today - last_rolled).days if last_rolled else None,
        sum(w.prescribed for w in this_week) if rx else None,
        sum(w.done for w in this_week) if rx else None,
        kept_off_contacts([s for s, _ in sessions if monday <= s.local_day() <= today],
                          prescribed),
        max(scores, key=lambda s: s.order, default=None), areas,
        [trend(area) for area in by_area(s for s in scores
                                         if 0 <= (today - s.day).days < RECENT_DAYS).values()])
