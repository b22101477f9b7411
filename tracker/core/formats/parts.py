"""A session's parts as a recording's ``parts`` header and the store's ``switches`` column
say them: ``glutes@65.200,hamstrings@140.512!``, each area after the first with the moment it
was asked for.

Apart from :mod:`~tracker.core.formats.roller_imu`, whose samples are numpy arrays, because
what only reads sessions (the store's rows, an analysis, ``roller history``) needs the parts
and not numpy, whose import alone is what ``python -m bench.startup`` measures commands by.
"""

from __future__ import annotations

from dataclasses import dataclass

from tracker.core.body import ROUTINES
from tracker.core.limits import quote


@dataclass(frozen=True)
class Switch:
    """Another area asked for at ``at_s``. ``off``: the person got off the roller at once
    (a stretch), rather than rolling on until they lift it."""

    routine: str
    at_s: float
    off: bool = False

    def __str__(self) -> str:
        return f"{self.routine}@{self.at_s:.3f}{'!' if self.off else ''}"


def parse_parts(text: str) -> list[Switch]:
    """``glutes@65.2,hamstrings@140.5!``: :class:`ValueError` saying what is wrong."""
    parts: list[Switch] = []
    for item in filter(None, (p.strip() for p in text.split(","))):
        routine, sep, at = item.partition("@")
        off = at.endswith("!")
        if routine not in ROUTINES or not sep:
            raise ValueError(f"part {quote(item)} is not area@seconds, with an area of "
                             f"{', '.join(ROUTINES)}")
        try:
            at_s = float(at.removesuffix("!"))
        except ValueError:
            raise ValueError(f"part {quote(item)}: {quote(at)} is not a number") from None
        if not (0 < at_s < 1e7) or (parts and at_s < parts[-1].at_s):
            raise ValueError(f"part {quote(item)}: parts are asked for after the first "
                             "sample, in time order")
        parts.append(Switch(routine, at_s, off))
    return parts


def format_parts(parts: list[Switch]) -> str:
    return ",".join(str(p) for p in parts)
