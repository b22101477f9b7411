"""A live session as whoever watches it sees it: the dashboard, the status line, the bridge."""

from __future__ import annotations

from dataclasses import dataclass

from tracker.estimate import LiveState


@dataclass(frozen=True)
class Status:
    link: str  # connecting, live, reconnecting, lost
    attempt: int
    state: LiveState | None
    loss_pct: float
    battery_pct: int | None
    warning: str | None = None
