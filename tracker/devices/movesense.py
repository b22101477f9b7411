"""Movesense (e.g. Movesense Active) with the GATT SensorData protocol: IMU6 streaming.

From Movesense's device library, sample ``gatt_sensordata_app`` (its firmware and clients)
and the ``/Meas/IMU6`` API; see docs/devices.md. The client writes ``01 <ref> /Meas/IMU6/104``
to subscribe and ``02 <ref>`` to unsubscribe; the sensor notifies ``02 <ref>`` + data for each
batch: a uint32 timestamp (ms, of the first sample), then n accelerations (3 x float32,
m/s^2), then n rates (3 x float32, deg/s); sample ``i`` was taken ``i`` periods after the
timestamp. A batch follows the rate (rate / 13 samples: 8 at 104 Hz, 198 bytes), not the MTU:
one longer than the firmware's 150-byte payload goes out as ``02 <ref>`` + its first 150
bytes and ``03 <ref>`` + the rest (``04``, a third part, is defined too), joined as
``part1 + part2[2:]``. Command results are ``01 <ref>`` + a status (the sample writes 507, no
free slot, big-endian; newer firmware little-endian) or, for HELLO, text.
"""

from __future__ import annotations

import logging
import struct
from typing import Final

import numpy as np

from tracker.devices.base import (
    G_M_S2,
    Array,
    Decoder,
    FrameError,
    LinkStats,
    Profile,
    Samples,
    roller_log,
)

log = logging.getLogger(__name__)

SERVICE_UUID: Final = "34802252-7185-4d5d-b431-630e7050e8f0"
WRITE_UUID: Final = "34800001-7185-4d5d-b431-630e7050e8f0"
NOTIFY_UUID: Final = "34800002-7185-4d5d-b431-630e7050e8f0"

HELLO: Final = 0
SUBSCRIBE: Final = 1
UNSUBSCRIBE: Final = 2
RESULT: Final = 1
DATA: Final = 2
DATA_PART2: Final = 3  # the rest of a batch too long for one notification
DATA_PART3: Final = 4
SPLIT_BYTES: Final = 150  # the firmware sample's payload in a batch's first notification
RATES_HZ: Final = (13, 26, 52, 104, 208)
REFERENCE: Final = 0x72  # our subscription's client reference (any non-zero byte)
CLOCK_MOD_MS: Final = 1 << 32
_HEAD = struct.Struct("<BBI")
_SAMPLE_BYTES = 24  # one acceleration and one rate, 3 x float32 each


def subscribe(rate_hz: int, reference: int = REFERENCE) -> bytes:
    """As the manufacturer's clients write it: a leading slash, no terminating NUL."""
    return bytes([SUBSCRIBE, reference]) + f"/Meas/IMU6/{rate_hz}".encode()


