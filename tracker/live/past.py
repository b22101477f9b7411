"""The stored past as the pictures need it: one person's week and weeks, read from the
first moment that can change them (:meth:`~tracker.store.reads.Reads.weeks`), never the
years before."""

from __future__ import annotations

from datetime import datetime

from tracker.config import Settings
from tracker.core.pictures.figures import WeekPicture, WeeksPicture, week_picture, weeks_picture
from tracker.core.schedule import Rolled
from tracker.store.database import Store
from tracker.store.rows import SessionRow


def rows(store: Store, settings: Settings, now: datetime, weeks: int) -> list[SessionRow]:
    """``settings.person``'s sessions (everyone's without one) that the last ``weeks`` weeks'
    pictures depend on."""
    person = settings.person.id if settings.person else None
    return store.weeks(person, now, settings.zone, settings.rules, weeks)


def rolled(store: Store, settings: Settings, now: datetime, weeks: int) -> list[Rolled]:
    return [row.rolled() for row in rows(store, settings, now, weeks)]


def week_of(store: Store, settings: Settings, now: datetime) -> WeekPicture:
    return week_picture(rolled(store, settings, now, 1), now, settings.zone, settings.rules)


def weeks_of(store: Store, settings: Settings, now: datetime, weeks: int) -> WeeksPicture:
    return weeks_picture(rolled(store, settings, now, weeks), now, settings.zone,
                         settings.rules, weeks)
