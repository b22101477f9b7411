"""May a session start now? The schedule's rules asked against the person's weeks in the
store (:meth:`~tracker.store.reads.Reads.weeks`): only the sessions a verdict can depend on,
so a start costs the same with ten years of history as with ten days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from tracker.config import Settings
from tracker.core.schedule import Verdict, glute_days, next_allowed, verdict_on
from tracker.store.database import Store


@dataclass(frozen=True)
class Admission:
    """What a session starts as: its routine, the schedule's verdict, and whether the person
    overrode a refusal."""

    routine: str
    verdict: str | None = None
    override: bool = False

    @classmethod
    def of(cls, routine: str, verdict: Verdict, override: bool) -> Admission:
        """A session the schedule gave ``verdict``: an override is recorded only of a
        refusal (overriding an allowed session overrides nothing)."""
        return cls(routine, verdict.value, override and verdict is not Verdict.ALLOWED)


def check_start(store: Store, settings: Settings, routine: str, at: datetime,
                excluding: int | None = None) -> tuple[Verdict, date, str]:
    """The verdict for ``settings.person`` (else everybody's sessions) starting ``routine``
    at ``at`` (in a session under way: ``excluding`` it), the next day glutes are allowed,
    and why not (empty when allowed)."""
    rules = settings.rules
    day = at.astimezone(ZoneInfo(settings.zone)).date()
    if routine != "glutes":
        return Verdict.ALLOWED, day, ""
    person = settings.person.id if settings.person else None
    days = glute_days([s.rolled() for s in store.weeks(person, at, settings.zone, rules, 1)
                       if s.started_at < at and s.id != excluding], rules)
    verdict = verdict_on(day, days, rules)
    why = {
        Verdict.ALLOWED: "",
        Verdict.TOO_SOON: "a glute session yesterday or today: rolling them every day makes "
                          "them sorer",
        Verdict.OVER_QUOTA: f"this week's {rules.glute_sessions_per_week} glute sessions are "
                            "done",
    }[verdict]
    return verdict, next_allowed(day, days, rules), why


def glutes_refusal(store: Store, settings: Settings, at: datetime) -> str | None:
    """Why glutes may not be rolled at ``at`` (a program's glute steps wait for it), or
    None when they may."""
    return check_start(store, settings, "glutes", at)[2] or None
