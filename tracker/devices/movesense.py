"""Movesense (e.g. Movesense Active) with the GATT SensorData protocol: IMU6 streaming.

From Movesense's device library, sample ``gatt_sensordata_app`` (its firmware and clients)
and the ``/Meas/IMU6`` API; see docs/devices.md. The client writes ``01 <ref> <path>`` to
subscribe and ``02 <ref>`` to unsubscribe; the sensor notifies ``01 <ref> <u16 status>``
for a command's result and ``02 <ref>`` + data for each batch: a uint32 timestamp (ms, of
the first sample), then n accelerations (3 x float32, m/s^2), then n rates (3 x float32,
deg/s). Sample ``i`` was taken ``i`` periods after the timestamp.
"""

from __future__ import annotations

import logging
import struct
from typing import Final

import numpy as np

from tracker.devices.base import G_M_S2, Array, FrameError, LinkStats, Profile, Samples

log = logging.getLogger(__name__)

SERVICE_UUID: Final = "34802252-7185-4d5d-b431-630e7050e8f0"
WRITE_UUID: Final = "34800001-7185-4d5d-b431-630e7050e8f0"
NOTIFY_UUID: Final = "34800002-7185-4d5d-b431-630e7050e8f0"

HELLO: Final = 0
SUBSCRIBE: Final = 1
UNSUBSCRIBE: Final = 2
RESULT: Final = 1
DATA: Final = 2
RATES_HZ: Final = (13, 26, 52, 104, 208)
REFERENCE: Final = 0x72  # our subscription's client reference (any non-zero byte)
CLOCK_MOD_MS: Final = 1 << 32
_HEAD = struct.Struct("<BBI")
_SAMPLE_BYTES = 24  # one acceleration and one rate, 3 x float32 each


def subscribe(rate_hz: int, reference: int = REFERENCE) -> bytes:
    return bytes([SUBSCRIBE, reference]) + f"Meas/IMU6/{rate_hz}".encode()


def unsubscribe(reference: int = REFERENCE) -> bytes:
    return bytes([UNSUBSCRIBE, reference])


def parse_command(data: bytes) -> tuple[int, int, str]:
    """Command, reference and path (the simulated sensor's side)."""
    if len(data) < 2 or data[0] not in (HELLO, SUBSCRIBE, UNSUBSCRIBE) or data[1] == 0:
        raise FrameError(f"not a Movesense command: {data.hex()}")
    return data[0], data[1], data[2:].decode(errors="replace")


def encode_result(status: int, reference: int = REFERENCE) -> bytes:
    return struct.pack("<BBH", RESULT, reference, status)


def encode_data(t_ms: int, accel_m_s2: Array, gyro_dps: Array,
                reference: int = REFERENCE) -> bytes:
    """One IMU6 notification (the simulated sensor's side)."""
    head = _HEAD.pack(DATA, reference, t_ms % CLOCK_MOD_MS)
    return (head + accel_m_s2.astype("<f4").tobytes() + gyro_dps.astype("<f4").tobytes())


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


class MovesenseDecoder:
    """Data frames to samples on the sensor's clock, its rate learned from the timestamps.

    The millisecond timestamps give the true sample period (the nominal 104 Hz is not
    exact) once a few batches have come; a batch later than the period predicts counts
    the batches lost in between.
    """

    def __init__(self, rate_hz: int, reference: int = REFERENCE) -> None:
        self.stats = LinkStats()
        self.reference = reference
        self.period_s = 1.0 / rate_hz
        self._nominal_s = self.period_s
        self._last: tuple[int, int] | None = None  # unwrapped timestamp (ms), batch size
        self._wraps = 0

    def feed(self, data: bytes, arrival_s: float) -> Samples | None:
        data = bytes(data)
        if data[:1] == bytes([RESULT]) and len(data) == 4:
            status = struct.unpack_from("<H", data, 2)[0]
            if status >= 300:
                log.warning("the Movesense sensor refused the IMU6 subscription (%d)", status)
            return None
        try:
            reference, t_ms, accel, gyro = decode_data(data)
        except FrameError as exc:
            self.stats.malformed += 1
            log.warning("dropped a malformed Movesense frame: %s", exc)
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
                log.warning("dropped a repeated or stale Movesense frame")
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


PROFILE = Profile(
    name="movesense",
    label="Movesense (GATT SensorData)",
    service_uuid=SERVICE_UUID,
    notify_uuid=NOTIFY_UUID,
    write_uuid=WRITE_UUID,
    rates_hz=RATES_HZ,
    name_prefixes=("Movesense",),
    configure=lambda rate_hz: (),
    start=lambda rate_hz: (subscribe(rate_hz),),
    stop=lambda: (unsubscribe(),),
    decoder=MovesenseDecoder,
)
