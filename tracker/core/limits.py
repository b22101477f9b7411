"""Ranges of configuration values, each checked where it is read in one line that names the
key and what it accepts; how any message quotes a value it refuses (never all of a 50 MB
one); and how a file's problem is placed (``FILE:LINE: problem``)."""

from __future__ import annotations

import re
import unicodedata
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
    text = visible(str(value)) if bare else repr(value)  # repr shows controls escaped
    if len(text) <= QUOTE_CHARS:
        return text
    return f"{text[:QUOTE_CHARS]}... ({len(str(value))} characters)"


#: C0 controls, DEL, C1 controls, and the line and paragraph separators: what a terminal
#: acts on (clears, moves, rings, ends a line) instead of showing.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _shown(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # the control pictures: ESC is \u241b
    if code == 0x7F:
        return "\u2421"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` as a terminal may show it: every control character made visible (C0 as its
    control picture, DEL as \u2421, C1 and the line separators as escapes), so a name
    that came from elsewhere (a gateway, a sensor's advertisement, Home Assistant) cannot
    clear a screen, ring a bell, forge a line or end one. Used wherever such text is
    printed; plain text comes back unchanged."""
    return _CONTROL.sub(_shown, text) if _CONTROL.search(text) else text


def normal_text(text: str) -> str:
    """Text kept as NFC (the composed form most systems type; macOS gives names
    decomposed), so one name is stored one way."""
    return unicodedata.normalize("NFC", text)


class FileProblem(InputError):
    """A file that cannot be used, with the place of the first problem: ``FILE:LINE:
    problem``, or ``FILE: problem`` when no line is to blame."""

    def __init__(self, source: str, line: int | None, problem: str) -> None:
        self.source, self.line, self.problem = source, line, problem
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {problem}")
