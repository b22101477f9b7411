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
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tracker.core.body import REGIONS, ROUTINES
from tracker.core.comfort import SCALE
from tracker.core.errors import InputError
from tracker.core.formats.parts import parse_parts
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
    # the person's comfort scores (0 none to 10 the worst), a part each; an older
    # gateway's record has none
    "comfort": ("seq", "area", "score", "given_at"),
}
#: Columns a record from an older gateway leaves off the end of a table's rows: read as 0.
ADDED: Final[dict[str, int]] = {"parts": 2}
_UID = re.compile(r"[0-9a-f]{8,32}")
_GATEWAY = re.compile(r"[a-z0-9_-]{1,64}")
#: A roller's address as any platform gives it (a MAC, a CoreBluetooth UUID, a path).
_DEVICE = re.compile(r"[0-9A-Za-z:_./-]{1,64}")
#: An IANA zone's name, before zoneinfo is asked (which would otherwise read a path).
_ZONE = re.compile(r"[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+){0,2}")
#: What every command can use, value by value: a record outside is refused, not stored.
#: Seconds of session time (ten days: longer than any session ends by itself).
MAX_SESSION_S: Final = 864_000.0
#: The device clock at the first sample (a sensor's uptime, or a recording's own times).
MAX_CLOCK_S: Final = 1e10
#: A count: what SQLite's INTEGER holds.
MAX_COUNT: Final = 2**63 - 1
#: Session starts the schedule and the pictures can place: after 2000, before 2200.
EARLIEST: Final = datetime.fromisoformat("2000-01-01T00:00:00+00:00")
LATEST: Final = datetime.fromisoformat("2200-01-01T00:00:00+00:00")
#: A stored block spans at most one checkpoint (600 s at most).
MAX_BLOCK_S: Final = 600.0
RANGES: Final[dict[str, tuple[float, float]]] = {
    "sample_rate_hz": (1.0, 10_000.0), "diameter_cm": (2.0, 50.0), "height_cm": (50.0, 272.0),
    "clock_start_s": (-MAX_CLOCK_S, MAX_CLOCK_S), "duration_s": (0.0, MAX_SESSION_S),
    "active_s": (0.0, MAX_SESSION_S), "paused_s": (0.0, MAX_SESSION_S),
    "glutes_active_s": (0.0, MAX_SESSION_S), "cadence_cpm": (0.0, 10_000.0),
    "strokes": (0, MAX_COUNT), "lumbar_events": (0, MAX_COUNT),
    "caution_events": (0, MAX_COUNT), "override": (0, 1),
}
#: The summary values that may not be null (the rest: "not known yet", read as 0).
REQUIRED: Final = ("routine", "status", "started_at", "zone", "source", "sample_rate_hz",
                   "diameter_cm", "height_cm")
#: The words a summary value may be.
WORDS: Final[dict[str, tuple[str, ...]]] = {
    "status": ("complete", "interrupted"),
    "end_reason": ("stopped", "still", "disconnected", "imported", "crash"),
    "source": ("live", "sim", "import"),
    "verdict": ("allowed", "too_soon", "over_quota"),
    "routine": ROUTINES,
}


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
    if device is not None and not (isinstance(device, str) and _DEVICE.fullmatch(device)):
        raise RecordError(f"device {quote(device)} is not a roller's address")
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
    if zone is not None:
        check_zone("person zone", zone)
    if not isinstance(rules, dict):
        raise RecordError("person rules are malformed")
    return PersonRecord(uid, name, height, zone, rules)


def check_zone(what: str, zone: object) -> str:
    """An IANA zone zoneinfo knows; :class:`RecordError` naming ``what`` otherwise."""
    if isinstance(zone, str) and len(zone) <= 64 and _ZONE.fullmatch(zone):
        try:
            ZoneInfo(zone)
            return zone
        except (ValueError, OSError, ZoneInfoNotFoundError):
            pass
    raise RecordError(f"{what} {quote(zone)} is not a known time zone")


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
    _values(summary)
    return summary


