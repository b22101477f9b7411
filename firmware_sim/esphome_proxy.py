"""An ESPHome Bluetooth proxy for the simulated rollers, speaking ESPHome's native API for real.

It is a TCP server on ``aioesphomeapi``'s own protobuf messages (:mod:`aioesphomeapi.api_pb2`)
and framing, plaintext (``0x00``, varint length, varint type, payload) or Noise-encrypted
(``Noise_NNpsk0_25519_ChaChaPoly_SHA256`` with the device's key), so the real
``aioesphomeapi`` and ``bleak-esphome`` client code runs against it unchanged. Beneath it,
the rollers in the air (:data:`firmware_sim.bleak_backend.AIR`), each heard at this proxy's
own signal strength. It behaves as ESPHome's ``bluetooth_proxy`` firmware does where roller
meets its limits: a fixed number of connection slots (3, as an ESP32 on Wi-Fi), one API
client at a time for Bluetooth ("Only one API subscription is allowed at a time", said in
its log to every client that follows the log), and, on demand, notifications dropped as a
congested Wi-Fi link drops them.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import threading
import uuid as uuidlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from aioesphomeapi import api_pb2 as pb
from aioesphomeapi.core import MESSAGE_TYPE_TO_PROTO
from noise.connection import NoiseConnection

from firmware_sim.bleak_backend import AIR
from firmware_sim.peripheral import SimulatedRoller

log = logging.getLogger(__name__)
PROTO_TO_TYPE = {proto: number for number, proto in MESSAGE_TYPE_TO_PROTO.items()}
#: What this proxy can do, as ESPHome's firmware says it (aioesphomeapi's
#: ``BluetoothProxyFeature``): passive scan, active connections, remote caching, raw ads.
FEATURE_FLAGS = 1 | 2 | 4 | 32
ESPHOME_VERSION = "2025.11.2"
ONE_SUBSCRIPTION = "Only one API subscription is allowed at a time"
ADVERTISE_EVERY_S = 0.1
CONNECT_S = 0.02  # a BLE connection through the ESP takes a moment
GATT_ERROR = 133  # ESP-IDF's GATT error for a connection that could not be made
PROPERTIES = {"broadcast": 0x01, "read": 0x02, "write-without-response": 0x04, "write": 0x08,
              "notify": 0x10, "indicate": 0x20}
CCCD = "00002902-0000-1000-8000-00805f9b34fb"
NOISE_PROTOCOL = b"Noise_NNpsk0_25519_ChaChaPoly_SHA256"  # ESPHome's API encryption


def address_int(address: str) -> int:
    return int(address.replace(":", ""), 16)


def _uuid_pair(uuid: str) -> list[int]:
    value = uuidlib.UUID(uuid).int
    return [value >> 64, value & (2**64 - 1)]


def advertisement(roller: SimulatedRoller) -> bytes:
    """The roller's advertisement and scan response as raw AD structures: flags, complete
    local name, complete list of 128-bit service UUIDs."""
    name = roller.name.encode()
    data = bytes((2, 0x01, 0x06, len(name) + 1, 0x09)) + name
    for service in roller.firmware.advertised:
        data += bytes((17, 0x07)) + uuidlib.UUID(service).bytes[::-1]
    return data


@dataclass
class Gatt:
    """The roller's GATT table as the proxy hands it out: handles for each characteristic,
    a client configuration descriptor after each one that notifies."""

    services: list[pb.BluetoothGATTService] = field(default_factory=list)
    by_handle: dict[int, str] = field(default_factory=dict)  # characteristic handle -> uuid

    @classmethod
    def of(cls, roller: SimulatedRoller) -> Gatt:
        gatt, handle = cls(), 1
        for service_uuid, characteristics in roller.firmware.layout:
            service = pb.BluetoothGATTService(uuid=_uuid_pair(service_uuid), handle=handle)
            handle += 1
            for uuid, props in characteristics:
                char = service.characteristics.add(
                    uuid=_uuid_pair(uuid), handle=handle,
                    properties=sum(PROPERTIES[prop] for prop in props))
                gatt.by_handle[handle] = uuid
                handle += 1
                if "notify" in props or "indicate" in props:
                    char.descriptors.add(uuid=_uuid_pair(CCCD), handle=handle)
                    handle += 1
            gatt.services.append(service)
        return gatt


class Framing:
    """ESPHome's plaintext frames: ``0x00``, varint length, varint type, payload."""

    def __init__(self) -> None:
        self.buffer = b""

    def feed(self, data: bytes) -> list[tuple[int, bytes]] | str:
        """The whole messages received so far, or why the connection must close."""
        self.buffer += data
        messages = []
        while self.buffer:
            if self.buffer[0] != 0x00:
                return "not a plaintext frame (is the client using encryption?)"
            parsed = _varint(self.buffer, 1)
            if parsed is None:
                break
            length, at = parsed
            parsed = _varint(self.buffer, at)
            if parsed is None:
                break
            kind, at = parsed
            if len(self.buffer) < at + length:
                break
            messages.append((kind, self.buffer[at:at + length]))
            self.buffer = self.buffer[at + length:]
        return messages

    def frame(self, kind: int, payload: bytes) -> bytes:
        return b"\x00" + _encode_varint(len(payload)) + _encode_varint(kind) + payload


