"""How values are kept in the store's columns: UTC ISO-8601 times, raw samples as
zlib-compressed float32 blocks (time relative to the block's first sample).

Every read of the store keeps its times here, most of them no raw samples: numpy is imported
by :func:`unpack`, so that a command that reads no samples (``roller history``) starts
without it."""

from __future__ import annotations

import zlib
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
    """A stored block; :class:`ValueError` (or :class:`zlib.error`) when it is damaged.
    Inflated no further than its declared size: a block that would give more (a zlib bomb,
    1.4 MB that inflates to 1 GiB) is refused after that many bytes, never held whole."""
    import numpy as np

    size = samples * 7 * 4
    if size <= 0:
        raise ValueError(f"{samples} samples")
    inflate = zlib.decompressobj()
    raw = inflate.decompress(data, size)
    if inflate.unconsumed_tail or not inflate.eof:
        raise ValueError(f"more bytes than {samples} samples take ({size}), or cut short")
    if len(raw) != size:
        raise ValueError(f"{len(raw)} bytes where {samples} samples take {size}")
    block = np.frombuffer(raw, dtype="<f4").reshape(-1, 7).astype(np.float64)
    block[:, 0] += t0_s
    return block
