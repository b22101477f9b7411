"""What the simulated sensor says over GATT, as each device profile: ours, WitMotion, Movesense.

Each firmware knows its GATT layout, how it advertises, what its writes do, and how it
packs samples into notifications. :class:`~firmware_sim.peripheral.SimulatedRoller` runs
the physics and the link; it asks its firmware for the bytes. The byte layouts are the
client's own (``tracker.devices``), so both sides of every test speak one definition.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from tracker.devices import movesense, witmotion
from tracker.devices import roller as p
from tracker.devices.base import G_M_S2

Array = npt.NDArray[np.float64]
Layout = tuple[tuple[str, tuple[tuple[str, list[str]], ...]], ...]
Notify = Callable[[str, bytes], None]  # characteristic, value


@dataclass
class Firmware:
    """Our roller's firmware (protocol v1); the others override what differs."""

    name: str = "roller-sim"
    base_rate_hz: int = 200  # the physics' rate; stream rates divide it
    rate_hz: int = 100
    streaming: bool = False
    diameter_cm: float = 15.0
    protocol_version: int = p.PROTOCOL_VERSION
    battery_pct: int = 87
    notify_uuid: str = p.IMU_DATA_UUID
    advertised: tuple[str, ...] = (p.SERVICE_UUID,)
    layout: Layout = (
        (p.SERVICE_UUID, ((p.IMU_DATA_UUID, ["notify"]), (p.CONTROL_UUID, ["write"]),
                          (p.CONFIG_UUID, ["read"]))),
        (p.BATTERY_SERVICE_UUID, ((p.BATTERY_LEVEL_UUID, ["read", "notify"]),)),
        (p.DEVICE_INFO_UUID, ((p.MANUFACTURER_UUID, ["read"]), (p.MODEL_UUID, ["read"]),
                              (p.FIRMWARE_UUID, ["read"]))),
    )

    def read(self, uuid: str) -> bytes:
        values = {
            p.CONFIG_UUID: p.encode_config(p.DeviceConfig(
                self.protocol_version, self.rate_hz, p.ACCEL_RANGE_G, p.GYRO_RANGE_DPS,
                round(self.diameter_cm * 10))),
            p.BATTERY_LEVEL_UUID: bytes([self.battery_pct]),
            p.MANUFACTURER_UUID: b"roller project",
            p.MODEL_UUID: b"roller-sim",
            p.FIRMWARE_UUID: f"sim-{p.PROTOCOL_VERSION}.0".encode(),
        }
        return values[uuid]

    def write(self, uuid: str, data: bytes, notify: Notify) -> None:
        command, rate = p.decode_command(data)
        if command is p.Command.SET_RATE:
            assert rate is not None
            self.rate_hz = rate
        else:
            self.streaming = command is p.Command.START

    def subscribed(self, uuid: str) -> None:
        """A client enabled notifications on ``uuid``."""

    def per_packet(self, mtu: int) -> int:
        return p.samples_per_packet(mtu)

    def packet(self, seq: int, chunk: Array) -> list[bytes]:
        """Notifications for ``chunk`` (rows: t_s, accel_g, gyro_dps) as packet ``seq``."""
        raw = p.to_raw(chunk[:, 1:4], chunk[:, 4:7])
        return [p.encode_packet(p.Packet(seq, round(chunk[0, 0] * 1e6), raw))]