class NoiseFraming(Framing):
    """ESPHome's Noise frames: ``0x01``, 16-bit length, then the handshake or ciphertext of
    16-bit type, 16-bit length, payload."""

    def __init__(self, psk: str, name: str, mac: str, send: Callable[[bytes], None]) -> None:
        super().__init__()
        self.name, self.mac, self.send = name, mac, send
        self.noise = NoiseConnection.from_name(NOISE_PROTOCOL)  # noiseprotocol's own backend
        self.noise.set_as_responder()
        self.noise.set_psks(base64.b64decode(psk))
        self.noise.set_prologue(b"NoiseAPIInit\x00\x00")
        self.noise.start_handshake()
        self.state = "hello"

    def feed(self, data: bytes) -> list[tuple[int, bytes]] | str:
        self.buffer += data
        messages: list[tuple[int, bytes]] = []
        while len(self.buffer) >= 3:
            if self.buffer[0] != 0x01:
                self.send(b"\x01\x00\x00")  # what ESPHome answers a plaintext client with
                return "a plaintext client on an encrypted proxy"
            length = int.from_bytes(self.buffer[1:3], "big")
            if len(self.buffer) < 3 + length:
                break
            frame, self.buffer = self.buffer[3:3 + length], self.buffer[3 + length:]
            if self.state == "hello":  # the client's hello: answer with ours
                self.send(self._frame(b"\x01" + self.name.encode() + b"\0" +
                                      self.mac.encode() + b"\0"))
                self.state = "handshake"
            elif self.state == "handshake":
                try:
                    self.noise.read_message(frame[1:])
                except Exception:  # the key differs: the MAC of its message does not match
                    self.send(self._frame(b"\x01Handshake MAC failure"))
                    return "the client's encryption key is not this proxy's"
                self.send(self._frame(b"\x00" + self.noise.write_message()))
                self.state = "ready"
            else:
                plain = self.noise.decrypt(frame)
                kind = int.from_bytes(plain[0:2], "big")
                size = int.from_bytes(plain[2:4], "big")
                messages.append((kind, plain[4:4 + size]))
        return messages

    def frame(self, kind: int, payload: bytes) -> bytes:
        header = kind.to_bytes(2, "big") + len(payload).to_bytes(2, "big")
        return self._frame(self.noise.encrypt(header + payload))

    @staticmethod
    def _frame(body: bytes) -> bytes:
        return b"\x01" + len(body).to_bytes(2, "big") + body


def _varint(data: bytes, at: int) -> tuple[int, int] | None:
    value = shift = 0
    while at < len(data):
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at += 1
        if not byte & 0x80:
            return value, at
        shift += 7
    return None


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


