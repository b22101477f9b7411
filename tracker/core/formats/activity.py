"""A finished session as other software is told of it: what the FIT and FHIR exports
(:mod:`~tracker.core.formats.fit`, :mod:`~tracker.core.formats.fhir`) both start from.

One value for both, so that the two formats cannot disagree on what a part lasted or how
many lumbar contacts it had; the store's rows are turned into it by the command, which is
the only place that knows both the store and the formats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tracker.core.formats.roller_analysis import Analysis


@dataclass(frozen=True)
class AreaRolled:
    """One part of a session: an area rolled from ``start_s`` to ``end_s`` (seconds from the
    session's start), with its strokes and the lumbar contacts that began in it."""

    area: str
    start_s: float
    end_s: float
    strokes: int
    lumbar_contacts: int

    @property
    def duration_s(self) -> float:
        return max(0.0, self.end_s - self.start_s)


@dataclass(frozen=True)
class Activity:
    """A session as an activity: when (``started_at``, aware, and the zone it was rolled in),
    how long, how much, and its parts in order."""

    session_id: int
    started_at: datetime
    zone: str
    duration_s: float
    active_s: float
    strokes: int
    lumbar_contacts: int
    parts: tuple[AreaRolled, ...]

    def __post_init__(self) -> None:
        if self.started_at.tzinfo is None:
            raise ValueError("an activity's start needs its zone")

    def area_seconds(self) -> dict[str, float]:
        """Seconds per area, in the order each was first rolled: a part rolled twice in one
        session is one area to a clinician."""
        totals: dict[str, float] = {}
        for part in self.parts:
            totals[part.area] = totals.get(part.area, 0.0) + part.duration_s
        return totals


def areas_rolled(analysis: Analysis) -> tuple[AreaRolled, ...]:
    """The parts of an analysis (the whole session as one, when it has none), each with the
    lumbar contacts that began inside it, times from the analysis's start."""
    return tuple(
        AreaRolled(p.routine, p.start_s - analysis.start_s, p.end_s - analysis.start_s,
                   p.strokes, len(analysis.part(i).lumbar_events))
        for i, p in enumerate(analysis.areas))
