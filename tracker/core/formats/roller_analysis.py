"""The result of analysing a session: the ``roller-analysis/1`` object.

A session is one or more parts, each an area rolled from its own start landmark; between two
parts the person lifts the roller and places it at the next area (a lift: not rolling, so
neither active nor paused). ``parts`` and ``lifts`` were added to ``roller-analysis/1``
without changing what the other fields mean: a reader that ignores them still reads the whole
session's figures (docs/recording-format.md). So were a part's ``end_for_end`` (the carry
before it turned the roller round, and its travel was read so) and ``orientation_unsure``
(the carry could not tell which way round it went down: its positions may be mirrored about
its landmark); a reader that does not know them reads every part as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from tracker.core.formats.parts import Switch

FORMAT = "roller-analysis/1"


@dataclass(frozen=True)
class LumbarEvent:
    """Contact with the lumbar band: when it began and ended, and when the alert was raised."""

    start_s: float
    end_s: float
    alert_s: float


@dataclass(frozen=True)
class CautionEvent:
    """A stretch of time the contact was possibly in the lumbar band: its uncertainty
    interval reached it (:mod:`tracker.core.estimate.uncertainty`)."""

    start_s: float
    end_s: float


@dataclass(frozen=True)
class Segment:
    """A stretch of time with the contact in one region."""

    region: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Part:
    """One area rolled within a session: from the first sample rolled at its landmark to its
    last; ``asked_s`` is when it was asked for (the session's start, or a switch)."""

    routine: str
    asked_s: float
    start_s: float
    end_s: float
    strokes: int
    end_for_end: bool = False  # read end for end to how the session began
    orientation_unsure: bool = False  # which way round it lay could not be told


def listed_parts(parts: Sequence[Part], lifts: Sequence[tuple[float, float]]) -> list[Part]:
    """The parts an analysis lists: none when the whole session is its only one and it was
    never lifted (:attr:`Analysis.areas` then gives it), as a one-area session reads."""
    return list(parts) if len(parts) > 1 or lifts else []


@dataclass(frozen=True)
class Analysis:
    """What happened in one session; times are on the sensor's clock, ``start_s`` at the
    first sample (:meth:`to_json` gives them from 0 there)."""

    routine: str
    start_s: float
    duration_s: float
    pauses: list[tuple[float, float]]
    strokes: int
    segments: list[Segment]
    lumbar_events: list[LumbarEvent]
    track_t_s: list[float]
    track_s_cm: list[float]
    track_s_sd_cm: list[float] = field(default_factory=list)  # beside track_s_cm
    caution_events: list[CautionEvent] = field(default_factory=list)
    parts: list[Part] = field(default_factory=list)  # empty: one part, the whole session
    lifts: list[tuple[float, float]] = field(default_factory=list)  # between parts
    switches: list[Switch] = field(default_factory=list)  # the areas asked for, and when

    @property
    def paused_s(self) -> float:
        return sum(b - a for a, b in self.pauses)

    @property
    def lifted_s(self) -> float:
        return sum(b - a for a, b in self.lifts)

    @property
    def active_s(self) -> float:
        return self.duration_s - self.paused_s - self.lifted_s

    @property
    def areas(self) -> list[Part]:
        """The parts: those analysed, or the whole session as its only one."""
        return self.parts or [Part(self.routine, self.start_s, self.start_s,
                                   self.start_s + self.duration_s, self.strokes)]

    def part(self, index: int) -> Analysis:
        """One part on its own, as if it were a session: everything inside its span."""
        p = self.areas[index]

        def inside(start_s: float) -> bool:
            return p.start_s <= start_s <= p.end_s

        picks = [i for i, t in enumerate(self.track_t_s) if p.start_s <= t <= p.end_s]
        return Analysis(
            routine=p.routine, start_s=p.start_s, duration_s=p.end_s - p.start_s,
            pauses=[x for x in self.pauses if inside(x[0])], strokes=p.strokes,
            segments=[s for s in self.segments if inside(s.start_s)],
            lumbar_events=[e for e in self.lumbar_events if inside(e.start_s)],
            track_t_s=[self.track_t_s[i] for i in picks],
            track_s_cm=[self.track_s_cm[i] for i in picks],
            track_s_sd_cm=[self.track_s_sd_cm[i] for i in picks if i < len(self.track_s_sd_cm)],
            caution_events=[e for e in self.caution_events if inside(e.start_s)],
        )

    @property
    def cadence_cpm(self) -> float:
        """Stroke cycles (two strokes, down and back) per minute of active rolling."""
        return self.strokes / 2 / (self.active_s / 60) if self.active_s > 0 else 0.0

    def time_in_regions(self) -> dict[str, float]:
        """Seconds spent in each region visited, in body order of first visit."""
        totals: dict[str, float] = {}
        for seg in self.segments:
            totals[seg.region] = totals.get(seg.region, 0.0) + seg.end_s - seg.start_s
        return totals

    def to_json(self) -> dict[str, Any]:
        """The ``roller-analysis/1`` object. Its times are session time: seconds from the
        first sample, whatever the sensor's clock read then (docs/recording-format.md)."""

        def t(seconds: float) -> float:
            return round(seconds - self.start_s, 3)

        return {
            "format": FORMAT,
            "routine": self.routine,
            "duration_s": round(self.duration_s, 3),
            "active_s": round(self.active_s, 3),
            "paused_s": round(self.paused_s, 3),
            "pauses": [[t(a), t(b)] for a, b in self.pauses],
            "strokes": self.strokes,
            "cadence_cpm": round(self.cadence_cpm, 2),
            "segments": [
                {"region": s.region, "start_s": t(s.start_s), "end_s": t(s.end_s)}
                for s in self.segments
            ],
            "lumbar_events": [
                {"start_s": t(e.start_s), "end_s": t(e.end_s), "alert_s": t(e.alert_s)}
                for e in self.lumbar_events
            ],
            "caution_events": [
                {"start_s": t(e.start_s), "end_s": t(e.end_s)} for e in self.caution_events
            ],
            "parts": [
                {"routine": p.routine, "asked_s": t(p.asked_s), "start_s": t(p.start_s),
                 "end_s": t(p.end_s), "strokes": p.strokes, "end_for_end": p.end_for_end,
                 "orientation_unsure": p.orientation_unsure} for p in self.areas
            ],
            "lifts": [[t(a), t(b)] for a, b in self.lifts],
            "switches": [str(replace(s, at_s=t(s.at_s))) for s in self.switches],
            "track": {
                "t_s": [t(x) for x in self.track_t_s],
                "s_cm": [round(s, 2) for s in self.track_s_cm],
                "s_sd_cm": [round(s, 2) for s in self.track_s_sd_cm],
            },
        }
