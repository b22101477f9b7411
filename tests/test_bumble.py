"""The simulated roller over Bumble: its GATT server on a virtual link, and over /dev/vhci."""

from __future__ import annotations

import asyncio
import os

import pytest

pytest.importorskip("bumble")

from bumble.core import UUID
from bumble.device import Peer
from bumble.testing.test_utils import TwoDevices

from firmware_sim.bumble_server import attach
from firmware_sim.peripheral import SimulatedRoller
from tracker.devices import PROFILES
from tracker.devices import roller as p


def test_gatt_server_streams_to_a_central_on_a_virtual_link() -> None:
    async def main() -> None:
        roller = SimulatedRoller(seconds=20, seed=3, speed=20)
        devices = TwoDevices()
        attach(devices[1], roller)  # devices[1] advertises; devices[0] connects to it
        await devices[0].power_on()
        await devices[1].power_on()
        await devices.setup_connection()
        peer = Peer(devices.connections[0])
        await peer.discover_services()
        await peer.discover_characteristics()
        config = p.decode_config(bytes(await peer.get_characteristics_by_uuid(
            p.CONFIG_UUID)[0].read_value()))
        assert config.protocol_version == 1
        decoder = p.StreamDecoder(config.rate_hz)
        samples: list[int] = []
        (imu,) = peer.get_characteristics_by_uuid(p.IMU_DATA_UUID)
        await imu.subscribe(lambda value: samples.append(
            len((decoder.feed(bytes(value)) or ([],))[0])))
        (control,) = peer.get_characteristics_by_uuid(p.CONTROL_UUID)
        await control.write_value(p.encode_command(p.Command.START), with_response=True)
        await asyncio.wait_for(roller.finished.wait(), 10)
        assert sum(samples) > 1500 and decoder.stats.malformed == 0

    asyncio.run(main())


@pytest.mark.parametrize("profile", ["witmotion", "movesense"])
def test_every_profile_streams_over_a_virtual_link(profile: str) -> None:
    async def main() -> None:
        roller = SimulatedRoller(seconds=12, seed=3, speed=20, profile=profile)
        kind = PROFILES[profile]
        devices = TwoDevices()
        attach(devices[1], roller)
        await devices[0].power_on()
        await devices[1].power_on()
        await devices.setup_connection()
        peer = Peer(devices.connections[0])
        await peer.request_mtu(185)  # a Movesense batch needs more than the default 23
        await peer.discover_services()
        await peer.discover_characteristics()
        rate = kind.nearest_rate(100)
        decoder = kind.decoder(rate)
        samples: list[int] = []
        (write,) = peer.get_characteristics_by_uuid(UUID(kind.write_uuid))
        for command in kind.configure(rate):
            await write.write_value(command, with_response=True)
        (data,) = peer.get_characteristics_by_uuid(UUID(kind.notify_uuid))
        await data.subscribe(lambda value: samples.append(
            len((decoder.feed(bytes(value), 0.0) or ([],))[0])))
        for command in kind.start(rate):
            await write.write_value(command, with_response=True)
        await asyncio.wait_for(roller.finished.wait(), 10)
        assert sum(samples) > 800 and decoder.stats.malformed == 0

    asyncio.run(main())


@pytest.mark.skipif(not os.path.exists("/dev/vhci"),
                    reason="no /dev/vhci: Linux's virtual HCI (modprobe hci_vhci) is needed to "
                           "advertise the simulated roller to BlueZ")
def test_bleak_pairs_with_the_roller_over_vhci() -> None:  # pragma: no cover - needs vhci
    from tracker.devices.ble import scan

    async def main() -> None:
        from firmware_sim.bumble_server import serve

        roller = SimulatedRoller(seconds=30, speed=5)
        ready = asyncio.Event()
        server = asyncio.get_running_loop().create_task(serve("vhci", roller, ready.set))
        await asyncio.wait_for(ready.wait(), 10)
        try:
            found = await scan(5.0)
            assert any(r.name == roller.name for r in found)
        finally:
            server.cancel()

    asyncio.run(main())
