"""How values are kept in the store's columns: UTC ISO-8601 times, raw samples as
zlib-compressed float32 blocks (time relative to the block's first sample), a session's
track as compressed float64.

Every read of the store keeps its times here, most of them no raw samples: numpy is imported
by :func:`unpack`, so that a command that reads no samples (``roller history``) starts
without it."""

from __future__ import annotations

import math
import sys
import zlib
from array import array
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Array = npt.NDArray[np.float64]


#: A session's local day in SQL: a row whose start is no time at all (a damaged row) is
#: never the first or the last one.
STARTED: Final = "julianday(started_at)"


def local_day(started_at: str, zone: str) -> date | None:
    """The local day of a session's stored start in its stored zone; in UTC when the zone
    is damaged, None when the start is."""
    try:
        moment = datetime.fromisoformat(started_at)
    except (ValueError, TypeError):
        return None
    try:
        return moment.astimezone(ZoneInfo(zone)).date()
    except (ValueError, TypeError, ZoneInfoNotFoundError, OSError):
        return moment.astimezone(UTC).date()


def iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("store times must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def pack(block: Array) -> bytes:
    """Samples as float32 with time relative to the block's first sample, compressed."""
    relative = block.copy()
    relative[:, 0] -= block[0, 0]
    return zlib.compress(relative.astype("<f4").tobytes(), 6)


def unpack(data: bytes, t0_s: float, samples: int) -> Array:
    """A stored block; :class:`ValueError` (or :class:`zlib.error`) when it is damaged."""
    import numpy as np

    raw = _inflate(data, samples * 7 * 4, f"{samples} samples")
    block = np.frombuffer(raw, dtype="<f4").reshape(-1, 7).astype(np.float64)
    block[:, 0] += t0_s
    return block


#: A track point: the time (s from the session's start), the position and its uncertainty.
TRACK_POINT: Final = 3
#: More than any blob the store writes inflates to (a track of 4 h at the estimator's
#: fastest, 100 Hz, is 35 MB; a raw block of 600 s at 200 Hz, 3.4 MB): a stored size
#: beyond it is damage, refused before anything is inflated.
MOST_INFLATED: Final = 64 * 2**20


def pack_track(t_s: Sequence[float], s_cm: Sequence[float], s_sd_cm: Sequence[float]) -> bytes:
    """A session's track as float64 triples, compressed: 24 bytes a point before zlib,
    0.86 MB an hour at the estimator's 10 Hz. Exactly the estimator's values, so a show of
    the stored track draws what analysing the samples again draws, to the dot (float32 moved
    a point at a hold's end out of it). Written with :mod:`array`, not numpy, so that
    reading it back needs no numpy either (``roller session show``). :class:`ValueError`
    when the three differ in length."""
    points = array("d", (v for point in zip(t_s, s_cm, s_sd_cm, strict=True) for v in point))
    if sys.byteorder == "big":
        points.byteswap()  # stored little-endian, as the raw blocks are
    return zlib.compress(points.tobytes(), 6)


def unpack_track(data: bytes, points: int) -> tuple[list[float], list[float], list[float]]:
    """A stored track (times, positions, uncertainties); :class:`ValueError` (or
    :class:`zlib.error`) when it is damaged, as :func:`unpack`."""
    values = array("d")
    values.frombytes(_inflate(data, points * TRACK_POINT * values.itemsize, f"{points} points"))
    if sys.byteorder == "big":
        values.byteswap()
    if not all(map(math.isfinite, values)):
        raise ValueError("a track point is not a finite number")
    t_s, s_cm, s_sd_cm = (values[i::TRACK_POINT].tolist() for i in range(TRACK_POINT))
    return t_s, s_cm, s_sd_cm


def _inflate(data: bytes, size: int, what: str) -> bytes:
    """``data`` inflated to exactly ``size`` bytes, and no further: a blob that would give
    more (a zlib bomb, 1.4 MB that inflates to 1 GiB) is refused after that many bytes,
    never held whole."""
    if not 0 < size <= MOST_INFLATED:
        raise ValueError(what)
    inflate = zlib.decompressobj()
    raw = inflate.decompress(data, size)
    if inflate.unconsumed_tail or not inflate.eof:
        raise ValueError(f"more bytes than {what} take ({size}), or cut short")
    if len(raw) != size:
        raise ValueError(f"{len(raw)} bytes where {what} take {size}")
    return raw
