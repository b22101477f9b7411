"""Our own roller's profile: the GATT protocol, version 1 (UUIDs, packets, commands) and its
stream decoder. Pure: bytes in, values out.

Firmware on an ESP32 or nRF52 with any 6-axis IMU can implement it; the simulated roller
does, and the client decodes with the same functions. See docs/protocol.md.
"""

from __future__ import annotations

import enum
import logging
import struct
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from tracker.core.errors import MachineError
from tracker.devices.base import LinkStats, Profile, roller_log

log = logging.getLogger(__name__)
Array = npt.NDArray[np.float64]

PROTOCOL_VERSION: Final = 1
_BASE = "7e1f{:04x}-6b0c-4f3c-9d6e-8a2b6c1d0a01"
SERVICE_UUID: Final = _BASE.format(0x0001)
IMU_DATA_UUID: Final = _BASE.format(0x0002)  # notify
CONTROL_UUID: Final = _BASE.format(0x0003)  # write with response
CONFIG_UUID: Final = _BASE.format(0x0004)  # read
BATTERY_SERVICE_UUID: Final = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL_UUID: Final = "00002a19-0000-1000-8000-00805f9b34fb"  # read, notify
DEVICE_INFO_UUID: Final = "0000180a-0000-1000-8000-00805f9b34fb"
MANUFACTURER_UUID: Final = "00002a29-0000-1000-8000-00805f9b34fb"
MODEL_UUID: Final = "00002a24-0000-1000-8000-00805f9b34fb"
FIRMWARE_UUID: Final = "00002a26-0000-1000-8000-00805f9b34fb"

ACCEL_RANGE_G: Final = 16
GYRO_RANGE_DPS: Final = 2000
RATES_HZ: Final = (25, 50, 100, 200)
ATT_OVERHEAD: Final = 3  # opcode and handle of a notification
DEFAULT_MTU: Final = 23

_HEADER = struct.Struct("<HIB")  # sequence, first-sample time (us, wrapping), sample count
_SAMPLE = struct.Struct("<6h")
_CONFIG = struct.Struct("<BHBHH")  # version, rate, accel range, gyro range, diameter (mm)
SEQ_MOD: Final = 1 << 16
CLOCK_MOD_US: Final = 1 << 32


class Command(enum.IntEnum):
    START = 0x01
    STOP = 0x02
    SET_RATE = 0x03  # followed by the rate in Hz, u16


class ProtocolError(MachineError, ValueError):
    """Bytes that are not a valid message of this protocol: a fault of the device or the link
    (exit 1), still a ``ValueError`` to the decoders that skip a bad packet."""


@dataclass(frozen=True)
class DeviceConfig:
    protocol_version: int
    rate_hz: int
    accel_range_g: int
    gyro_range_dps: int
    diameter_mm: int

    @property
    def diameter_cm(self) -> float:
        return self.diameter_mm / 10


@dataclass(frozen=True)
class Packet:
    seq: int
    t0_us: int
    raw: npt.NDArray[np.int16]  # (count, 6): ax, ay, az, gx, gy, gz in LSB