def batch_samples(rate_hz: int) -> int:
    """Samples in one batch at ``rate_hz``: the sensor sends 8 a batch at 104 Hz."""
    return max(1, rate_hz // 13)


def unsubscribe(reference: int = REFERENCE) -> bytes:
    return bytes([UNSUBSCRIBE, reference])


def parse_command(data: bytes) -> tuple[int, int, str]:
    """Command, reference and path (the simulated sensor's side)."""
    if len(data) < 2 or data[0] not in (HELLO, SUBSCRIBE, UNSUBSCRIBE) or data[1] == 0:
        raise FrameError(f"not a Movesense command: {data.hex()}")
    return data[0], data[1], data[2:].rstrip(b"\0").decode(errors="replace")


def encode_data(t_ms: int, accel_m_s2: Array, gyro_dps: Array,
                reference: int = REFERENCE) -> list[bytes]:
    """One IMU6 batch as the firmware sample sends it (the simulated sensor's side): one
    notification, or two when it is longer than :data:`SPLIT_BYTES`."""
    body = (struct.pack("<I", t_ms % CLOCK_MOD_MS) + accel_m_s2.astype("<f4").tobytes()
            + gyro_dps.astype("<f4").tobytes())
    if len(body) <= SPLIT_BYTES:
        return [bytes([DATA, reference]) + body]
    return [bytes([DATA, reference]) + body[:SPLIT_BYTES],
            bytes([DATA_PART2, reference]) + body[SPLIT_BYTES:]]


def status_of(data: bytes) -> int | str | None:
    """What a command result says: a status code (read little-endian, as newer firmware
    writes it, else big-endian, as the sample writes 507), text (HELLO's reply), or None."""
    body = data[2:]
    if len(body) == 1:
        return body[0]  # a one-byte status (the offline sample's 200)
    if len(body) == 2:
        for order in ("little", "big"):
            code = int.from_bytes(body, order)
            if 100 <= code < 600:
                return code
        return None
    text = body.split(b"\0")[0] if body[:1].isalpha() else body[1:].split(b"\0")[0]
    return text.decode(errors="replace") or None


class Joiner:
    """Joins a batch split over notifications, ``part1 + part2[2:]`` (and a third part).

    A batch is whole at the size the rate gives; a first part shorter than that waits for its
    continuation. A part whose partner was lost is dropped: the next batch's timestamp counts
    the batch lost, so nothing is counted twice. Pure, and never raises.
    """

    def __init__(self, rate_hz: int) -> None:
        self.whole_bytes = _HEAD.size + batch_samples(rate_hz) * _SAMPLE_BYTES
        self._pending: bytes | None = None

    def feed(self, data: bytes) -> list[bytes]:
        """Whole data frames completed by this notification (usually one, or none)."""
        kind = data[0] if data else None
        if kind == DATA:
            done = self._flush()
            if 2 <= len(data) < self.whole_bytes:
                self._pending = data
                return done
            return [*done, data]
        if kind in (DATA_PART2, DATA_PART3) and len(data) >= 2:
            if self._pending is None or self._pending[1] != data[1]:
                log.debug("dropped a Movesense continuation whose first part was lost")
                return []
            self._pending += data[2:]
            if len(self._pending) >= self.whole_bytes:
                return self._flush()
        return []

    def _flush(self) -> list[bytes]:
        """The pending batch, if it holds whole samples (a batch shorter than the rate gives:
        learn that size); a torn one is dropped."""
        pending, self._pending = self._pending, None
        if pending is None:
            return []
        body = len(pending) - _HEAD.size
        if body >= _SAMPLE_BYTES and body % _SAMPLE_BYTES == 0:
            self.whole_bytes = len(pending)
            return [pending]
        log.debug("dropped a Movesense batch whose continuation was lost")
        return []


def decode_data(data: bytes) -> tuple[int, int, Array, Array]:
    """Reference, timestamp (ms), accelerations (m/s^2) and rates (deg/s) of a data frame."""
    body = len(data) - _HEAD.size
    if len(data) < 2 or data[0] != DATA:
        raise FrameError(f"not a data frame: {data[:8].hex()}")
    if body < _SAMPLE_BYTES or body % _SAMPLE_BYTES:
        raise FrameError(f"{len(data)} bytes is not a whole number of IMU6 samples")
    _, reference, t_ms = _HEAD.unpack_from(data)
    n = body // _SAMPLE_BYTES
    values = np.frombuffer(data, dtype="<f4", offset=_HEAD.size).astype(np.float64)
    accel, gyro = values[: 3 * n].reshape(n, 3), values[3 * n :].reshape(n, 3)
    if not (np.isfinite(accel).all() and np.isfinite(gyro).all()):
        raise FrameError("a sample is not a finite number")
    return reference, t_ms, accel, gyro


def describe_status(status: int | str | None) -> str:
    """A command result in words, for the log and roller doctor."""
    meaning = {200: "OK", 404: "no such resource", 507: "no free subscription slot"}
    if isinstance(status, int):
        return f"{status} ({meaning.get(status, 'error' if status >= 400 else 'status')})"
    return "no result" if status is None else f"says {status!r}"


class MovesenseDecoder:
    """Data frames to samples on the sensor's clock, its rate learned from the timestamps.

    The millisecond timestamps give the true sample period (the nominal 104 Hz is not
    exact) once a few batches have come; a batch later than the period predicts counts
    the batches lost in between.
    """

    def __init__(self, rate_hz: int, reference: int = REFERENCE) -> None:
        self.stats = LinkStats()
        self.log = roller_log(log)  # the link names its roller (ble.Link)
        self.reference = reference
        self.joiner = Joiner(rate_hz)
        self.status: int | str | None = None  # the last command result, for roller doctor
        self.period_s = 1.0 / rate_hz
        self._nominal_s = self.period_s
        self._last: tuple[int, int] | None = None  # unwrapped timestamp (ms), batch size
        self._wraps = 0

    def reconnected(self) -> None:
        """A new connection: half a batch from the old one has no continuation coming. Its
        timestamps run on through a sleep (one clock), so they are still judged as before."""
        self.joiner = Joiner(round(1.0 / self._nominal_s))

    def feed(self, data: bytes, arrival_s: float) -> Samples | None:
        data = bytes(data)
        if data[:1] == bytes([RESULT]) and len(data) >= 3:
            self._result(data)
            return None
        if data[:1] in (bytes([DATA]), bytes([DATA_PART2]), bytes([DATA_PART3])):
            batches = [self._batch(frame) for frame in self.joiner.feed(data)]
        else:
            batches = [self._batch(data)]
        found = [b for b in batches if b is not None]
        if not found:
            return None
        if len(found) == 1:
            return found[0]
        return (np.concatenate([b[0] for b in found]), np.concatenate([b[1] for b in found]),
                np.concatenate([b[2] for b in found]))

    def _result(self, data: bytes) -> None:
        self.status = status_of(data)
        if isinstance(self.status, int) and self.status >= 300:
            self.log.warning("the Movesense sensor refused the IMU6 subscription: %s",
                        describe_status(self.status))
        else:
            self.log.info("Movesense command result: %s", self.status)

    def _batch(self, data: bytes) -> Samples | None:
        try:
            reference, t_ms, accel, gyro = decode_data(data)
        except FrameError as exc:
            self.stats.malformed += 1
            self.log.warning("dropped a malformed Movesense frame: %s", exc)
            return None
        if reference != self.reference:
            self.stats.unknown += 1
            return None
        t_ms += self._wraps * CLOCK_MOD_MS
        if self._last is not None:
            if t_ms < self._last[0] - CLOCK_MOD_MS // 2:
                self._wraps += 1
                t_ms += CLOCK_MOD_MS
            if t_ms <= self._last[0]:
                self.stats.malformed += 1
                self.log.warning("dropped a repeated or stale Movesense frame")
                return None
            self._learn(t_ms - self._last[0], self._last[1])
        self._last = (t_ms, len(accel))
        self.stats.packets += 1
        t_s = t_ms / 1000 + np.arange(len(accel), dtype=np.float64) * self.period_s
        return t_s, accel / G_M_S2, gyro

    def _learn(self, step_ms: int, batch: int) -> None:
        """Update the period from one batch's span; count batches lost in a longer one."""
        span_s = batch * self.period_s
        batches = round(step_ms / 1000 / span_s)
        if batches > 1:
            self.stats.lost += batches - 1
        elif batches == 1:
            measured = step_ms / 1000 / batch
            if abs(measured / self._nominal_s - 1) < 0.1:
                self.period_s += 0.05 * (measured - self.period_s)


def advice(decoder: Decoder, rate_hz: int) -> tuple[str, ...]:
    """A refused subscription, in words, with what to do."""
    assert isinstance(decoder, MovesenseDecoder)
    status = decoder.status
    if isinstance(status, int) and status >= 300:
        return (f"the Movesense sensor refused the IMU6 subscription: "
                f"{describe_status(status)}; close other apps using it, or restart it",)
    return ()


PROFILE = Profile(
    name="movesense",
    label="Movesense (GATT SensorData)",
    manufacturer="Movesense",
    model="Movesense",
    service_uuid=SERVICE_UUID,
    notify_uuid=NOTIFY_UUID,
    write_uuid=WRITE_UUID,
    rates_hz=RATES_HZ,
    name_prefixes=("Movesense",),
    configure=lambda rate_hz: (),
    start=lambda rate_hz: (subscribe(rate_hz),),
    stop=lambda: (unsubscribe(),),
    decoder=MovesenseDecoder,
    advice=advice,
)
