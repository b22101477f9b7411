"""Ranges of configuration values, each checked where it is read in one line that names the
key and what it accepts; how any message quotes a value it refuses (never all of a 50 MB
one); and how a file's problem is placed (``FILE:LINE: problem``)."""

from __future__ import annotations

from typing import Any

from tracker.core.errors import InputError


def within(key: str, value: float, low: float, high: float) -> None:
    """Refuse ``value`` outside ``low..high`` (``nan`` is outside every range)."""
    if not low <= value <= high:
        raise ValueError(f"{key} must be {low:g} to {high:g}, not {value}")


def check_ranges(section: str, settings: Any, ranges: dict[str, tuple[float, float]]) -> None:
    """Every named field of a settings dataclass within its range."""
    for key, (low, high) in ranges.items():
        within(f"[{section}] {key}", getattr(settings, key), low, high)


#: The most of a value a message quotes.
QUOTE_CHARS = 40


def quote(value: object, bare: bool = False) -> str:
    """``value`` as a one-line message shows it: ``repr`` (or the plain text, ``bare``),
    cut to :data:`QUOTE_CHARS` with the length of what was left out."""
    text = str(value) if bare else repr(value)
    if len(text) <= QUOTE_CHARS:
        return text
    return f"{text[:QUOTE_CHARS]}... ({len(str(value))} characters)"


class FileProblem(InputError):
    """A file that cannot be used, with the place of the first problem: ``FILE:LINE:
    problem``, or ``FILE: problem`` when no line is to blame."""

    def __init__(self, source: str, line: int | None, problem: str) -> None:
        self.source, self.line, self.problem = source, line, problem
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {problem}")
