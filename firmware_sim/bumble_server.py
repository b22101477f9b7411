"""The simulated roller over the air, through Bumble and a real (or virtual) controller.

``python -m firmware_sim serve --transport usb:0`` (a dongle) or ``--transport vhci``
(Linux's virtual HCI, /dev/vhci) advertises the same GATT peripheral the in-process bleak
backend provides, as any device profile (``--profile``), so someone without a roller can
pair a real bleak/BlueZ client with it.
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

log = logging.getLogger(__name__)
Props = Characteristic.Properties


_PROPS = {"read": Props.READ, "write": Props.WRITE,
          "write-without-response": Props.WRITE_WITHOUT_RESPONSE, "notify": Props.NOTIFY}


def _characteristic(roller: SimulatedRoller, uuid: str, props: list[str],
                    ) -> Characteristic[bytes]:
    flags = Props(0)
    for prop in props:
        flags |= _PROPS[prop]
    writable = {"write", "write-without-response"} & set(props)
    value = CharacteristicValue(
        read=(lambda _connection: roller.read(uuid)) if "read" in props else None,
        write=(lambda _connection, data: roller.write(uuid, bytes(data))) if writable else None)
    permissions = ((Characteristic.READABLE if "read" in props or "notify" in props else 0)
                   | (Characteristic.WRITEABLE if writable else 0))
    return Characteristic(uuid, flags, permissions, value)


def attach(device: Device, roller: SimulatedRoller) -> None:
    """Serve ``roller``'s GATT table (its profile's) on ``device``; forward notifications."""
    notifying: dict[str, Characteristic[bytes]] = {}
    services = []
    for service_uuid, characteristics in roller.firmware.layout:
        members = []
        for uuid, props in characteristics:
            members.append(_characteristic(roller, uuid, props))
            if "notify" in props:
                notifying[uuid] = members[-1]
        services.append(Service(service_uuid, members))
    device.add_services(services)
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
        for uuid, characteristic in notifying.items():
            roller.subscribe(uuid, forwarder(characteristic))
        connection.on(connection.EVENT_DISCONNECTION, lambda *_: roller.disconnected())
        connection.on("connection_att_mtu_update",
                      lambda *_: setattr(roller, "mtu", connection.att_mtu))

    device.on(device.EVENT_CONNECTION, on_connection)


def advertising_data(roller: SimulatedRoller) -> bytes:
    """Its name, and its service if the device it plays advertises one."""
    fields = [(AdvertisingData.COMPLETE_LOCAL_NAME, roller.name.encode())]
    if roller.firmware.advertised:
        fields.append((AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
                       b"".join(UUID(u).to_bytes() for u in roller.firmware.advertised)))
    return bytes(AdvertisingData(fields))


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
