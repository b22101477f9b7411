"""A finished session as one message, ``roller-session/1``: what a central store needs to
keep it as the gateway's store does (docs/mqtt.md).

Pure: :func:`parse` checks a message and gives a :class:`SessionRecord`, or raises
:class:`RecordError` in one line; the store builds records and takes them in. A message
that is not one of ours (another program's, a newer format) is refused, never half-read.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, Final

from tracker.core.body import REGIONS, ROUTINES
from tracker.core.errors import InputError
from tracker.core.limits import quote

FORMAT: Final = "roller-session/1"
#: The session's summary columns a record carries, with their types (None allowed).
SUMMARY: Final[dict[str, type | tuple[type, ...]]] = {
    "routine": str, "areas": str, "status": str, "end_reason": str, "started_at": str,
    "ended_at": str, "zone": str, "source": str, "sample_rate_hz": (int, float),
    "diameter_cm": (int, float), "height_cm": (int, float), "clock_start_s": (int, float),
    "duration_s": (int, float), "active_s": (int, float), "paused_s": (int, float),
    "strokes": int, "cadence_cpm": (int, float), "glutes_active_s": (int, float),
    "lumbar_events": int, "caution_events": int, "pauses": str, "override": int,
    "verdict": str, "link_gaps": str, "switches": str, "program": str,
}
#: Each detail table's columns, in the order a record lists them.
DETAIL: Final[dict[str, tuple[str, ...]]] = {
    "segments": ("region", "start_s", "end_s"),
    "lumbar_events": ("start_s", "end_s", "alert_s"),
    "caution_events": ("start_s", "end_s"),
    "parts": ("seq", "routine", "asked_s", "start_s", "end_s", "strokes", "end_for_end",
              "orientation_unsure"),
    "lifts": ("start_s", "end_s"),
}
#: Columns a record from an older gateway leaves off the end of a table's rows: read as 0.
ADDED: Final[dict[str, int]] = {"parts": 2}
_UID = re.compile(r"[0-9a-f]{8,32}")
_GATEWAY = re.compile(r"[a-z0-9_-]{1,64}")


class RecordError(InputError):
    """A message that is not a session record we can keep, said in one line."""


@dataclass(frozen=True)
class PersonRecord:
    uid: str
    name: str
    height_cm: float | None
    zone: str | None
    rules: dict[str, Any]


@dataclass(frozen=True)
class SessionRecord:
    uid: str  # the session's, the same in every store
    gateway: str  # the bridge id of the store it was recorded in
    device: str | None  # the roller's address (None: imported)
    person: PersonRecord
    summary: dict[str, Any]  # the sessions row's values (SUMMARY)
    details: dict[str, list[list[Any]]]  # each DETAIL table's rows
    raw: list[list[Any]] | None  # [seq, t0_s, samples, base64 zlib float32] blocks

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "uid": self.uid, "gateway": self.gateway,
                "device": self.device, "person": vars(self.person), "summary": self.summary,
                **self.details, "raw": self.raw}


def encode(record: SessionRecord) -> bytes:
    return json.dumps(record.to_json(), separators=(",", ":")).encode()


def parse(data: bytes) -> SessionRecord:
    """A message as a record, every value checked; :class:`RecordError` otherwise."""
    try:
        message = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise RecordError("not JSON") from None
    if not isinstance(message, dict) or message.get("format") != FORMAT:
        found = message.get("format") if isinstance(message, dict) else None
        raise RecordError(f"not a {FORMAT} message (format {quote(found)})")
    uid = _text(message, "uid")
    if not _UID.fullmatch(uid):
        raise RecordError(f"uid {quote(uid)} is not 8-32 hex digits")
    gateway = _text(message, "gateway")
    if not _GATEWAY.fullmatch(gateway):
        raise RecordError(f"gateway {quote(gateway)} is not a bridge id")
    device = message.get("device")
    if device is not None and not isinstance(device, str):
        raise RecordError("device is not text")
    return SessionRecord(uid, gateway, device, _person(message.get("person")),
                         _summary(message.get("summary")),
                         {table: _rows(message, table, columns)
                          for table, columns in DETAIL.items()},
                         _raw(message.get("raw")))


def _text(container: dict[str, Any], key: str) -> str:
    value = container.get(key)
    if not isinstance(value, str) or not value or len(value) > 200:
        raise RecordError(f"{key} is {quote(value)}, not text")
    return value


def _person(value: Any) -> PersonRecord:
    if not isinstance(value, dict):
        raise RecordError("person is missing")
    uid, name = _text(value, "uid"), _text(value, "name")
    if not _UID.fullmatch(uid):
        raise RecordError(f"person uid {quote(uid)} is not hex")
    height = value.get("height_cm")
    if height is not None and not (_number(height) and 50 <= height <= 272):
        raise RecordError(f"person height_cm {quote(height)} is not a height")
    zone, rules = value.get("zone"), value.get("rules", {})
    if (zone is not None and not isinstance(zone, str)) or not isinstance(rules, dict):
        raise RecordError("person zone or rules are malformed")
    return PersonRecord(uid, name, height, zone, rules)


def _summary(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RecordError("summary is missing")
    summary = {}
    for key, kind in SUMMARY.items():
        item = value.get(key)
        if item is not None and (not isinstance(item, kind) or isinstance(item, bool)
                                 or (isinstance(item, float) and not math.isfinite(item))):
            raise RecordError(f"summary {key} is {quote(item)}")
        summary[key] = item
    if summary["routine"] not in ROUTINES or not summary["started_at"] \
            or not summary["zone"]:
        raise RecordError("summary needs a known routine, started_at and zone")
    return summary


def _rows(message: dict[str, Any], table: str, columns: tuple[str, ...]) -> list[list[Any]]:
    rows = message.get(table, [])
    if not isinstance(rows, list) or len(rows) > 10**6:
        raise RecordError(f"{table} is not a list")
    older = len(columns) - ADDED.get(table, 0)
    for i, row in enumerate(rows):
        if isinstance(row, list) and len(row) == older < len(columns):
            rows[i] = row = [*row, *[0] * (len(columns) - older)]
        if not isinstance(row, list) or len(row) != len(columns):
            raise RecordError(f"{table}: a row is not {len(columns)} values")
        for name, item in zip(columns, row, strict=True):
            if name in ("region", "routine"):
                if item not in (REGIONS if name == "region" else ROUTINES):
                    raise RecordError(f"{table}: {name} {quote(item)}")
            elif not _number(item):
                raise RecordError(f"{table}: {name} {quote(item)} is not a number")
    return rows


def _raw(value: Any) -> list[list[Any]] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(
            isinstance(b, list) and len(b) == 4 and _number(b[0]) and _number(b[1])
            and _number(b[2]) and isinstance(b[3], str) for b in value):
        raise RecordError("raw is not a list of [seq, t0_s, samples, data] blocks")
    return value


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) \
        and math.isfinite(value)
