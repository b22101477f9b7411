"""A bleak backend whose radio is this process: simulated rollers beneath bleak's public API.

Pass ``backend=SimScanner`` to :class:`bleak.BleakScanner` and ``backend=SimClient`` to
:class:`bleak.BleakClient` (as bleak-esphome and habluetooth plug in theirs), and the
client runs exactly the code path it runs with real hardware: scan, connect, read, write,
notifications, disconnects. The rollers "in the air" are those in :data:`AIR`; the
adapter's state (missing, powered off, permission denied) can be set to test error paths.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from typing import Any

from bleak.args import SizedBuffer
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDBusError,
    BleakDeviceNotFoundError,
    BleakError,
)

from firmware_sim.firmware import Layout
from firmware_sim.peripheral import SimulatedRoller

#: Simulated rollers within range, by address.
AIR: dict[str, SimulatedRoller] = {}


class Adapter:
    """The simulated Bluetooth adapter's state: ``ok``, ``missing``, ``off`` or ``denied``.

    ``ROLLER_SIM_ADAPTER`` sets it for a whole process (the CLI tests use it).
    """

    state = os.environ.get("ROLLER_SIM_ADAPTER", "ok")

    @classmethod
    def check(cls) -> None:
        if cls.state == "missing":
            raise BleakBluetoothNotAvailableError(
                "No Bluetooth adapters found.", BleakBluetoothNotAvailableReason.NO_BLUETOOTH)
        if cls.state == "off":
            raise BleakBluetoothNotAvailableError(
                "Bluetooth adapter is powered off", BleakBluetoothNotAvailableReason.POWERED_OFF)
        if cls.state == "denied":
            raise BleakDBusError("org.freedesktop.DBus.Error.AccessDenied",
                                 ["Rejected send message"])


def _services(layout: Layout, mtu: int) -> BleakGATTServiceCollection:
    collection = BleakGATTServiceCollection()
    handle = 1
    for service_uuid, characteristics in layout:
        service = BleakGATTService(None, handle, service_uuid)
        collection.add_service(service)
        handle += 1
        for uuid, props in characteristics:
            char = BleakGATTCharacteristic(None, handle, uuid, props,  # type: ignore[arg-type]
                                           lambda: mtu - 3, service)
            collection.add_characteristic(char)
            handle += 2
    return collection


class SimScanner(BaseBleakScanner):
    def __init__(self, detection_callback: Any = None, service_uuids: Any = None,
                 scanning_mode: str = "active", **kwargs: Any) -> None:
        super().__init__(detection_callback, service_uuids)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        Adapter.check()
        self.seen_devices = {}
        self._task = asyncio.get_running_loop().create_task(self._advertise())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _advertise(self) -> None:
        while True:
            for roller in list(AIR.values()):
                if not roller.reachable():
                    continue
                adv = AdvertisementData(roller.name, {}, {}, list(roller.firmware.advertised),
                                        None, roller.rssi, ())
                if self.is_allowed_uuid(adv.service_uuids):
                    device = self.create_or_update_device(roller.address, roller.address,
                                                          roller.name, {"sim": True}, adv)
                    self.call_detection_callbacks(device, adv)
            await asyncio.sleep(0.1)


class SimClient(BaseBleakClient):
    def __init__(self, address_or_ble_device: BLEDevice | str, *,
                 disconnected_callback: Callable[[], None] | None = None,
                 timeout: float = 10.0, mtu: int = 247, **kwargs: Any) -> None:
        super().__init__(address_or_ble_device, disconnected_callback=disconnected_callback,
                         timeout=timeout)
        self._mtu = mtu
        self._roller: SimulatedRoller | None = None

    @property
    def name(self) -> str:
        return self._roller.name if self._roller else self.address

    @property
    def mtu_size(self) -> int:
        return self._mtu

    @property
    def is_connected(self) -> bool:
        return self._roller is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        Adapter.check()
        roller = AIR.get(self.address)
        if roller is None:
            raise BleakDeviceNotFoundError(self.address, f"Device {self.address} not found")
        if not roller.reachable():
            raise BleakError(f"Device {self.address} not found (out of range)")
        await asyncio.sleep(0.01)  # a connection takes a moment
        roller.connected(self._dropped, self._mtu)
        self._roller = roller
        self.services = _services(roller.firmware.layout, self._mtu)

    def _dropped(self) -> None:
        self._roller = None
        if self._disconnected_callback:
            asyncio.get_running_loop().call_soon(self._disconnected_callback)

    async def disconnect(self) -> None:
        if self._roller:
            self._roller.disconnected()
            self._roller = None

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        """The simulated roller needs no bonding."""

    async def unpair(self) -> None:
        """The simulated roller keeps no bond."""

    def _live(self) -> SimulatedRoller:
        if self._roller is None:
            raise BleakError("Not connected")
        return self._roller

    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic, *,
                             use_cached: bool = False, **kwargs: Any) -> bytearray:
        return bytearray(self._live().read(characteristic.uuid))

    async def read_gatt_descriptor(self, descriptor: BleakGATTDescriptor, *,
                                   use_cached: bool = False, **kwargs: Any) -> bytearray:
        raise BleakError("the simulated roller has no descriptors to read")

    async def write_gatt_char(self, characteristic: BleakGATTCharacteristic,
                              data: SizedBuffer, response: bool) -> None:
        self._live().write(characteristic.uuid, bytes(data))  # type: ignore[arg-type]

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor,
                                    data: SizedBuffer) -> None:
        raise BleakError("the simulated roller has no descriptors to write")

    async def start_notify(self, characteristic: BleakGATTCharacteristic,
                           callback: NotifyCallback, **kwargs: Any) -> None:
        self._live().subscribe(characteristic.uuid, lambda data: callback(bytearray(data)))

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        if self._roller:
            self._roller.unsubscribe(characteristic.uuid)
