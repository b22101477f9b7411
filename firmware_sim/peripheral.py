"""The simulated sensor: a physics session streamed through one device profile's firmware.

It streams the simulated session in real time (or ``speed`` times faster) once the firmware
says so, sized to the negotiated MTU, with a battery that drains slowly, and faults on
demand: drop the link for a while, lose a fraction of notifications, corrupt a packet.
Notifications reach the client at BLE connection events, so they arrive in clumps;
:meth:`SimulatedRoller.air_time` says when, in session time, for profiles whose frames
carry no time of their own.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from firmware_sim.calibration import simulate_calibration
from firmware_sim.firmware import FIRMWARE, Firmware
from firmware_sim.imu import Conditions, axis_orientations
from firmware_sim.session import SimulatedSession, simulate, simulate_parts
from tracker.devices import roller as p

log = logging.getLogger(__name__)
Array = npt.NDArray[np.float64]
Notify = Callable[[bytes], None]
CONNECTION_INTERVAL_S = 0.03
#: How each off-the-shelf sensor sits in the simulated roller: taped in at an angle.
TAPED_AXES = {"roller": 0, "witmotion": 7, "movesense": 17}


@dataclass
class Faults:
    loss: float = 0.0  # fraction of notifications lost in the air
    corrupt_every: int = 0  # every n-th packet is garbled (0: never)
    drops: tuple[tuple[float, float], ...] = ()  # (session time, seconds) the link goes down


class SimulatedRoller:
    def __init__(
        self,
        address: str = "C0:FF:EE:00:00:01",
        name: str | None = None,
        routine: str = "upper_back",
        scenario: str = "clean",
        seconds: float = 120.0,
        seed: int = 0,
        speed: float = 1.0,
        height_cm: float = 175.0,
        faults: Faults | None = None,
        rssi: int = -58,
        protocol_version: int = p.PROTOCOL_VERSION,
        profile: str = "roller",
        distance_cm: float = 60.0,
        lead_s: float = 0.0,
        tail_s: float = 0.0,
        parts: Sequence[tuple[str, float]] = (),
        clock_start_s: float | None = None,
    ) -> None:
        """``routine="calibrate"`` simulates the calibration step over ``distance_cm``; the
        roller lies still ``lead_s`` before the session's rolling and ``tail_s`` after.
        ``parts`` (routine, seconds) make a session of several areas, lifted between them
        (:func:`firmware_sim.session.simulate_parts`) instead of one ``routine``.
        ``clock_start_s`` is the device clock at the first sample (else drawn at random): a
        roller that woke goes on from where its clock stood, as a real one's runs on asleep."""
        self.firmware: Firmware = FIRMWARE[profile](protocol_version=protocol_version)
        self.address, self.name, self.rssi = address, name or self.firmware.name, rssi
        self.speed, self.faults = speed, faults or Faults()
        rate = self.firmware.base_rate_hz
        rng = np.random.default_rng(seed)
        axes = tuple(axis_orientations()[TAPED_AXES[profile]].ravel())
        total_s = sum(s for _, s in parts) if parts else seconds
        conditions = dataclasses.replace(
            Conditions.realistic(rng, total_s, rate), packet_loss=0.0, gaps_s=(), axes=axes,
        )  # the radio's losses are the link's business, below
        if clock_start_s is not None:
            conditions = dataclasses.replace(conditions, clock_start_s=clock_start_s)
        self.session: SimulatedSession | None = None
        if routine == "calibrate":
            self.samples, self.conditions = simulate_calibration(
                np.reshape(axes, (3, 3)), distance_cm, seed, rate, conditions)
        elif parts:
            self.session = simulate_parts(parts, scenario, seed, conditions, height_cm)
            self.samples, self.conditions = self.session.samples, conditions
        else:
            self.session = simulate(routine, scenario, seconds, seed, conditions, height_cm,
                                   lead_s=lead_s, tail_s=tail_s)
            self.samples, self.conditions = self.session.samples, conditions
        self.firmware.diameter_cm = conditions.diameter_cm
        self.link_down_until = -1.0  # session time until which the roller is unreachable
        self.mtu = 247
        self._subscribers: dict[str, Notify] = {}
        self._on_drop: Callable[[], None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._rng = np.random.default_rng(seed + 1)
        self._clock_s = 0.0  # session time the firmware has reached
        self._air_s = 0.0  # when the notification being delivered reached the client
        self.finished = asyncio.Event()

    # -- GATT ------------------------------------------------------------------------------

    def read(self, uuid: str) -> bytes:
        return self.firmware.read(uuid)

    def write(self, uuid: str, data: bytes) -> None:
        self.firmware.write(uuid, data, self._notify)
        self._follow()

    def subscribe(self, uuid: str, notify: Notify) -> None:
        self._subscribers[uuid] = notify
        self.firmware.subscribed(uuid)
        self._follow()

    def unsubscribe(self, uuid: str) -> None:
        self._subscribers.pop(uuid, None)

    def _notify(self, uuid: str, value: bytes) -> None:
        if (notify := self._subscribers.get(uuid)) and self.reachable():
            notify(value)

    def _follow(self) -> None:
        """Start the stream the first time the firmware wants to stream."""
        if self.firmware.streaming and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._stream())

    # -- the link --------------------------------------------------------------------------

    def reachable(self) -> bool:
        return self._clock_s >= self.link_down_until

    def air_time(self) -> float:
        """Session time at which the notification now being delivered arrived."""
        return self._air_s

    def connected(self, on_drop: Callable[[], None], mtu: int) -> None:
        self._on_drop, self.mtu = on_drop, mtu

    def disconnected(self) -> None:
        self._on_drop = None
        self._subscribers.clear()

    def sleep(self) -> None:
        """The firmware sleeps (it has lain still): the link drops and it stops advertising."""
        self._drop_link(float("inf"))

    def _drop_link(self, seconds: float) -> None:
        log.info("simulated link drop for %.1f s at %.1f s", seconds, self._clock_s)
        self.link_down_until = self._clock_s + seconds
        if self._on_drop:
            on_drop, self._on_drop = self._on_drop, None
            self._subscribers.clear()
            on_drop()

    # -- streaming -------------------------------------------------------------------------

    async def _stream(self) -> None:
        """Packets at the sample rate, in session time scaled by ``speed``.

        The rate is the firmware's at each packet: some sensors change it while streaming.
        """
        x, fw = self.samples, self.firmware
        drops = list(self.faults.drops)
        loop = asyncio.get_running_loop()
        started = loop.time()
        seq = 0
        index = 0
        t_first = x[0, 0]
        while index < len(x):
            step = fw.base_rate_hz // fw.rate_hz
            per_packet = fw.per_packet(self.mtu)
            chunk = x[index : index + step * per_packet : step]
            index += step * per_packet
            self._clock_s = float(chunk[-1, 0] - t_first)
            delay = started + self._clock_s / self.speed - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if drops and self._clock_s >= drops[0][0]:
                self._drop_link(drops.pop(0)[1])
            battery = max(5, 87 - int(self._clock_s / 600))  # 1 % every 10 minutes
            if battery != fw.battery_pct:
                fw.battery_pct = battery
                self._notify(p.BATTERY_LEVEL_UUID, bytes([battery]))
            notify = self._subscribers.get(fw.notify_uuid)
            if not (fw.streaming and notify and self.reachable()):
                seq += 1  # the firmware counts packets it could not deliver
                continue
            events = math.ceil(self._clock_s / CONNECTION_INTERVAL_S)
            self._air_s = events * CONNECTION_INTERVAL_S + float(self._rng.uniform(0, 0.002))
            for packet in fw.packet(seq, chunk):
                seq += 1
                if self.faults.corrupt_every and seq % self.faults.corrupt_every == 0:
                    packet = packet[: len(packet) // 2]
                if self._rng.random() >= self.faults.loss:
                    notify(packet)
        fw.streaming = False
        self.finished.set()