def samples_per_packet(mtu: int) -> int:
    """How many samples fit one notification at this ATT MTU (at least one)."""
    return max(1, min(255, (mtu - ATT_OVERHEAD - _HEADER.size) // _SAMPLE.size))


def to_raw(accel_g: Array, gyro_dps: Array) -> npt.NDArray[np.int16]:
    """Physical units to int16 at the documented full-scale ranges (saturating)."""
    scaled = np.hstack([accel_g * (32768 / ACCEL_RANGE_G), gyro_dps * (32768 / GYRO_RANGE_DPS)])
    return np.clip(np.round(scaled), -32768, 32767).astype(np.int16)


def from_raw(raw: npt.NDArray[np.int16]) -> tuple[Array, Array]:
    values = raw.astype(np.float64)
    return values[:, :3] * (ACCEL_RANGE_G / 32768), values[:, 3:] * (GYRO_RANGE_DPS / 32768)


def encode_packet(packet: Packet) -> bytes:
    count = len(packet.raw)
    if not 1 <= count <= 255:
        raise ValueError("a packet carries 1 to 255 samples")
    head = _HEADER.pack(packet.seq % SEQ_MOD, packet.t0_us % CLOCK_MOD_US, count)
    return head + packet.raw.astype("<i2").tobytes()


def decode_packet(data: bytes) -> Packet:
    if len(data) < _HEADER.size + _SAMPLE.size:
        raise ProtocolError(f"{len(data)} bytes is too short for an IMU packet")
    seq, t0_us, count = _HEADER.unpack_from(data)
    if count == 0 or len(data) != _HEADER.size + count * _SAMPLE.size:
        raise ProtocolError(f"{len(data)} bytes does not hold {count} samples")
    raw = np.frombuffer(data, dtype="<i2", offset=_HEADER.size).reshape(count, 6)
    return Packet(seq, t0_us, raw.astype(np.int16))


def encode_config(config: DeviceConfig) -> bytes:
    return _CONFIG.pack(config.protocol_version, config.rate_hz, config.accel_range_g,
                        config.gyro_range_dps, config.diameter_mm)


def decode_config(data: bytes) -> DeviceConfig:
    if len(data) != _CONFIG.size:
        raise ProtocolError(f"configuration is {len(data)} bytes, expected {_CONFIG.size}")
    config = DeviceConfig(*_CONFIG.unpack(data))
    if config.rate_hz not in RATES_HZ or config.diameter_mm == 0:
        raise ProtocolError(f"configuration makes no sense: {config}")
    return config


def encode_command(command: Command, rate_hz: int | None = None) -> bytes:
    if command is Command.SET_RATE:
        if rate_hz not in RATES_HZ:
            raise ValueError(f"rate must be one of {RATES_HZ}")
        return struct.pack("<BH", command, rate_hz)
    return bytes([command])


def decode_command(data: bytes) -> tuple[Command, int | None]:
    try:
        command = Command(data[0])
    except (IndexError, ValueError):
        raise ProtocolError(f"unknown command {data.hex()}") from None
    if command is Command.SET_RATE:
        if len(data) != 3 or (rate := struct.unpack_from("<H", data, 1)[0]) not in RATES_HZ:
            raise ProtocolError(f"bad rate command {data.hex()}")
        return command, rate
    if len(data) != 1:
        raise ProtocolError(f"bad command {data.hex()}")
    return command, None


#: The device clock wraps only from its last seconds to its first; any other jump back of
#: more than :data:`RESTART_BACK_US` is the device starting again.
WRAP_MARGIN_US: Final = 60_000_000
RESTART_BACK_US: Final = 1_000_000


class StreamDecoder:
    """Turns notifications into timed samples; counts lost and malformed packets.

    The sequence number (16 bits) and the device clock (32-bit microseconds, about 72 min)
    both wrap; both are unwrapped against the previous packet. A device that restarts
    (battery swapped, firmware reset) begins both again from zero: its clock jumps back
    without being near the end of its range. That starts a new stream within the session,
    placed after the old one by the time between their packets' arrivals, instead of every
    later packet being dropped as stale. A malformed packet is counted, logged and dropped:
    it never stops the stream.

    A new connection (:meth:`reconnected`) starts the sequence check afresh: a roller that
    slept and woke counts its packets from zero again while its clock ran on, and judging
    the new numbers against the old connection's would drop every packet as stale until
    they caught up. The time line carries on: a clock that went back across the
    connections wrapped while they were apart (the arrival times say how often) or the
    roller started again.
    """

    def __init__(self, rate_hz: int) -> None:
        self.rate_hz = rate_hz
        self.stats = LinkStats()
        self.log = roller_log(log)  # the link names its roller (ble.Link)
        self._seq: int | None = None
        self._raw_us = 0  # the previous packet's clock as sent
        self._clock_us = 0  # ... unwrapped, and placed after any earlier streams
        self._offset_us = 0  # added to the device clock: its wraps and restarts
        self._arrival_s = 0.0
        self._fresh = False  # a new connection: its first packet's number is not judged

    def reconnected(self) -> None:
        """A new connection begins: the next packet's sequence number starts a new count."""
        self._fresh = self._seq is not None

    def feed(self, data: bytes, arrival_s: float = 0.0) -> tuple[Array, Array, Array] | None:
        """Samples (t_s, accel_g, gyro_dps) of one notification, or None when dropped.

        The device's own clock times the samples; ``arrival_s`` only places the stream of
        a restarted device after the one before.
        """
        try:
            packet = decode_packet(bytes(data))
        except ProtocolError as exc:
            self.stats.malformed += 1
            self.log.warning("dropped a malformed packet: %s", exc)
            return None
        wraps = self._wraps_apart(packet, arrival_s) if self._fresh else None
        if wraps is not None:  # a new connection, the clock wrapped while apart
            self._offset_us += wraps * CLOCK_MOD_US
        elif self._seq is not None and self._restarted(packet):
            self.stats.restarts += 1
            self.log.warning("the roller started again (its clock went back to %.1f s): a new "
                        "stream in the same session", packet.t0_us / 1e6)
            gap_us = max(int((arrival_s - self._arrival_s) * 1e6), int(1e6 / self.rate_hz))
            self._offset_us = self._clock_us + gap_us - packet.t0_us
        elif self._seq is not None:
            step = 1 if self._fresh else (packet.seq - self._seq) % SEQ_MOD
            if step == 0 or step > SEQ_MOD // 2:
                self.stats.malformed += 1
                self.log.warning("dropped a repeated or stale packet (seq %d)", packet.seq)
                return None
            if packet.t0_us < self._raw_us:
                if not self._wrapped(packet):
                    self.stats.malformed += 1
                    self.log.warning("dropped a packet whose clock went back (seq %d)", packet.seq)
                    return None
                self._offset_us += CLOCK_MOD_US
            self.stats.lost += step - 1
        self._fresh = False
        self._seq, self._raw_us, self._arrival_s = packet.seq, packet.t0_us, arrival_s
        self.stats.packets += 1
        self._clock_us = packet.t0_us + self._offset_us
        count = len(packet.raw)
        t_s = self._clock_us / 1e6 + np.arange(count) / self.rate_hz
        accel, gyro = from_raw(packet.raw)
        return t_s, accel, gyro

    def _wrapped(self, packet: Packet) -> bool:
        return self._raw_us > CLOCK_MOD_US - WRAP_MARGIN_US and packet.t0_us < WRAP_MARGIN_US

    def _wraps_apart(self, packet: Packet, arrival_s: float) -> int | None:
        """How often the clock wrapped between the last connection's last packet and this
        new connection's first, when its clock went back by more than a restart's margin
        and the time between their arrivals says it wrapped (None: it did not wrap)."""
        back_us = self._raw_us - packet.t0_us
        if back_us <= RESTART_BACK_US:
            return None
        expected_us = self._raw_us + max(0.0, arrival_s - self._arrival_s) * 1e6
        wraps = max(1, round((expected_us - packet.t0_us) / CLOCK_MOD_US))
        off_us = abs(packet.t0_us + wraps * CLOCK_MOD_US - expected_us)
        return wraps if off_us <= max(5e6, 0.1 * (expected_us - self._raw_us)) else None

    def _restarted(self, packet: Packet) -> bool:
        back_us = self._raw_us - packet.t0_us
        return back_us > RESTART_BACK_US and not self._wrapped(packet)


PROFILE = Profile(
    name="roller",
    label="roller protocol v1",
    manufacturer="roller project",
    model="roller",
    service_uuid=SERVICE_UUID,
    notify_uuid=IMU_DATA_UUID,
    write_uuid=CONTROL_UUID,
    rates_hz=RATES_HZ,
    name_prefixes=("roller",),
    configure=lambda rate_hz: (encode_command(Command.SET_RATE, rate_hz),),
    start=lambda rate_hz: (encode_command(Command.START),),
    stop=lambda: (encode_command(Command.STOP),),
    decoder=StreamDecoder,
    config_uuid=CONFIG_UUID,
    axes_known=True,
)
