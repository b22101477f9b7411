"""Comfort scores: how an area felt, from 0 (nothing) to 10 (the worst), given by the person
after rolling it, and how each area's scores move over the weeks.

A clinician reads a pain or discomfort score against the person's own usual, not against
anyone else's, and reads it per area: rolling the glutes may ease while the calves do not.
So a score belongs to one part of one session (its area), and "usual" is the median of the
area's last few scores before it. Pure: scores in, words and figures out.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from tracker.core.errors import InputError
from tracker.core.limits import quote

#: The scale: 0 none, 10 worst (an 11-point numeric rating scale, as clinicians use).
SCALE: Final = (0, 10)
#: A person's usual for an area: the median of this many scores before, at most ...
USUAL_OF: Final = 5
#: ... and at least this many (fewer say nothing usual yet).
USUAL_FROM: Final = 3


class ComfortError(InputError):
    """A score that is not a whole number from 0 to 10."""


@dataclass(frozen=True)
class Score:
    """One comfort score, of one part of one session."""

    session_id: int
    seq: int  # the part's place in its session, from 0
    area: str
    score: int
    given_at: datetime  # aware
    started_at: datetime  # the session's start, aware: scores are in the order rolled
    day: date  # the session's local day

    @property
    def label(self) -> str:
        return self.area.replace("_", " ")

    @property
    def order(self) -> tuple[datetime, int, int]:
        """Where the score stands among a person's: by the session's start and the part's
        place in it, whenever it was given (an old session scored today, or a score
        corrected, keeps its place)."""
        return self.started_at, self.session_id, self.seq


def parse_score(text: str) -> int:
    """A score as a person types it: a whole number from 0 to 10."""
    low, high = SCALE
    value = text.strip()
    if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
        raise ComfortError(f"a comfort score is a whole number from {low} (none) to {high} "
                           f"(the worst), not {quote(text)}")
    return int(value)


def by_area(scores: Iterable[Score]) -> dict[str, list[Score]]:
    """Each area's scores in the order rolled (areas in the order first rolled)."""
    areas: dict[str, list[Score]] = {}
    for s in sorted(scores, key=lambda s: s.order):
        areas.setdefault(s.area, []).append(s)
    return areas


def usual(before: Sequence[Score]) -> float | None:
    """The person's usual for an area: the median of its last :data:`USUAL_OF` scores in
    ``before`` (oldest first), or None with fewer than :data:`USUAL_FROM`."""
    last = [s.score for s in before[-USUAL_OF:]]
    return statistics.median(last) if len(last) >= USUAL_FROM else None


def trend(scores: Sequence[Score]) -> str:
    """One area's scores in a sentence: where they began and ended, and their usual now."""
    first, last = scores[0], scores[-1]
    if len(scores) == 1:
        return f"{first.label.capitalize()}: {first.score} of 10 on {first.day:%d %b}."
    way = "down" if last.score < first.score else "up" if last.score > first.score \
        else "unchanged"
    now = usual(scores)
    said = f", usually {now:g} now" if now is not None else ""
    return (f"{first.label.capitalize()}: {way}, {first.score} on {first.day:%d %b} to "
            f"{last.score} on {last.day:%d %b} over {len(scores)} scores{said}.")