class EsphomeProxy:
    """One ESP32 running ESPHome's ``bluetooth_proxy``, on 127.0.0.1.

    ``rssi_dbm`` is how strongly it hears each roller (by address; ``default_rssi_dbm`` for
    the others); ``slots`` its connection slots; ``drop`` the fraction of notifications it
    loses on its network link; ``noise_psk`` its API encryption key (None: plaintext).
    """

    def __init__(self, name: str = "roller-proxy", *, slots: int = 3,
                 rssi_dbm: Mapping[str, int] | None = None, default_rssi_dbm: int = -60,
                 drop: float = 0.0, noise_psk: str | None = None, seed: int = 0,
                 air: Mapping[str, SimulatedRoller] = AIR) -> None:
        self.name, self.slots, self.drop, self.noise_psk = name, slots, drop, noise_psk
        self.rssi_dbm, self.default_rssi_dbm = dict(rssi_dbm or {}), default_rssi_dbm
        self.mac = "AC:0B:FB:" + ":".join(f"{b:02X}" for b in name.encode()[-3:].rjust(3, b"\0"))
        self.air = air
        self.port = 0
        self.holder: ApiConnection | None = None  # the one client Bluetooth answers
        self.clients: set[ApiConnection] = set()
        self.links: dict[int, SimulatedRoller] = {}  # BLE connections by address
        self.notifications = 0
        self.dropped = 0
        self._server: asyncio.Server | None = None
        self._advertising: asyncio.Task[None] | None = None
        self.rng = np.random.default_rng(seed)

    async def start(self, port: int = 0) -> int:
        """Listen on 127.0.0.1 (a free port unless one is given); return the port."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: ApiConnection(self), "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]
        self._advertising = loop.create_task(self._advertise())
        return self.port

    async def stop(self) -> None:
        """The proxy goes away: its server, every API connection and BLE link with it."""
        if self._advertising:
            self._advertising.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._advertising
        if self._server:
            self._server.close()
        for client in list(self.clients):
            client.close()
        if self._server:
            await self._server.wait_closed()

    def log(self, level: int, message: str) -> None:
        """A line of the firmware's log, to every client following it at that level."""
        log.info("%s: %s", self.name, message)
        for client in self.clients:
            if client.log_level and level <= client.log_level:
                client.send(pb.SubscribeLogsResponse(level=level, message=message.encode()))

    def rssi(self, address: str) -> int:
        return self.rssi_dbm.get(address, self.default_rssi_dbm)

    @property
    def free(self) -> int:
        return self.slots - len(self.links)

    def slots_changed(self) -> None:
        if self.holder and self.holder.wants_slots:
            self.holder.send(pb.BluetoothConnectionsFreeResponse(
                free=self.free, limit=self.slots, allocated=list(self.links)))

    async def _advertise(self) -> None:
        while True:
            holder = self.holder
            if holder is not None and holder.wants_ads:
                batch = pb.BluetoothLERawAdvertisementsResponse()
                for roller in list(self.air.values()):
                    if roller.reachable():
                        batch.advertisements.add(address=address_int(roller.address),
                                                 rssi=self.rssi(roller.address),
                                                 address_type=0, data=advertisement(roller))
                if batch.advertisements:
                    holder.send(batch)
            await asyncio.sleep(ADVERTISE_EVERY_S)


