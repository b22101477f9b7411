"""The simulated roller over the air, through Bumble and a real (or virtual) controller.

``python -m firmware_sim serve --transport usb:0`` (a dongle) or ``--transport vhci``
(Linux's virtual HCI, /dev/vhci) advertises the same GATT peripheral the in-process bleak
backend provides, so someone without a roller can pair a real bleak/BlueZ client with it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from bumble.core import UUID, AdvertisingData
from bumble.device import Connection, Device
from bumble.gatt import Characteristic, CharacteristicValue, Service
from bumble.hci import Address
from bumble.transport import open_transport

from firmware_sim.peripheral import SimulatedRoller
from tracker import protocol as p

log = logging.getLogger(__name__)
Props = Characteristic.Properties


def _readable(roller: SimulatedRoller, uuid: str) -> CharacteristicValue[bytes]:
    return CharacteristicValue(read=lambda _connection: roller.read(uuid))


def attach(device: Device, roller: SimulatedRoller) -> None:
    """Serve ``roller``'s GATT table on ``device`` and forward its notifications."""
    imu = Characteristic(p.IMU_DATA_UUID, Props.NOTIFY, Characteristic.READABLE, b"")
    control = Characteristic(
        p.CONTROL_UUID, Props.WRITE, Characteristic.WRITEABLE,
        CharacteristicValue(write=lambda _connection, value: roller.write(p.CONTROL_UUID,
                                                                          bytes(value))))
    battery = Characteristic(p.BATTERY_LEVEL_UUID, Props.READ | Props.NOTIFY,
                             Characteristic.READABLE, _readable(roller, p.BATTERY_LEVEL_UUID))
    device.add_services([
        Service(p.SERVICE_UUID, [imu, control, Characteristic(
            p.CONFIG_UUID, Props.READ, Characteristic.READABLE,
            _readable(roller, p.CONFIG_UUID))]),
        Service(p.BATTERY_SERVICE_UUID, [battery]),
        Service(p.DEVICE_INFO_UUID, [
            Characteristic(uuid, Props.READ, Characteristic.READABLE, _readable(roller, uuid))
            for uuid in (p.MANUFACTURER_UUID, p.MODEL_UUID, p.FIRMWARE_UUID)
        ]),
    ])
    pending: set[asyncio.Task[None]] = set()

    def forwarder(characteristic: Characteristic[bytes]) -> Callable[[bytes], None]:
        def forward(data: bytes) -> None:
            notify = device.notify_subscribers(characteristic, data)
            task = asyncio.get_running_loop().create_task(notify)
            pending.add(task)
            task.add_done_callback(pending.discard)

        return forward

    def on_connection(connection: Connection) -> None:
        def drop() -> None:
            asyncio.get_running_loop().create_task(connection.disconnect())

        roller.connected(drop, connection.att_mtu)
        roller.subscribe(p.IMU_DATA_UUID, forwarder(imu))
        roller.subscribe(p.BATTERY_LEVEL_UUID, forwarder(battery))
        connection.on(connection.EVENT_DISCONNECTION, lambda *_: roller.disconnected())
        connection.on("connection_att_mtu_update",
                      lambda *_: setattr(roller, "mtu", connection.att_mtu))

    device.on(device.EVENT_CONNECTION, on_connection)


def advertising_data(roller: SimulatedRoller) -> bytes:
    return bytes(AdvertisingData([
        (AdvertisingData.COMPLETE_LOCAL_NAME, roller.name.encode()),
        (AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
         UUID(p.SERVICE_UUID).to_bytes()),
    ]))


async def serve(transport: str, roller: SimulatedRoller,
                ready: Callable[[], Any] = lambda: None) -> None:
    """Advertise and serve until cancelled."""
    async with await open_transport(transport) as hci:
        device = Device.with_hci(roller.name, Address(roller.address), hci.source, hci.sink)
        attach(device, roller)
        await device.power_on()
        await device.start_advertising(advertising_data=advertising_data(roller),
                                       auto_restart=True)
        log.info("advertising %s as %s on %s", roller.name, roller.address, transport)
        ready()
        await asyncio.Event().wait()
