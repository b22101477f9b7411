"""The alerts a clinician would set on a person rolling at home, with Medbridge's defaults:
no rolling for 14 days, a comfort score of 7 or worse, a score 2 above the person's usual
for the area, and any contact with an area a prescription keeps off.

Each is worked out here from what is stored, pure: the report lists them first, and the same
functions decide the MQTT events (``comfort_alert`` as a score is given, ``not_rolling_alert``
when the days run out), so a report and a home-automation system never disagree about what
happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING, Final

from tracker.core.alert_rules import AlertRules
from tracker.core.comfort import Score, by_area, usual
from tracker.core.schedule import Rolled

if TYPE_CHECKING:
    from tracker.core.prescription import Prescription

#: The kinds, in the order a report lists them: the most urgent first.
KINDS: Final = ("kept_off_contact", "comfort_high", "comfort_rise", "not_rolling")


@dataclass(frozen=True)
class Alert:
    kind: str  # one of KINDS
    day: date  # when it was raised, on the person's calendar
    text: str  # one sentence


def on_score(score: Score, before: Sequence[Score], rules: AlertRules) -> list[Alert]:
    """The alerts one score raises, given the same area's scores ``before`` it (oldest
    first): 7 or worse, or 2 above the usual (both can be raised at once)."""
    raised = []
    where = f"{score.label.capitalize()} scored {score.score} of 10 on {score.day:%d %b %Y}"
    if score.score >= rules.comfort_at_least:
        raised.append(Alert("comfort_high", score.day, f"{where} (the alert is at "
                                                       f"{rules.comfort_at_least} or worse)."))
    was = usual(before)
    if was is not None and score.score >= was + rules.comfort_rise:
        raised.append(Alert("comfort_rise", score.day, f"{where}, up from a usual {was:g}."))
    return raised


def idle(last: date, today: date, rules: AlertRules) -> Alert | None:
    """``not_rolling`` once :attr:`AlertRules.idle_days` have passed since ``last``, the
    last day rolled (raised on the day they run out)."""
    days = (today - last).days
    if days < rules.idle_days:
        return None
    return Alert("not_rolling", last + timedelta(days=rules.idle_days),
                 f"{days} days since the last session, on {last:%d %b %Y}.")


def alerts(sessions: Sequence[Rolled], scores: Sequence[Score],
           prescribed: Sequence[tuple[Prescription, datetime | None]],
           first: date, today: date, rules: AlertRules,
           before: date | None = None) -> list[Alert]:
    """Every alert from ``first`` to ``today`` (both included), most urgent kind first, then
    by day: each kept-off contact, each score that raised one (against the scores before it,
    also those before ``first``), and each stretch of :attr:`AlertRules.idle_days` or more
    without rolling (from ``before``, the last day rolled before the period, if any)."""
    rolled = [s for s in sessions if first <= s.local_day() <= today]
    found = [alert for s in rolled for alert in _kept_off(s, prescribed)]
    for area_scores in by_area(scores).values():
        for i, s in enumerate(area_scores):
            if first <= s.day <= today:
                found += on_score(s, area_scores[:i], rules)
    days = sorted({s.local_day() for s in rolled})
    for last, then in pairwise([before, *days] if before else days):
        if (then - last).days >= rules.idle_days:
            found.append(Alert("not_rolling", last + timedelta(days=rules.idle_days),
                               f"{(then - last).days} days from one session to the next, "
                               f"{last:%d %b} to {then:%d %b %Y}."))
    last_day = days[-1] if days else before
    gap = idle(last_day, today, rules) if last_day else None
    return sorted([*found, *([gap] if gap else [])],
                  key=lambda a: (KINDS.index(a.kind), a.day))


def _kept_off(session: Rolled,
              prescribed: Sequence[tuple[Prescription, datetime | None]]) -> list[Alert]:
    # Prescriptions (their TOML, the programs) load with the first one: the store gives
    # scores (on_score) to every command that opens it.
    from tracker.core.prescription import kept_off_in

    day = session.local_day()
    return [Alert("kept_off_contact", day, f"{k.area.replace('_', ' ').capitalize()} rolled "
                                           f"on {day:%d %b %Y}, kept off until "
                                           f"{k.until:%d %b %Y}.")
            for k in kept_off_in(session, prescribed)]
