"""A store of several weeks of simulated rolling, for the pictures' tests and snapshots.

Two people. ``me`` rolls the upper back on most evenings and the glutes about three times a
week, strays onto the lumbar spine now and then early on and less later (the trend the
pictures should show); ``Ben`` rolls a couple of times a week. Each kind of session is
simulated and analysed once, then stored at every day it happens with its raw samples, so
``session show`` and the session screen have tracks to draw.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from firmware_sim.session import SimulatedSession, simulate, simulate_parts
from tracker.core.estimate import analyze
from tracker.core.formats.roller_analysis import Analysis
from tracker.core.formats.roller_imu import Recording
from tracker.store.database import Store
from tracker.store.opening import open_store
from tracker.store.rows import SessionStart

NOW = datetime(2026, 11, 19, 18, 0, tzinfo=UTC)  # a Thursday evening
WEEKS = 6


@cache
def kind(name: str) -> tuple[SimulatedSession, Analysis]:
    """One simulated, analysed session of each kind the weeks are made of."""
    sim = {
        "upper_back": lambda: simulate("upper_back", "clean", 75.0, 5, sample_rate_hz=25.0),
        "stray": lambda: simulate("upper_back", "stray", 75.0, 31, sample_rate_hz=25.0),
        "glutes": lambda: simulate("glutes", "clean", 60.0, 3, sample_rate_hz=25.0),
        "both": lambda: simulate_parts([("upper_back", 45.0), ("glutes", 45.0)], seed=7,
                                       sample_rate_hz=25.0),
    }[name]()
    return sim, analyze(Recording(sim.header, sim.samples))


def plan(day: int, now: datetime = NOW) -> list[tuple[str, str]]:
    """(person, kind) rolled ``day`` days before ``now``'s day, in order."""
    rolled = []
    weekday = (now - timedelta(days=day)).weekday()
    if day % 5 != 4:
        rolled.append(("me", "stray" if day % 9 == 2 and day > 12 else "upper_back"))
    if weekday in (0, 2, 4) and day % 11 != 3:
        rolled.append(("me", "glutes" if weekday else "both"))
    if weekday in (1, 5):
        rolled.append(("Ben", "glutes" if weekday == 1 else "upper_back"))
    return rolled


def fill(path: Path, weeks: int = WEEKS, now: datetime = NOW) -> Store:
    """A store at ``path`` with ``weeks`` weeks of sessions up to ``now``."""
    store = open_store(path)
    people = {"me": store.people.default(), "Ben": store.people.add("Ben", 182.0)}
    for day in range(7 * weeks - 1, -1, -1):
        for i, (who, name) in enumerate(plan(day, now)):
            sim, analysis = kind(name)
            h, x = sim.header, sim.samples
            at = now - timedelta(days=day, hours=2 - i)
            start = SessionStart(h.routine, at, "UTC", "import", h.sample_rate_hz,
                                 h.roller_diameter_cm, h.user_height_cm, float(x[0, 0]),
                                 person_id=people[who].id)
            store.store_session(start, analysis, [(0, x)], [], "imported")
    return store