@dataclass
class WitmotionFirmware(Firmware):
    """A BWT901BLECL: streams whenever notifications are on, no time in its frames; at
    50-200 Hz several frames a notification (about 25 notifications a second, as measured
    on real ones). It answers register reads (``55 71``).

    Its oscillator runs 1 % fast, as cheap ones do: 100 Hz is really 101 Hz. ``takes`` is
    the rate codes this unit's firmware knows (WitMotion's REG.h by default; some units take
    0x0A, not 0x0B, for 200 Hz); ``frame_bytes`` 28 makes it a model that appends its chip
    time to each frame (WT901SDCL-BT50).
    """

    name: str = "WT901BLE68"
    base_rate_hz: int = 202
    rate_hz: int = 10  # the factory default
    notify_uuid: str = witmotion.NOTIFY_UUID
    advertised: tuple[str, ...] = ()  # it advertises its name only
    layout: Layout = ((witmotion.SERVICE_UUID, (
        (witmotion.NOTIFY_UUID, ["notify"]),
        (witmotion.WRITE_UUID, ["write-without-response", "write"]))),)
    unlocked: bool = field(default=False)
    takes: dict[int, int] = field(default_factory=lambda: {
        0x06: 10, 0x07: 20, 0x08: 50, 0x09: 100, 0x0B: 200})
    frame_bytes: int = witmotion.FRAME_SIZE
    #: Registers as a BWT901BLECL 5.0 reads them: rate 0x06 (10 Hz), version 13115.
    registers: dict[int, int] = field(default_factory=lambda: {0x03: 0x06, 0x2E: 0x333B})
    chip_start: datetime = datetime(2026, 6, 22, 14, 41, 1, tzinfo=UTC)

    def read(self, uuid: str) -> bytes:
        raise KeyError(uuid)

    def write(self, uuid: str, data: bytes, notify: Notify) -> None:
        register, value = witmotion.parse_command(data)
        if register == witmotion.REG_KEY:
            self.unlocked = value == witmotion.UNLOCK_KEY
        elif register == witmotion.REG_RATE and self.unlocked and value in self.takes:
            self.registers[register], self.rate_hz = value, self.takes[value]
        elif register == witmotion.REG_READ:
            values = [self.registers.get(value + k, 0) for k in range(8)]
            notify(self.notify_uuid, struct.pack("<BBH8H", witmotion.HEADER,
                                                 witmotion.REGISTER_FLAG, value, *values))

    def subscribed(self, uuid: str) -> None:
        self.streaming = True

    def per_packet(self, mtu: int) -> int:
        return max(1, min(self.rate_hz // 25, (mtu - 3) // self.frame_bytes))

    def packet(self, seq: int, chunk: Array) -> list[bytes]:
        accel = chunk[:, 1:4]
        angle = np.degrees(np.column_stack([
            np.arctan2(accel[:, 1], accel[:, 2]),
            np.arctan2(-accel[:, 0], np.hypot(accel[:, 1], accel[:, 2])),
            np.zeros(len(chunk))]))
        frames = witmotion.encode_frames(accel, chunk[:, 4:7], angle)
        if self.frame_bytes == witmotion.TIMED_FRAME_SIZE:
            frames = [frame + self._chip_time(t_s) for frame, t_s in zip(frames, chunk[:, 0],
                                                                         strict=True)]
        return [b"".join(frames)]

    def _chip_time(self, t_s: float) -> bytes:
        moment = self.chip_start + timedelta(seconds=float(t_s))
        return struct.pack("<6BH", moment.year - 2000, moment.month, moment.day, moment.hour,
                           moment.minute, moment.second, moment.microsecond // 1000)


@dataclass
class MovesenseFirmware(Firmware):
    """A Movesense running gatt_sensordata_app 2.2.1 or later: IMU6 on subscription, rate / 13
    samples a batch, a batch over 150 bytes split in two notifications. As that sample, it
    answers HELLO with "Hello", a subscription with nothing when it takes it, and with 507
    (big-endian) when all its subscription slots are taken."""

    name: str = "Movesense 233830000042"
    base_rate_hz: int = 208
    rate_hz: int = 104
    notify_uuid: str = movesense.NOTIFY_UUID
    advertised: tuple[str, ...] = ()
    layout: Layout = ((movesense.SERVICE_UUID, (
        (movesense.WRITE_UUID, ["write"]), (movesense.NOTIFY_UUID, ["notify"]))),)
    reference: int = movesense.REFERENCE  # until a client subscribes with its own
    free_slots: int = 4  # the sample's MAX_DATASUB_COUNT

    def read(self, uuid: str) -> bytes:
        raise KeyError(uuid)

    def write(self, uuid: str, data: bytes, notify: Notify) -> None:
        command, reference, path = movesense.parse_command(data)
        if command == movesense.HELLO:
            notify(self.notify_uuid, bytes([movesense.RESULT, reference]) + b"Hello")
        elif command == movesense.SUBSCRIBE:
            if not self.free_slots:
                notify(self.notify_uuid, bytes([movesense.RESULT, reference, 0x01, 0xFB]))
                return
            prefix, _, rate = path.lstrip("/").rpartition("/")
            if prefix != "Meas/IMU6" or not rate.isdigit() or int(rate) not in movesense.RATES_HZ:
                return  # the sample frees the slot and says nothing
            self.free_slots -= 1
            self.rate_hz, self.reference, self.streaming = int(rate), reference, True
        elif command == movesense.UNSUBSCRIBE and self.streaming:
            self.free_slots += 1
            self.streaming = False

    def per_packet(self, mtu: int) -> int:
        return movesense.batch_samples(self.rate_hz)

    def packet(self, seq: int, chunk: Array) -> list[bytes]:
        return movesense.encode_data(round(chunk[0, 0] * 1000), chunk[:, 1:4] * G_M_S2,
                                     chunk[:, 4:7], self.reference)


FIRMWARE: dict[str, type[Firmware]] = {
    "roller": Firmware, "witmotion": WitmotionFirmware, "movesense": MovesenseFirmware}


def byte_stream(profile: str, samples: Array, mtu: int = 247,
                interval_s: float = 0.03) -> list[tuple[float, bytes]]:
    """A recorded notification stream of ``samples`` (n, 7) in one profile's format.

    Each notification is stamped with when it reaches the client: at the first connection
    event (every ``interval_s``) after its last sample was taken.
    """
    firmware = FIRMWARE[profile]()
    per = firmware.per_packet(mtu)
    stream = []
    for seq, start in enumerate(range(0, len(samples) - per + 1, per)):
        chunk = samples[start : start + per]
        arrival = float(np.ceil((chunk[-1, 0] - samples[0, 0]) / interval_s) * interval_s)
        stream += [(arrival + samples[0, 0], packet) for packet in firmware.packet(seq, chunk)]
    return stream
