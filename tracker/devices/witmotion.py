"""WitMotion BWT901BLECL (Bluetooth 5.0): frames, commands and an arrival-timed decoder.

Layouts from WitMotion's WT901BLECL 5.0 manual (section 6, communication protocol) and
its Python SDK (github.com/WITMOTION/WitBluetooth_BWT901BLE5_0); see docs/devices.md.
Each notification carries 20-byte frames ``55 61`` + nine little-endian int16: acceleration
(raw / 32768 * 16 g), angular rate (raw / 32768 * 2000 deg/s) and angle (raw / 32768 * 180
deg), x y z each; at 50-200 Hz several frames share a notification. Some models
(WT901SDCL-BT50) append an 8-byte chip time to each frame (28 bytes: year - 2000, month,
day, hour, minute, second, then milliseconds as uint16): those frames are timed by it. Others
carry no time: :class:`~tracker.devices.clock.ArrivalClock` times them. ``55 71`` frames
answer register reads: the start register (uint16), then the eight registers from it.
Commands are ``FF AA reg lo hi``; ``FF AA 27 reg 00`` reads.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

import numpy as np
import numpy.typing as npt

from tracker.devices.base import (
    Array,
    Decoder,
    FrameError,
    LinkStats,
    Profile,
    Samples,
    roller_log,
)
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
TIMED_FRAME_SIZE: Final = 28  # with the chip time appended (WT901SDCL-BT50)
ACCEL_FULL_G: Final = 16.0
GYRO_FULL_DPS: Final = 2000.0
ANGLE_FULL_DEG: Final = 180.0

REG_SAVE: Final = 0x00
REG_RATE: Final = 0x03
REG_READ: Final = 0x27
REG_KEY: Final = 0x69
UNLOCK_KEY: Final = 0xB588
#: Output rate register values (WitMotion's RRATE codes) for the rates we use: REG.h in
#: WitStandardProtocol_JY901 and the Android and Unity SDKs give 0x0B for 200 Hz.
RATE_CODES: Final = {10: 0x06, 20: 0x07, 50: 0x08, 100: 0x09, 200: 0x0B}
#: Another code for the same rate, tried when the first did not take: 0x0A is 200 Hz in the
#: ESPHome component and the BT50 manuals.
OTHER_CODES: Final = {200: 0x0A}
#: What a rate register value means (both 200 Hz codes: whichever the sensor took).
CODE_RATES: Final = {**{code: hz for hz, code in RATE_CODES.items()}, 0x0A: 200}
TORN_SHARE: Final = 0.01  # more torn frames than this is worth telling the person
_COMMAND = struct.Struct("<BBBH")
_FRAME = struct.Struct("<BB9h")
_REPLY = struct.Struct("<BBH8h")
_TIME = struct.Struct("<6BH")


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


def read(register: int) -> bytes:
    """``FF AA 27 reg 00``: ask for the eight registers from ``register`` (a ``55 71``)."""
    return command(REG_READ, register)


def set_rate(code: int) -> tuple[bytes, ...]:
    """Unlock, write the output rate register, save: as WitMotion's SDKs write a register."""
    return UNLOCK, command(REG_RATE, code), SAVE


def configure(rate_hz: int) -> tuple[bytes, ...]:
    """The rate, set the most trusted way; the sensor streams whenever notifications are
    on, so this comes first."""
    return set_rate(RATE_CODES[rate_hz])


def retry_rate(rate_hz: int) -> tuple[tuple[bytes, ...], ...]:
    """The other ways to set ``rate_hz``, when the sensor did not take the first."""
    return tuple(set_rate(code) for code in (OTHER_CODES.get(rate_hz),) if code is not None)


def encode_frames(accel_g: Array, gyro_dps: Array, angle_deg: Array) -> list[bytes]:
    """One IMU frame per row (the simulated sensor's side), saturating at full scale."""
    scaled = np.hstack([accel_g / ACCEL_FULL_G, gyro_dps / GYRO_FULL_DPS,
                        angle_deg / ANGLE_FULL_DEG]) * 32768
    raw = np.clip(np.round(scaled), -32768, 32767).astype("<i2")
    head = bytes([HEADER, IMU_FLAG])
    return [head + row.tobytes() for row in raw]


@dataclass
class Frames:
    """What one notification held."""

    rows: list[tuple[int, ...]] = field(default_factory=list)  # each IMU frame's nine int16
    times_s: list[float | None] = field(default_factory=list)  # their chip times, or None
    registers: dict[int, int] = field(default_factory=dict)  # from register replies
    replies: int = 0
    malformed: int = 0  # runs of bytes that are not frames
    torn: int = 0  # frames cut off at either end of the notification

    @property
    def raw(self) -> npt.NDArray[np.int16]:
        """The IMU frames' raw values, (n, 9)."""
        return np.array(self.rows, dtype=np.int16).reshape(-1, 9)


