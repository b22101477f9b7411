"""WitMotion BWT901BLECL (Bluetooth 5.0): frames, commands and an arrival-timed decoder.

Layouts from WitMotion's WT901BLECL 5.0 manual (section 6, communication protocol) and
its Python SDK (github.com/WITMOTION/WitBluetooth_BWT901BLE5_0); see docs/devices.md.
Each notification carries 20-byte frames ``55 61`` + nine little-endian int16: acceleration
(raw / 32768 * 16 g), angular rate (raw / 32768 * 2000 deg/s) and angle (raw / 32768 * 180
deg), x y z each. ``55 71`` frames answer register reads. Commands are ``FF AA reg lo hi``.
Frames carry no time: :class:`~tracker.devices.clock.ArrivalClock` times them.
"""

from __future__ import annotations

import logging
import struct
from typing import Final

import numpy as np
import numpy.typing as npt

from tracker.devices.base import Array, FrameError, LinkStats, Profile, Samples
from tracker.devices.clock import ArrivalClock

log = logging.getLogger(__name__)

# The firmware's UUIDs end in ...9a34fb, not the Bluetooth base's ...9b34fb: as shipped.
SERVICE_UUID: Final = "0000ffe5-0000-1000-8000-00805f9a34fb"
NOTIFY_UUID: Final = "0000ffe4-0000-1000-8000-00805f9a34fb"
WRITE_UUID: Final = "0000ffe9-0000-1000-8000-00805f9a34fb"

HEADER: Final = 0x55
IMU_FLAG: Final = 0x61
REGISTER_FLAG: Final = 0x71
FRAME_SIZE: Final = 20
ACCEL_FULL_G: Final = 16.0
GYRO_FULL_DPS: Final = 2000.0
ANGLE_FULL_DEG: Final = 180.0

REG_SAVE: Final = 0x00
REG_RATE: Final = 0x03
REG_KEY: Final = 0x69
UNLOCK_KEY: Final = 0xB588
#: Output rate register values (WitMotion's RRATE codes) for the rates we use.
RATE_CODES: Final = {10: 0x06, 20: 0x07, 50: 0x08, 100: 0x09, 200: 0x0B}
_COMMAND = struct.Struct("<BBBH")
_FRAME = struct.Struct("<BB9h")


def command(register: int, value: int) -> bytes:
    """``FF AA reg lo hi``: write ``value`` to a register."""
    return _COMMAND.pack(0xFF, 0xAA, register, value)


def parse_command(data: bytes) -> tuple[int, int]:
    """Register and value of a command (the simulated sensor's side)."""
    if len(data) != _COMMAND.size or data[:2] != b"\xff\xaa":
        raise FrameError(f"not a WitMotion command: {data.hex()}")
    _, _, register, value = _COMMAND.unpack(data)
    return register, value


UNLOCK: Final = command(REG_KEY, UNLOCK_KEY)  # FF AA 69 88 B5: writes allowed for 10 s
SAVE: Final = command(REG_SAVE, 0)  # FF AA 00 00 00


def configure(rate_hz: int) -> tuple[bytes, ...]:
    """Unlock, set the output rate, save: as WitMotion's SDK writes a register.

    The sensor streams whenever notifications are on, so this comes first.
    """
    return UNLOCK, command(REG_RATE, RATE_CODES[rate_hz]), SAVE


def encode_frames(accel_g: Array, gyro_dps: Array, angle_deg: Array) -> list[bytes]:
    """One IMU frame per row (the simulated sensor's side), saturating at full scale."""
    scaled = np.hstack([accel_g / ACCEL_FULL_G, gyro_dps / GYRO_FULL_DPS,
                        angle_deg / ANGLE_FULL_DEG]) * 32768
    raw = np.clip(np.round(scaled), -32768, 32767).astype("<i2")
    head = bytes([HEADER, IMU_FLAG])
    return [head + row.tobytes() for row in raw]


def decode_frames(data: bytes) -> tuple[npt.NDArray[np.int16], int, int]:
    """IMU frames' raw int16 (n, 9) in one notification, other frames, malformed runs.

    A notification should hold whole frames. A byte that does not start a frame begins a
    malformed run, which ends at the next complete frame header.
    """
    rows: list[tuple[int, ...]] = []
    other = malformed = 0
    i, in_garbage = 0, False
    while i < len(data):
        if data[i] == HEADER and i + FRAME_SIZE <= len(data) and data[i + 1] in (
                IMU_FLAG, REGISTER_FLAG):
            if data[i + 1] == IMU_FLAG:
                rows.append(_FRAME.unpack_from(data, i)[2:])
            else:
                other += 1
            i += FRAME_SIZE
            in_garbage = False
            continue
        if not in_garbage:
            malformed += 1
            in_garbage = True
        i += 1
    return np.array(rows, dtype=np.int16).reshape(-1, 9), other, malformed


class WitmotionDecoder:
    """Frames to samples, each timed by the arrival clock."""

    def __init__(self, rate_hz: int) -> None:
        self.clock = ArrivalClock(rate_hz)
        self.stats = LinkStats()

    def feed(self, data: bytes, arrival_s: float) -> Samples | None:
        raw, other, malformed = decode_frames(bytes(data))
        self.stats.unknown += other
        self.stats.malformed += malformed
        if malformed:
            log.warning("dropped %d malformed bytes run(s) from the WitMotion sensor", malformed)
        if not len(raw):
            return None
        times = []
        for _ in range(len(raw)):  # frames in one notification were sent one period apart
            t_s, lost = self.clock.stamp(arrival_s)
            self.stats.lost += lost
            times.append(t_s)
        self.stats.packets += len(raw)
        values = raw.astype(np.float64) / 32768
        return (np.array(times), values[:, 0:3] * ACCEL_FULL_G, values[:, 3:6] * GYRO_FULL_DPS)


PROFILE = Profile(
    name="witmotion",
    label="WitMotion BWT901BLECL",
    service_uuid=SERVICE_UUID,
    notify_uuid=NOTIFY_UUID,
    write_uuid=WRITE_UUID,
    rates_hz=tuple(RATE_CODES),
    name_prefixes=("WT901", "BWT901"),
    configure=configure,
    start=lambda rate_hz: (),
    stop=lambda: (),
    decoder=WitmotionDecoder,
    command_gap_s=0.1,
)
