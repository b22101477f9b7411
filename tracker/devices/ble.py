"""The Bluetooth LE client: find rollers, connect as Home Assistant does, stream, reconnect.

Connections go through bleak-retry-connector's ``establish_connection`` (retries with
backoff, BlueZ's quirks handled). After a drop the link is re-established with growing
pauses for as long as ``reconnect_within_s`` allows (counted on the device's own time: a
simulated world running ``speed`` times real time gives up as much sooner). The same decoder
carries the time line on, but each connection starts its packet checks afresh
(:meth:`Decoder.reconnected`): a roller that slept and woke numbers its packets from zero.
What is spoken over the link is the device profile's (:mod:`tracker.devices`); this module
does the I/O for all of them. Backends are bleak's own unless a test or ``--sim`` passes the
simulator's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bleak import BleakClient, BleakScanner
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDBusError,
    BleakDeviceNotFoundError,
    BleakError,
)
from bleak_retry_connector import BleakNotFoundError, establish_connection

from tracker.core.errors import MachineError
from tracker.core.status import Identity
from tracker.devices import Decoder, Profile, identify
from tracker.devices import roller as p
from tracker.devices.base import roller_log

log = logging.getLogger(__name__)
RATE_SETTLE_S = 0.35  # after a save, a WitMotion reads back stale values this long
SampleSink = Callable[[Any, Any, Any], None]


class BleError(MachineError):
    """A Bluetooth problem, said in one line with what to do about it."""


class SaidError(BleakError):
    """A backend's error already said in one line for people (a proxy's refusal)."""


def explain(exc: Exception) -> str:
    """One line for the errors people meet: no adapter, adapter off, no permission, gone."""
    for said in (exc, exc.__cause__):  # bleak-retry-connector wraps what it gives up on
        if isinstance(said, SaidError):
            return str(said)
    if isinstance(exc, BleakBluetoothNotAvailableError):
        reason = exc.reason
        if reason is BleakBluetoothNotAvailableReason.POWERED_OFF:
            return "the Bluetooth adapter is powered off: turn it on (bluetoothctl power on)"
        if reason in (BleakBluetoothNotAvailableReason.DENIED_BY_USER,
                      BleakBluetoothNotAvailableReason.DENIED_BY_SYSTEM,
                      BleakBluetoothNotAvailableReason.DENIED_BY_UNKNOWN):
            return _PERMISSION
        return "no Bluetooth adapter found: plug in a Bluetooth LE dongle, or use --sim"
    if isinstance(exc, BleakDBusError) and "AccessDenied" in str(exc.dbus_error):
        return _PERMISSION
    if isinstance(exc, BleakDeviceNotFoundError | BleakNotFoundError):
        return "roller not found: is it switched on and within a few metres?"
    if isinstance(exc, FileNotFoundError | ConnectionRefusedError):  # no D-Bus system bus
        return ("the Bluetooth service is not running: install BlueZ and start it "
                "(sudo systemctl start bluetooth), or use --sim")
    text = str(exc) or type(exc).__name__
    if "not found" in text or "out of range" in text:
        return "roller out of range: bring it closer, or wake it by rolling it"
    return f"Bluetooth error: {text}"


_PERMISSION = ("permission to use Bluetooth denied by BlueZ: add yourself to the bluetooth "
               "group (sudo usermod -aG bluetooth $USER) and log in again")


@dataclass(frozen=True)
class Seen:
    address: str
    name: str
    rssi: int
    profile: Profile


async def scan(timeout_s: float = 5.0, backend: Any = None) -> list[Seen]:
    """Devices of a known profile in range, strongest first.

    No service filter: off-the-shelf sensors often advertise only their name.
    """
    try:
        found = await BleakScanner.discover(timeout=timeout_s, return_adv=True,
                                            backend=backend)
    except (BleakError, OSError) as exc:
        raise BleError(explain(exc)) from None
    seen = []
    for device, adv in found.values():
        name = device.name or adv.local_name
        if (profile := identify(name, adv.service_uuids)) is not None:
            seen.append(Seen(device.address, name or profile.label, adv.rssi, profile))
    return sorted(seen, key=lambda s: -s.rssi)


@dataclass
class DeviceInfo:
    address: str
    profile: str = "roller"
    name: str = ""
    manufacturer: str = ""
    model: str = ""
    firmware: str = ""
    battery_pct: int | None = None
    rssi_dbm: int | None = None  # its advertisement's signal when it was last found
    via: str = ""  # the Bluetooth proxy the link goes through (empty: the local adapter)
    rate_hz: int | None = None
    diameter_cm: float | None = None  # reported by the device (our roller only)
    config: p.DeviceConfig | None = None


@dataclass
class LinkEvents:
    """What the link reports to its owner; every callback runs on the event loop."""

    on_samples: SampleSink
    on_state: Callable[[str, int], None] = lambda state, attempt: None


@dataclass
class Link:
    """One roller's connection, kept up until ``stop`` is set or the link is lost for good."""

    address: str
    events: LinkEvents
    rate_hz: int = 100  # asked for; the profile's nearest rate is used
    reconnect_within_s: float = 120.0
    scanner_backend: Any = None
    client_backend: Any = None
    profile: Profile = p.PROFILE
    clock: Callable[[], float] = time.monotonic  # when notifications arrive (s)
    speed: float = 1.0  # the device's time runs this many times real time (the simulator)
    info: DeviceInfo = field(init=False)
    decoder: Decoder = field(init=False)
    gaps: int = 0
    _live: bool = False

    def __post_init__(self) -> None:
        self.rate_hz = self.profile.nearest_rate(self.rate_hz)
        self.info = DeviceInfo(self.address, self.profile.name, rate_hz=self.rate_hz)
        self.decoder = self.profile.decoder(self.rate_hz)
        self.decoder.log = roller_log(logging.getLogger(type(self.decoder).__module__),
                                      self.address)

    async def run(self, stop: asyncio.Event) -> str:
        """Stream until ``stop`` (returns ``stopped``) or the link is lost (``disconnected``)."""
        loop = asyncio.get_running_loop()
        lost_at = 0.0
        attempt = 0
        self.events.on_state("connecting", 0)
        while not stop.is_set():
            try:
                dropped = await self._session(stop)
            except (TimeoutError, BleakError, OSError) as exc:
                if self.gaps == 0 and not self._live:
                    raise BleError(explain(exc)) from None  # never connected: say why
                log.debug("reconnect attempt %d failed: %s", attempt, explain(exc))
                dropped = True
            if not dropped:
                break
            if self._live:  # it was streaming: a new outage begins
                self._live = False
                self.gaps += 1
                lost_at, attempt = loop.time(), 0
            if (loop.time() - lost_at) * self.speed >= self.reconnect_within_s:
                self.events.on_state("lost", attempt)
                return "disconnected"
            attempt += 1
            self.events.on_state("reconnecting", attempt)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), min(8.0, 0.25 * 2 ** min(attempt, 5)))
        return "stopped"

    async def probe(self, listen_s: float = 0.0) -> DeviceInfo:
        """Connect, read what the device says about itself, listen ``listen_s``, and leave."""
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(listen_s, stop.set)
        try:
            await self._session(stop)
        except (TimeoutError, BleakError, OSError) as exc:
            raise BleError(explain(exc)) from None
        return self.info

    @property
    def identity(self) -> Identity:
        """Who the device is, from its Device Information where it has it."""
        info = self.info
        return self.profile.identity(self.address, Identity(
            self.address, info.name, info.manufacturer, info.model, info.firmware))

    async def _session(self, stop: asyncio.Event) -> bool:
        """One connection; True when it dropped, False when ``stop`` ended it."""
        wanted = self.address.lower()

        def found(device: Any, adv: Any) -> bool:  # as find_device_by_address, with the RSSI
            if device.address.lower() != wanted:
                return False
            self.info.rssi_dbm = adv.rssi
            return True

        device = await BleakScanner.find_device_by_filter(
            found, timeout=5.0, backend=self.scanner_backend)
        if device is None:
            raise BleakDeviceNotFoundError(self.address)
        dropped = asyncio.Event()
        client = await establish_connection(
            BleakClient, device, device.name or self.address,
            disconnected_callback=lambda _: dropped.set(), max_attempts=2,
            backend=self.client_backend,
        )
        self.info.via = getattr(client._backend, "via", "")  # a proxies' backend says which
        try:
            await self._start(client)
            self._live = True
            self.events.on_state("live", 0)
            stopping = asyncio.ensure_future(stop.wait())
            dropping = asyncio.ensure_future(dropped.wait())
            await asyncio.wait({stopping, dropping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            dropping.cancel()
            return dropped.is_set()
        finally:
            if client.is_connected:
                try:
                    await self._write(client, self.profile.stop())
                finally:
                    await client.disconnect()

    async def _write(self, client: BleakClient, commands: tuple[bytes, ...]) -> None:
        for command in commands:
            await client.write_gatt_char(self.profile.write_uuid, command, response=True)
            if self.profile.command_gap_s:
                await asyncio.sleep(self.profile.command_gap_s)

    async def _start(self, client: BleakClient) -> None:
        profile = self.profile
        if client.services.get_service(profile.service_uuid) is None:
            raise BleError(f"{self.address} does not offer the {profile.label} service: "
                           "is it that kind of device? (roller scan says what each one is)")
        if profile.config_uuid:
            self._check(p.decode_config(bytes(await client.read_gatt_char(profile.config_uuid))))
        self.info.name = client.name
        for attribute, uuid in (("manufacturer", p.MANUFACTURER_UUID),
                                ("model", p.MODEL_UUID), ("firmware", p.FIRMWARE_UUID)):
            if client.services.get_characteristic(uuid) is not None:
                setattr(self.info, attribute,
                        bytes(await client.read_gatt_char(uuid)).decode(errors="replace"))

        def on_data(_: Any, data: bytearray) -> None:
            samples = self.decoder.feed(bytes(data), self.clock())
            if samples is not None:
                self.events.on_samples(*samples)

        def on_battery(_: Any, data: bytearray) -> None:
            if data:  # the next status shows it
                self.info.battery_pct = data[0]

        if client.services.get_characteristic(p.BATTERY_LEVEL_UUID) is not None:
            self.info.battery_pct = (await client.read_gatt_char(p.BATTERY_LEVEL_UUID))[0]
            await client.start_notify(p.BATTERY_LEVEL_UUID, on_battery)
        await self._write(client, profile.configure(self.rate_hz))
        self.decoder.reconnected()
        await client.start_notify(profile.notify_uuid, on_data)
        await self._write(client, profile.start(self.rate_hz))
        await self._confirm_rate(client)
        if profile.config_uuid:
            self._check(p.decode_config(bytes(await client.read_gatt_char(profile.config_uuid))))

    async def _confirm_rate(self, client: BleakClient) -> None:
        """For a device that says which rate it took: ask, and while it is not the one asked,
        set it the next way and ask again; the rate in force is the link's from then on."""
        profile = self.profile
        if profile.rate_answer is None:
            return
        in_force = None
        for retry in ((), *profile.retry_rate(self.rate_hz)):
            await self._write(client, retry)
            in_force = await self._ask_rate(client, profile.rate_answer)
            if in_force == self.rate_hz:
                break
            log.info("%s runs at %s Hz, not %d Hz", self.address, in_force, self.rate_hz)
        if in_force:
            self.info.rate_hz = in_force

    async def _ask_rate(self, client: BleakClient, answer: Callable[[Decoder], int | None]
                        ) -> int | None:
        """The rate the device reports; None if it does not answer within a second. Reads
        right after a save return stale values for about 300 ms, so this waits first."""
        await asyncio.sleep(RATE_SETTLE_S)
        answer(self.decoder)  # forget any earlier answer
        await self._write(client, self.profile.rate_query)
        for _ in range(20):
            if (rate := answer(self.decoder)) is not None:
                return rate
            await asyncio.sleep(0.05)
        return None

    def advice(self) -> tuple[str, ...]:
        """What this link's figures say to check (torn frames, a rate that did not take, a
        refusal), for the session summary and roller doctor."""
        said = self.profile.advice(self.decoder, self.info.rate_hz or self.rate_hz)
        if self.info.rate_hz and self.info.rate_hz != self.rate_hz:
            said = (f"the sensor runs at {self.info.rate_hz} Hz: it did not take the "
                    f"{self.rate_hz} Hz asked for", *said)
        return said

    def _check(self, config: p.DeviceConfig) -> None:
        """Our roller's configuration: a protocol we speak; its rate and diameter."""
        if config.protocol_version != p.PROTOCOL_VERSION:
            raise BleError(f"the roller speaks protocol version {config.protocol_version}; "
                           f"this roller program knows version {p.PROTOCOL_VERSION}: update it")
        self.info.config = config
        self.info.rate_hz, self.info.diameter_cm = config.rate_hz, config.diameter_cm