def decode_frames(data: bytes) -> Frames:
    """The frames of one notification, which should hold whole frames.

    A frame is 20 bytes, or 28 when a plausible chip time follows and the next frame (or the
    notification's end) comes after it. A frame header without its whole frame at the end,
    or bytes before the first header, are a frame torn across notifications; other bytes
    that do not start a frame begin a malformed run, ending at the next frame header.
    """
    found = Frames()
    i, in_garbage = 0, False
    while i < len(data):
        if data[i] == HEADER and i + 1 < len(data) and data[i + 1] in (IMU_FLAG, REGISTER_FLAG):
            if i + FRAME_SIZE > len(data):
                found.torn += 1
                break
            if data[i + 1] == REGISTER_FLAG:
                start, *values = _REPLY.unpack_from(data, i)[2:]
                found.registers.update({start + k: v & 0xFFFF for k, v in enumerate(values)})
                found.replies += 1
                i += FRAME_SIZE
            else:
                found.rows.append(_FRAME.unpack_from(data, i)[2:])
                chip = _chip_time(data, i)
                found.times_s.append(chip)
                i += TIMED_FRAME_SIZE if chip is not None else FRAME_SIZE
            in_garbage = False
            continue
        if i == 0:
            found.torn += 1  # the tail of a frame the previous notification began
        elif not in_garbage:
            found.malformed += 1
        in_garbage = True
        i += 1
    return found


def _chip_time(data: bytes, i: int) -> float | None:
    """The chip time after the frame at ``i`` (POSIX seconds), if a 28-byte frame is there."""
    end = i + TIMED_FRAME_SIZE
    if end > len(data) or (end < len(data) and data[end] != HEADER):
        return None
    if i + FRAME_SIZE + 1 < len(data) and data[i + FRAME_SIZE] == HEADER and \
            data[i + FRAME_SIZE + 1] in (IMU_FLAG, REGISTER_FLAG):
        return None  # another frame follows at 20 bytes
    yy, mo, dd, hh, mi, ss, ms = _TIME.unpack_from(data, i + FRAME_SIZE)
    try:
        moment = datetime(2000 + yy, mo, dd, hh, mi, ss, tzinfo=UTC)
    except ValueError:
        return None
    return moment.timestamp() + ms / 1000 if ms < 1000 else None


class WitmotionDecoder:
    """Frames to samples, each timed by its chip time where it has one, else by the arrival
    clock; the registers the sensor reported, for the rate read-back."""

    def __init__(self, rate_hz: int) -> None:
        self.clock = ArrivalClock(rate_hz)
        self.stats = LinkStats()
        self.log = roller_log(log)  # the link names its roller (ble.Link)
        self.registers: dict[int, int] = {}
        self._last_chip_s: float | None = None

    def reconnected(self) -> None:
        """A new connection: the frames lost while apart are the outage's, not the link's
        losses, so the chip time's gap is not counted; the arrival clock bridges it itself."""
        self._last_chip_s = None

    def feed(self, data: bytes, arrival_s: float) -> Samples | None:
        frames = decode_frames(bytes(data))
        self.registers.update(frames.registers)
        self.stats.unknown += frames.replies
        self.stats.malformed += frames.malformed
        self.stats.torn += frames.torn
        if frames.malformed:
            self.log.warning("dropped %d malformed bytes run(s) from the WitMotion sensor",
                        frames.malformed)
        if not frames.rows:
            return None
        times = [self._stamp(chip, arrival_s) for chip in frames.times_s]
        self.stats.packets += len(frames.rows)
        values = frames.raw.astype(np.float64) / 32768
        return (np.array(times), values[:, 0:3] * ACCEL_FULL_G, values[:, 3:6] * GYRO_FULL_DPS)

    def _stamp(self, chip_s: float | None, arrival_s: float) -> float:
        """A frame's time: its chip time, counting the frames a gap in it lost; else the
        arrival clock's (frames in one notification were sent one period apart)."""
        if chip_s is None:
            t_s, lost = self.clock.stamp(arrival_s)
            self.stats.lost += lost
            return t_s
        if self._last_chip_s is not None:
            self.stats.lost += max(0, round((chip_s - self._last_chip_s) /
                                            self.clock.period_s) - 1)
        self._last_chip_s = chip_s
        return chip_s


def rate_answer(decoder: Decoder) -> int | None:
    """The output rate (Hz) the sensor reported since this was last asked (None: no answer
    yet): it takes the answer, so the next read waits for a fresh one."""
    assert isinstance(decoder, WitmotionDecoder)
    code = decoder.registers.pop(REG_RATE, None)
    return None if code is None else CODE_RATES.get(code, 0)


def advice(decoder: Decoder, rate_hz: int) -> tuple[str, ...]:
    """What the link's figures say to check: torn frames, a rate that is not the one in force."""
    assert isinstance(decoder, WitmotionDecoder)
    said = []
    stats = decoder.stats
    if stats.torn > TORN_SHARE * max(1, stats.packets):
        said.append(f"{stats.torn} WitMotion frames were torn across notifications "
                    f"({100 * stats.torn / max(1, stats.packets):.1f} %): try a lower rate "
                    "(--rate 100), or a Bluetooth adapter that offers a larger MTU")
    measured_hz = 1.0 / decoder.clock.period_s
    if stats.packets > 10 * rate_hz and abs(measured_hz / rate_hz - 1) > 0.1:
        said.append(f"the WitMotion sensor says it runs at {rate_hz} Hz but sends "
                    f"{measured_hz:.0f} Hz: its rate code may mean another rate on this model")
    return tuple(said)


PROFILE = Profile(
    name="witmotion",
    label="WitMotion BWT901BLECL",
    manufacturer="WitMotion",
    model="BWT901BLECL",
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
    rate_query=(read(REG_RATE),),
    rate_answer=rate_answer,
    retry_rate=retry_rate,
    advice=advice,
)
