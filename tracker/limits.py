"""Ranges of configuration values: each is checked where it is read, in one line that names
the key and what it accepts."""

from __future__ import annotations

from typing import Any


def within(key: str, value: float, low: float, high: float) -> None:
    """Refuse ``value`` outside ``low..high`` (``nan`` is outside every range)."""
    if not low <= value <= high:
        raise ValueError(f"{key} must be {low:g} to {high:g}, not {value}")


def check_ranges(section: str, settings: Any, ranges: dict[str, tuple[float, float]]) -> None:
    """Every named field of a settings dataclass within its range."""
    for key, (low, high) in ranges.items():
        within(f"[{section}] {key}", getattr(settings, key), low, high)
