"""The simulated roller's firmware: our GATT protocol served over the physics model.

It streams the simulated session in real time (or ``speed`` times faster) once a client
writes START, sized to the negotiated MTU, with a battery that drains slowly, and faults on
demand: drop the link for a while, lose a fraction of notifications, corrupt a packet.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from firmware_sim.imu import Conditions
from firmware_sim.session import SimulatedSession, simulate
from tracker import protocol as p

log = logging.getLogger(__name__)
Notify = Callable[[bytes], None]
BASE_RATE_HZ = 200


@dataclass
class Faults:
    loss: float = 0.0  # fraction of notifications lost in the air
    corrupt_every: int = 0  # every n-th packet is garbled (0: never)
    drops: tuple[tuple[float, float], ...] = ()  # (session time, seconds) the link goes down


class SimulatedRoller:
    def __init__(
        self,
        address: str = "C0:FF:EE:00:00:01",
        name: str = "roller-sim",
        routine: str = "upper_back",
        scenario: str = "clean",
        seconds: float = 120.0,
        seed: int = 0,
        speed: float = 1.0,
        height_cm: float = 175.0,
        faults: Faults | None = None,
        rssi: int = -58,
        protocol_version: int = p.PROTOCOL_VERSION,
    ) -> None:
        self.protocol_version = protocol_version
        self.address, self.name, self.rssi = address, name, rssi
        self.speed, self.faults = speed, faults or Faults()
        rng = np.random.default_rng(seed)
        conditions = dataclasses.replace(
            Conditions.realistic(rng, seconds, BASE_RATE_HZ), packet_loss=0.0, gaps_s=()
        )  # the radio's losses are the link's business, below
        self.session: SimulatedSession = simulate(routine, scenario, seconds, seed, conditions,
                                                  height_cm)
        self.rate_hz = 100
        self.battery_pct = 87
        self.streaming = False
        self.link_down_until = -1.0  # session time until which the roller is unreachable
        self.mtu = 247
        self._subscribers: dict[str, Notify] = {}
        self._on_drop: Callable[[], None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._rng = np.random.default_rng(seed + 1)
        self._clock_s = 0.0  # session time the firmware has reached
        self.finished = asyncio.Event()

    # -- GATT ------------------------------------------------------------------------------

    def read(self, uuid: str) -> bytes:
        values = {
            p.CONFIG_UUID: p.encode_config(p.DeviceConfig(
                self.protocol_version, self.rate_hz, p.ACCEL_RANGE_G, p.GYRO_RANGE_DPS,
                round(self.session.conditions.diameter_cm * 10))),
            p.BATTERY_LEVEL_UUID: bytes([self.battery_pct]),
            p.MANUFACTURER_UUID: b"roller project",
            p.MODEL_UUID: b"roller-sim",
            p.FIRMWARE_UUID: f"sim-{p.PROTOCOL_VERSION}.0".encode(),
        }
        return values[uuid]

    def write(self, uuid: str, data: bytes) -> None:
        command, rate = p.decode_command(data)
        if command is p.Command.SET_RATE:
            assert rate is not None
            self.rate_hz = rate
        elif command is p.Command.START:
            self.streaming = True
            if self._task is None:
                self._task = asyncio.get_running_loop().create_task(self._stream())
        else:
            self.streaming = False

    def subscribe(self, uuid: str, notify: Notify) -> None:
        self._subscribers[uuid] = notify

    def unsubscribe(self, uuid: str) -> None:
        self._subscribers.pop(uuid, None)

    # -- the link --------------------------------------------------------------------------

    def reachable(self) -> bool:
        return self._clock_s >= self.link_down_until

    def connected(self, on_drop: Callable[[], None], mtu: int) -> None:
        self._on_drop, self.mtu = on_drop, mtu

    def disconnected(self) -> None:
        self._on_drop = None
        self._subscribers.clear()

    def _drop_link(self, seconds: float) -> None:
        log.info("simulated link drop for %.1f s at %.1f s", seconds, self._clock_s)
        self.link_down_until = self._clock_s + seconds
        if self._on_drop:
            on_drop, self._on_drop = self._on_drop, None
            self._subscribers.clear()
            on_drop()

    # -- streaming -------------------------------------------------------------------------

    async def _stream(self) -> None:
        """Packets at the sample rate, in session time scaled by ``speed``."""
        x = self.session.samples
        step = BASE_RATE_HZ // self.rate_hz
        per_packet = p.samples_per_packet(self.mtu)
        drops = list(self.faults.drops)
        loop = asyncio.get_running_loop()
        started = loop.time()
        seq = 0
        index = 0
        t_first = x[0, 0]
        while index < len(x):
            chunk = x[index : index + step * per_packet : step]
            index += step * per_packet
            self._clock_s = float(chunk[-1, 0] - t_first)
            delay = started + self._clock_s / self.speed - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if drops and self._clock_s >= drops[0][0]:
                self._drop_link(drops.pop(0)[1])
            battery = max(5, 87 - int(self._clock_s / 600))  # 1 % every 10 minutes
            if battery != self.battery_pct:
                self.battery_pct = battery
                if (notify_battery := self._subscribers.get(p.BATTERY_LEVEL_UUID)) \
                        and self.reachable():
                    notify_battery(bytes([battery]))
            notify = self._subscribers.get(p.IMU_DATA_UUID)
            if not (self.streaming and notify and self.reachable()):
                seq += 1  # the firmware counts packets it could not deliver
                continue
            packet = p.encode_packet(p.Packet(seq, round(chunk[0, 0] * 1e6), p.to_raw(
                chunk[:, 1:4], chunk[:, 4:7])))
            seq += 1
            if self.faults.corrupt_every and seq % self.faults.corrupt_every == 0:
                packet = packet[: len(packet) // 2]
            if self._rng.random() >= self.faults.loss:
                notify(packet)
        self.streaming = False
        self.finished.set()
