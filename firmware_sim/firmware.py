"""What the simulated sensor says over GATT, as each device profile: ours, WitMotion, Movesense.

Each firmware knows its GATT layout, how it advertises, what its writes do, and how it
packs samples into notifications. :class:`~firmware_sim.peripheral.SimulatedRoller` runs
the physics and the link; it asks its firmware for the bytes. The byte layouts are the
client's own (``tracker.devices``), so both sides of every test speak one definition.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

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
    """A BWT901BLECL: streams whenever notifications are on, one frame each, no time.

    Its oscillator runs 1 % fast, as cheap ones do: 100 Hz is really 101 Hz.
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

    def read(self, uuid: str) -> bytes:
        raise KeyError(uuid)

    def write(self, uuid: str, data: bytes, notify: Notify) -> None:
        register, value = witmotion.parse_command(data)
        if register == witmotion.REG_KEY:
            self.unlocked = value == witmotion.UNLOCK_KEY
        elif register == witmotion.REG_RATE and self.unlocked:
            rates = {code: hz for hz, code in witmotion.RATE_CODES.items()}
            self.rate_hz = rates.get(value, self.rate_hz)

    def subscribed(self, uuid: str) -> None:
        self.streaming = True

    def per_packet(self, mtu: int) -> int:
        return 1

    def packet(self, seq: int, chunk: Array) -> list[bytes]:
        accel = chunk[:, 1:4]
        angle = np.degrees(np.column_stack([
            np.arctan2(accel[:, 1], accel[:, 2]),
            np.arctan2(-accel[:, 0], np.hypot(accel[:, 1], accel[:, 2])),
            np.zeros(len(chunk))]))
        return witmotion.encode_frames(accel, chunk[:, 4:7], angle)


@dataclass
class MovesenseFirmware(Firmware):
    """A Movesense running gatt_sensordata_app: IMU6 on subscription, 8 samples a batch."""

    name: str = "Movesense 233830000042"
    base_rate_hz: int = 208
    rate_hz: int = 104
    notify_uuid: str = movesense.NOTIFY_UUID
    advertised: tuple[str, ...] = ()
    layout: Layout = ((movesense.SERVICE_UUID, (
        (movesense.WRITE_UUID, ["write"]), (movesense.NOTIFY_UUID, ["notify"]))),)
    reference: int = movesense.REFERENCE  # until a client subscribes with its own

    def read(self, uuid: str) -> bytes:
        raise KeyError(uuid)

    def write(self, uuid: str, data: bytes, notify: Notify) -> None:
        command, reference, path = movesense.parse_command(data)
        if command == movesense.SUBSCRIBE:
            prefix, _, rate = path.lstrip("/").rpartition("/")
            if prefix != "Meas/IMU6" or not rate.isdigit() or int(rate) not in movesense.RATES_HZ:
                notify(self.notify_uuid, movesense.encode_result(404, reference))
                return
            self.rate_hz, self.reference, self.streaming = int(rate), reference, True
            notify(self.notify_uuid, movesense.encode_result(200, reference))
        elif command == movesense.UNSUBSCRIBE:
            self.streaming = False

    def per_packet(self, mtu: int) -> int:
        return max(1, min(8, (mtu - 3 - 6) // 24))

    def packet(self, seq: int, chunk: Array) -> list[bytes]:
        return [movesense.encode_data(round(chunk[0, 0] * 1000), chunk[:, 1:4] * G_M_S2,
                                      chunk[:, 4:7], self.reference)]


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