class ApiConnection(asyncio.Protocol):
    """One API client of the proxy: its frames, its subscriptions, its requests."""

    def __init__(self, proxy: EsphomeProxy) -> None:
        self.proxy = proxy
        self.transport: asyncio.Transport | None = None
        self.framing: Framing = Framing()
        self.log_level = 0
        self.wants_ads = False
        self.wants_slots = False
        self.gatt: dict[int, Gatt] = {}

    # -- the connection --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.proxy.clients.add(self)
        if self.proxy.noise_psk:
            self.framing = NoiseFraming(self.proxy.noise_psk, self.proxy.name, self.proxy.mac,
                                        transport.write)

    def data_received(self, data: bytes) -> None:
        messages = self.framing.feed(data)
        if isinstance(messages, str):
            log.info("%s: closing a connection: %s", self.proxy.name, messages)
            self.close()
            return
        for kind, payload in messages:
            proto = MESSAGE_TYPE_TO_PROTO.get(kind)
            if proto is not None:
                message = proto()
                message.ParseFromString(payload)
                self.handle(message)

    def connection_lost(self, exc: Exception | None) -> None:
        self.proxy.clients.discard(self)
        if self.proxy.holder is self:  # ESPHome drops the BLE links of the client gone
            self.proxy.holder = None
            for address, roller in list(self.proxy.links.items()):
                roller.disconnected()
                del self.proxy.links[address]

    def close(self) -> None:
        if self.transport:
            self.transport.close()

    def send(self, message: Any) -> None:
        if self.transport and not self.transport.is_closing():
            self.transport.write(self.framing.frame(PROTO_TO_TYPE[type(message)],
                                                    message.SerializeToString()))

    # -- the API ---------------------------------------------------------------------------

    def handle(self, message: Any) -> None:
        proxy = self.proxy
        if isinstance(message, pb.HelloRequest):
            self.send(pb.HelloResponse(api_version_major=1, api_version_minor=12,
                                       server_info=f"{proxy.name} (ESPHome {ESPHOME_VERSION})",
                                       name=proxy.name))
        elif isinstance(message, pb.PingRequest):
            self.send(pb.PingResponse())
        elif isinstance(message, pb.DisconnectRequest):
            self.send(pb.DisconnectResponse())
            self.close()
        elif isinstance(message, pb.DeviceInfoRequest):
            self.send(pb.DeviceInfoResponse(
                name=proxy.name, friendly_name=proxy.name, mac_address=proxy.mac,
                bluetooth_mac_address=proxy.mac, esphome_version=ESPHOME_VERSION,
                model="esp32dev", manufacturer="Espressif",
                bluetooth_proxy_feature_flags=FEATURE_FLAGS,
                api_encryption_supported=True))
        elif isinstance(message, pb.SubscribeLogsRequest):
            self.log_level = message.level or 3
        elif isinstance(message, pb.SubscribeBluetoothLEAdvertisementsRequest):
            if proxy.holder not in (None, self):
                proxy.log(1, ONE_SUBSCRIPTION)  # as bluetooth_proxy.cpp: refused, logged
                return
            proxy.holder, self.wants_ads = self, True
        elif isinstance(message, pb.UnsubscribeBluetoothLEAdvertisementsRequest):
            self.wants_ads = False
        elif isinstance(message, pb.SubscribeBluetoothConnectionsFreeRequest):
            self.wants_slots = True
            self.send(pb.BluetoothConnectionsFreeResponse(
                free=proxy.free, limit=proxy.slots, allocated=list(proxy.links)))
        elif proxy.holder is not self:
            return  # Bluetooth requests are the holder's alone
        elif isinstance(message, pb.BluetoothDeviceRequest):
            self._device_request(message)
        elif isinstance(message, pb.BluetoothGATTGetServicesRequest):
            self._services(message.address)
        elif isinstance(message, pb.BluetoothGATTReadRequest):
            self._gatt(message, lambda roller, uuid: self.send(pb.BluetoothGATTReadResponse(
                address=message.address, handle=message.handle, data=roller.read(uuid))))
        elif isinstance(message, pb.BluetoothGATTWriteRequest):
            self._gatt(message, lambda roller, uuid: self._write(roller, uuid, message))
        elif isinstance(message, pb.BluetoothGATTWriteDescriptorRequest):
            self.send(pb.BluetoothGATTWriteResponse(address=message.address,
                                                    handle=message.handle))
        elif isinstance(message, pb.BluetoothGATTNotifyRequest):
            self._gatt(message, lambda roller, uuid: self._notify(roller, uuid, message))

    def _device_request(self, message: pb.BluetoothDeviceRequest) -> None:
        proxy, address = self.proxy, message.address
        kind = pb.BluetoothDeviceRequestType
        if message.request_type == kind.BLUETOOTH_DEVICE_REQUEST_TYPE_DISCONNECT:
            if (roller := proxy.links.pop(address, None)) is not None:
                roller.disconnected()
            self.send(pb.BluetoothDeviceConnectionResponse(address=address, connected=False))
            proxy.slots_changed()
        elif message.request_type in (kind.BLUETOOTH_DEVICE_REQUEST_TYPE_CONNECT_V3_WITH_CACHE,
                                      kind.BLUETOOTH_DEVICE_REQUEST_TYPE_CONNECT_V3_WITHOUT_CACHE):
            asyncio.get_running_loop().create_task(self._connect(address))

    async def _connect(self, address: int) -> None:
        proxy = self.proxy
        await asyncio.sleep(CONNECT_S)
        roller = next((r for r in proxy.air.values() if address_int(r.address) == address), None)
        if proxy.free <= 0:
            proxy.log(2, "No free connections available")
            roller = None
        if roller is None or not roller.reachable():
            self.send(pb.BluetoothDeviceConnectionResponse(address=address, connected=False,
                                                           error=GATT_ERROR))
            return

        def dropped() -> None:  # the roller went out of range, or slept
            if proxy.links.pop(address, None) is not None:
                self.send(pb.BluetoothDeviceConnectionResponse(address=address,
                                                               connected=False, error=0x08))
                proxy.slots_changed()

        roller.connected(dropped, 247)
        proxy.links[address] = roller
        self.gatt[address] = Gatt.of(roller)
        self.send(pb.BluetoothDeviceConnectionResponse(address=address, connected=True,
                                                       mtu=247))
        proxy.slots_changed()

    def _services(self, address: int) -> None:
        if address not in self.proxy.links:
            self.send(pb.BluetoothGATTErrorResponse(address=address, error=GATT_ERROR))
            return
        for service in self.gatt[address].services:
            self.send(pb.BluetoothGATTGetServicesResponse(address=address, services=[service]))
        self.send(pb.BluetoothGATTGetServicesDoneResponse(address=address))

    def _gatt(self, message: Any, act: Callable[[SimulatedRoller, str], None]) -> None:
        roller = self.proxy.links.get(message.address)
        uuid = self.gatt[message.address].by_handle.get(message.handle) if roller else None
        if roller is None or uuid is None:
            self.send(pb.BluetoothGATTErrorResponse(address=message.address,
                                                    handle=message.handle, error=GATT_ERROR))
            return
        act(roller, uuid)

    def _write(self, roller: SimulatedRoller, uuid: str, message: Any) -> None:
        roller.write(uuid, bytes(message.data))
        if message.response:
            self.send(pb.BluetoothGATTWriteResponse(address=message.address,
                                                    handle=message.handle))

    def _notify(self, roller: SimulatedRoller, uuid: str, message: Any) -> None:
        address, handle, proxy = message.address, message.handle, self.proxy
        if message.enable:
            def forward(data: bytes) -> None:
                proxy.notifications += 1
                if proxy.drop and proxy.rng.random() < proxy.drop:
                    proxy.dropped += 1  # lost on the proxy's congested network link
                    return
                self.send(pb.BluetoothGATTNotifyDataResponse(address=address, handle=handle,
                                                             data=data))

            roller.subscribe(uuid, forward)
        else:
            roller.unsubscribe(uuid)
        self.send(pb.BluetoothGATTNotifyResponse(address=address, handle=handle))


class ProxyThread:
    """A proxy (and the rollers beneath it) on an event loop of its own, in a thread: for a
    ``roller`` process beside it, or to tell the proxy's work from roller's (the bench)."""

    def __init__(self, proxy: EsphomeProxy) -> None:
        self.proxy, self.loop = proxy, asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> int:
        self.thread.start()
        return asyncio.run_coroutine_threadsafe(self.proxy.start(), self.loop).result(10)

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    async def _stop(self) -> None:
        """The proxy, then whatever else runs on its loop (the rollers' streams)."""
        await self.proxy.stop()
        others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
