"""What the store reads and writes about a session: plain values, no SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tracker.schedule import Rolled


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
    glutes_active_s: float
    override: bool
    verdict: str | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> SessionRow:
        return cls(
            id=row["id"], routine=row["routine"], status=row["status"],
            started_at=datetime.fromisoformat(row["started_at"]),
            ended_at=datetime.fromisoformat(row["ended_at"]) if row["ended_at"] else None,
            zone=row["zone"], duration_s=row["duration_s"] or 0.0,
            active_s=row["active_s"] or 0.0, strokes=row["strokes"] or 0,
            cadence_cpm=row["cadence_cpm"] or 0.0, lumbar_events=row["lumbar_events"] or 0,
            glutes_active_s=row["glutes_active_s"] or 0.0, override=bool(row["override"]),
            verdict=row["verdict"],
        )

    def rolled(self) -> Rolled:
        return Rolled(self.started_at, self.zone, self.routine, self.glutes_active_s)


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