def _values(summary: dict[str, Any]) -> None:
    """Each summary value within what the store and every command use."""
    for key in REQUIRED:
        if summary[key] is None:
            raise RecordError(f"summary {key} is null")
    for key, words in WORDS.items():
        if summary[key] is not None and summary[key] not in words:
            raise RecordError(f"summary {key} is {quote(summary[key])}, not one of "
                              f"{', '.join(words)}")
    for key, (low, high) in RANGES.items():
        if summary[key] is not None and not low <= summary[key] <= high:
            raise RecordError(f"summary {key} is {quote(summary[key])}, not {low:g} to "
                              f"{high:g}")
    started = _moment("started_at", summary["started_at"])
    if summary["ended_at"] is not None and _moment("ended_at", summary["ended_at"]) < started:
        raise RecordError("summary ended_at is before started_at")
    check_zone("summary zone", summary["zone"])
    areas = (summary["areas"] or summary["routine"]).split(",")
    if not set(areas) <= set(ROUTINES):
        raise RecordError(f"summary areas {quote(summary['areas'])} are not areas")
    try:
        parse_parts(summary["switches"] or "")
    except ValueError as exc:
        raise RecordError(f"summary switches: {exc}") from None
    _pairs("pauses", summary["pauses"], lambda v: _number(v) and 0 <= v <= MAX_SESSION_S)
    _pairs("link_gaps", summary["link_gaps"],
           lambda v: v is None or (isinstance(v, str) and _is_moment(v)))
    if summary["program"] is not None:
        try:
            json.loads(summary["program"])
        except ValueError:
            raise RecordError("summary program is not JSON") from None


def _moment(key: str, value: str) -> datetime:
    """A time with its offset, between :data:`EARLIEST` and :data:`LATEST`."""
    if not _is_moment(value):
        raise RecordError(f"summary {key} {quote(value)} is not a time from 2000 to 2200 "
                          "with its offset")
    return datetime.fromisoformat(value)


def _is_moment(value: str) -> bool:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return False
    return moment.tzinfo is not None and EARLIEST <= moment < LATEST


def _pairs(key: str, text: str | None, good: Any) -> None:
    """A JSON list of pairs (``pauses``, ``link_gaps``) whose values are all ``good``."""
    if text is None:
        return
    try:
        pairs = json.loads(text)
    except ValueError:
        pairs = None
    if not isinstance(pairs, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(good(v) for v in p) for p in pairs):
        raise RecordError(f"summary {key} is {quote(text)}, not a list of pairs")


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
            elif name in ("seq", "strokes"):
                if not (_number(item) and isinstance(item, int) and 0 <= item <= MAX_COUNT):
                    raise RecordError(f"{table}: {name} {quote(item)} is not a count")
            elif name == "area":
                if item not in ROUTINES:
                    raise RecordError(f"{table}: {name} {quote(item)}")
            elif name == "score":
                if not (isinstance(item, int) and not isinstance(item, bool)
                        and SCALE[0] <= item <= SCALE[1]):
                    raise RecordError(f"{table}: {name} {quote(item)} is not a score")
            elif name == "given_at":
                if not (isinstance(item, str) and _is_moment(item)):
                    raise RecordError(f"{table}: {name} {quote(item)} is not a moment")
            elif name in ("end_for_end", "orientation_unsure"):
                if item not in (0, 1) or isinstance(item, float):
                    raise RecordError(f"{table}: {name} {quote(item)} is not 0 or 1")
            elif not (_number(item) and abs(item) <= MAX_SESSION_S):
                raise RecordError(f"{table}: {name} {quote(item)} is not a session time")
    return rows


def _raw(value: Any) -> list[list[Any]] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(
            isinstance(b, list) and len(b) == 4 and _count(b[0]) and _number(b[1])
            and abs(b[1]) <= MAX_CLOCK_S and _count(b[2]) and b[2] > 0
            and isinstance(b[3], str) for b in value):
        raise RecordError("raw is not a list of [seq, t0_s, samples, data] blocks")
    return value


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_COUNT


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) \
        and math.isfinite(value)
