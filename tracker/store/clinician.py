"""A person's figures in a clinician's units, read from the store: the last weeks' sessions
with each one's areas, the first day, the prescriptions and the comfort scores, handed to
the pure :func:`tracker.core.adherence.figures`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Final
from zoneinfo import ZoneInfo

from tracker.core import adherence
from tracker.core.adherence import Figures, areas_rolled
from tracker.core.formats.roller_analysis import Part
from tracker.core.people import Person
from tracker.core.schedule import Rules
from tracker.store.codec import STARTED, local_day
from tracker.store.database import Store
from tracker.store.errors import DamagedSession
from tracker.store.rows import SessionRow

#: Weeks of sessions the figures read: the last 30 days, and the last four weeks of a
#: prescription's, from the first day of a week.
FIGURE_WEEKS: Final = 6


def figures(store: Store, person: Person, rules: Rules, zone: str, now: datetime) -> Figures:
    """``person``'s figures at ``now``, in their ``zone`` and under their ``rules``. Only
    the last weeks are read, never the years before; a session whose parts are damaged
    shares its time among its areas equally."""
    rows = store.weeks(person.id, now, zone, rules, FIGURE_WEEKS)
    today = now.astimezone(ZoneInfo(zone)).date()
    last = rows or store.sessions(last=1, person=person.id)
    return adherence.figures(
        [(row.rolled(), areas_rolled(row.rolled(), row.strokes, _parts(store, row)))
         for row in rows if row.rolled().local_day() <= today],
        max((day for row in last if (day := row.rolled().local_day()) <= today),
            default=None),
        store.first_day(person.id), store.prescriptions.followed(person),
        store.comfort.of_person(person.id), today, rules)


def last_day_rolled(store: Store, person_id: int, until: datetime) -> date | None:
    """The local day of ``person_id``'s last session that started before ``until`` (None:
    none): one indexed read, however many years the store holds."""
    found = store.db.execute(f"SELECT started_at, zone FROM sessions WHERE person_id = ? AND "
                             f"{STARTED} < julianday(?) ORDER BY {STARTED} DESC LIMIT 1",
                             [person_id, until.isoformat()]).fetchone()
    return None if found is None else local_day(*found)


def _parts(store: Store, row: SessionRow) -> list[Part]:
    if len(row.areas) < 2:
        return []
    try:
        return store.session_detail(row.id).parts
    except DamagedSession:
        return []
