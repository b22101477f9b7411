"""What the store reads and writes about a session: plain values, no SQL."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tracker.core.body import ROUTINES
from tracker.core.formats.roller_analysis import Analysis, CautionEvent, LumbarEvent, Part, Segment
from tracker.core.limits import quote
from tracker.core.schedule import Rolled


@dataclass(frozen=True)
class SessionRow:
    id: int
    routine: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    zone: str
    duration_s: float
    active_s: float
    strokes: int
    cadence_cpm: float
    lumbar_events: int
    caution_events: int | None  # None: analysed before cautions existed
    glutes_active_s: float
    override: bool
    verdict: str | None
    person_id: int
    areas: tuple[str, ...]  # each part's, in order
    origin: str | None = None  # the gateway it came from (None: recorded in this store)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> SessionRow:
        """A stored row; :class:`ValueError` naming the first value that cannot be right."""
        if row["routine"] not in ROUTINES:
            raise ValueError(f"its routine is {quote(row['routine'])}")
        try:
            ZoneInfo(row["zone"])
        except (ValueError, TypeError, OSError, ZoneInfoNotFoundError):
            raise ValueError(f"its time zone is {quote(row['zone'])}") from None
        return cls(
            id=row["id"], routine=row["routine"], status=str(row["status"]),
            started_at=_moment(row, "started_at"),
            ended_at=_moment(row, "ended_at") if row["ended_at"] else None,
            zone=row["zone"], duration_s=_number(row, "duration_s"),
            active_s=_number(row, "active_s"), strokes=int(_number(row, "strokes")),
            cadence_cpm=_number(row, "cadence_cpm"),
            lumbar_events=int(_number(row, "lumbar_events")),
            caution_events=None if row.get("caution_events") is None
            else int(_number(row, "caution_events")),
            glutes_active_s=_number(row, "glutes_active_s"), override=bool(row["override"]),
            verdict=row["verdict"], person_id=int(_number(row, "person_id")),
            areas=_areas(row), origin=row.get("origin"),
        )

    def rolled(self) -> Rolled:
        return Rolled(self.started_at, self.zone, self.routine, self.glutes_active_s,
                      self.areas, self.active_s, self.lumbar_events)


@dataclass(frozen=True)
class Detail:
    """A session's timeline, in session time: regions, lumbar contacts, cautions, its parts
    and the lifts between them."""

    segments: list[Segment]
    lumbar_events: list[LumbarEvent]
    caution_events: list[CautionEvent]
    parts: list[Part]
    lifts: list[tuple[float, float]]

    def analysis(self, row: SessionRow) -> Analysis:
        """The session as far as it is stored without its samples: no track, no pauses."""
        return Analysis(routine=row.routine, start_s=0.0, duration_s=row.duration_s,
                        pauses=[], strokes=row.strokes, segments=self.segments,
                        lumbar_events=self.lumbar_events, track_t_s=[], track_s_cm=[],
                        caution_events=self.caution_events, parts=self.parts,
                        lifts=self.lifts)


def _areas(row: dict[str, Any]) -> tuple[str, ...]:
    areas = tuple((row.get("areas") or row["routine"]).split(","))
    if not set(areas) <= set(ROUTINES):
        raise ValueError(f"its areas are {quote(row['areas'])}")
    return areas


def _moment(row: dict[str, Any], name: str) -> datetime:
    value = row[name]
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError(f"its {name} is {quote(value)}, not a time") from None
    if moment.tzinfo is None:
        raise ValueError(f"its {name} is {quote(value)}, a time without its zone")
    return moment


def _number(row: dict[str, Any], name: str) -> float:
    """A summary figure: missing is 0 (not yet checkpointed); anything else must be finite."""
    value = row[name]
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"its {name} is {quote(value)}, not a number")
    return float(value)


@dataclass(frozen=True)
class SessionStart:
    """What is known when a session starts."""

    routine: str
    started_at: datetime
    zone: str
    source: str  # live, sim, import
    sample_rate_hz: float
    diameter_cm: float
    height_cm: float
    clock_start_s: float
    device: str | None = None
    override: bool = False
    verdict: str | None = None
    person_id: int | None = None  # None: the roller's person, else the store's default
