"""Events: what happened in a session, in the one payload every consumer receives.

The store queues them in its outbox in the same transaction as the change that caused them;
the MQTT bridge publishes them (docs/mqtt.md). Pure.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from tracker.core.formats.roller_analysis import Analysis
from tracker.core.schedule import glutes_active_s

if TYPE_CHECKING:  # what only a session with a prescription loads
    from tracker.core.prescription import KeepOff

#: What a roller's event topic carries ...
ROLLER_EVENT_TYPES: Final = ("session_started", "session_ended", "lumbar_caution",
                             "lumbar_contact_alert", "schedule_refused", "schedule_override",
                             "kept_off_contact", "comfort_alert")
#: ... and a person's: what no roller raised.
PERSON_EVENT_TYPES: Final = ("not_rolling_alert",)
EVENT_TYPES: Final = ROLLER_EVENT_TYPES + PERSON_EVENT_TYPES


@dataclass(frozen=True)
class Moment:
    """A lumbar caution or alert, or a part begun on an area a prescription keeps off, as it
    was raised: it goes out at once, with where the contact was estimated to be and how
    uncertain that was (and which area was kept off, why and until when)."""

    event_type: str  # lumbar_caution, lumbar_contact_alert or kept_off_contact
    at: datetime
    s_cm: float
    s_sd_cm: float
    kept_off: KeepOff | None = None  # a kept_off_contact's

    def details(self) -> dict[str, Any]:
        where = {"s_cm": round(self.s_cm, 1), "s_sd_cm": round(self.s_sd_cm, 1)}
        k = self.kept_off
        return where if k is None else {**where, "area": k.area, "reason": k.reason,
                                        "until": k.until.isoformat()}


def uuid7() -> str:
    """A time-ordered UUID (RFC 9562 version 7): event IDs sort by creation."""
    ms = time.time_ns() // 1_000_000
    value = (ms & ((1 << 48) - 1)) << 80 | int.from_bytes(os.urandom(10)) & ((1 << 80) - 1)
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # variant
    return str(uuid.UUID(int=value))


def event_payload(event_type: str, session_id: int | None, occurred_at: str,
                  **details: Any) -> dict[str, Any]:
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    return {"event_type": event_type, "event_id": uuid7(), "session_id": session_id,
            "occurred_at": occurred_at, "replayed": False, **details}


def summary(a: Analysis) -> dict[str, Any]:
    """What ``session_ended`` says of the session."""
    return {"routine": a.routine, "duration_s": round(a.duration_s, 1),
            "active_s": round(a.active_s, 1), "paused_s": round(a.paused_s, 1),
            "strokes": a.strokes, "cadence_cpm": round(a.cadence_cpm, 1),
            "lumbar_events": len(a.lumbar_events), "caution_events": len(a.caution_events),
            "glutes_active_s": round(glutes_active_s(a), 1)}
