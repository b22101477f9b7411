"""Rollers through ESPHome Bluetooth proxies, as two bleak backends.

``bleak-esphome`` makes each proxy a scanner of ``habluetooth``'s :class:`BluetoothManager`
(what Home Assistant's Bluetooth integration runs on, without Home Assistant): the manager
merges every proxy's advertisements, and its client wrapper connects through whichever
proxy hears a device best and has a free connection slot. The local adapter (BlueZ, or the
simulator's radio under ``--sim``) joins the manager as one more scanner, so it competes on
the same terms. :class:`ProxyScanner` and :class:`ProxyClient` put all that beneath bleak's
public API as backends, as the simulator's are: :class:`tracker.devices.ble.Link`, the
profiles and the live session run unchanged, and a link that drops because its proxy went
away reconnects, through another, as any link does.

Imported only when ``[bluetooth] proxies`` is set (``roller[proxy]``); one :class:`Proxies`
per process (the manager is habluetooth's process-wide one).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from aioesphomeapi.client import APIClient
from aioesphomeapi.core import (
    APIConnectionError,
    EncryptionPlaintextAPIError,
    InvalidEncryptionKeyAPIError,
    RequiresEncryptionAPIError,
    ResolveAPIError,
    TimeoutAPIError,
)
from aioesphomeapi.model import LogLevel
from aioesphomeapi.reconnect_logic import ReconnectLogic
from bleak import BleakScanner
from bleak.args import SizedBuffer
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.exc import BleakDeviceNotFoundError, BleakError
from bleak_esphome import connect_scanner
from bleak_esphome.backend.device import ESPHomeBluetoothDevice
from habluetooth import (
    BaseHaRemoteScanner,
    BluetoothManager,
    BluetoothServiceInfoBleak,
    HaBleakClientWrapper,
    HaBluetoothConnector,
    get_manager,
    set_manager,
)
from habluetooth.central_manager import CentralBluetoothManager
from habluetooth.usage import uninstall_multiple_bleak_catcher

from tracker.core.proxy_settings import ProxyAddress
from tracker.devices.ble import SaidError

log = logging.getLogger(__name__)
#: What ESPHome's bluetooth_proxy logs when a second API client asks for its Bluetooth.
ONE_SUBSCRIPTION = "Only one API subscription is allowed at a time"
FIRST_CONNECT_S = 5.0  # how long start() waits for each proxy's first answer
LOCAL = "local"  # the local adapter's source name in the manager


class Manager(BluetoothManager):
    """habluetooth's manager, on its own: roller's scans read its merged history, so an
    advertisement needs no further discovery step."""

    def _discover_service_info(self, service_info: BluetoothServiceInfoBleak) -> None:
        """Nothing to dispatch: :class:`ProxyScanner` registers its own callbacks."""


@dataclass
class Proxy:
    """One proxy as roller sees it: what ``roller doctor`` says about it."""

    address: ProxyAddress
    name: str = ""
    firmware: str = ""
    reachable: bool = False
    problem: str = ""  # why it cannot be used, in one line (empty: it can)
    held_elsewhere: bool = False  # another API client has its Bluetooth
    device: ESPHomeBluetoothDevice | None = None
    client: APIClient | None = field(default=None, repr=False)
    #: Between roller's request for the advertisements and the proxy's next answer: a
    #: refusal logged then is the answer to roller's request (the proxy answers in order).
    asking: bool = False
    started: bool = False  # its first connection has been tried: later news is the log's

    @property
    def label(self) -> str:
        return f"{self.name} ({self.address.label})" if self.name else self.address.label

    def says(self) -> str:
        """What ``roller doctor`` says of this proxy, in one line."""
        if not self.reachable:
            return self.problem or "not reachable"
        if self.held_elsewhere:
            return f"ESPHome {self.firmware}; {held(self)}"
        slots = self.slots
        free = f"{slots[0]} of {slots[1]} connection slots free" if slots else "slots unknown"
        return f"reachable, ESPHome {self.firmware}, {free}, no other client holds it"

    @property
    def slots(self) -> tuple[int, int] | None:
        """(free, limit) connection slots, once the proxy has said."""
        device = self.device
        if device is None or not device.ble_connections_limit:
            return None
        return device.ble_connections_free, device.ble_connections_limit


def problem_of(exc: BaseException, address: ProxyAddress) -> str:
    """One line for why a proxy's API cannot be used."""
    if isinstance(exc, InvalidEncryptionKeyAPIError):
        return ("its encryption key is not the one in [bluetooth] proxies: copy api: "
                "encryption: key from the proxy's YAML")
    if isinstance(exc, RequiresEncryptionAPIError):
        return "it requires encryption: give its api: encryption: key in [bluetooth] proxies"
    if isinstance(exc, EncryptionPlaintextAPIError):
        return "it does not use encryption: leave out its key in [bluetooth] proxies"
    if isinstance(exc, ResolveAPIError):
        return f"not reachable: {address.host} is not a name this computer can resolve"
    text = str(exc) or type(exc).__name__
    if "Errno 111" in text or "refused" in text.lower():
        return f"not reachable: nothing listens on {address.label} (is it on the network?)"
    if isinstance(exc, TimeoutError | TimeoutAPIError) or "timed out" in text.lower():
        return f"not reachable: no answer from {address.label} (is it on the network?)"
    return f"not reachable: {text.splitlines()[0]}"


class Proxies:
    """The proxies of ``[bluetooth] proxies``, connected and kept connected (aioesphomeapi's
    reconnect logic), each one a scanner of the process's habluetooth manager."""

    def __init__(self, addresses: tuple[ProxyAddress, ...],
                 local: tuple[Any, Any] | None = None) -> None:
        """``local``: the local radio's (scanner, client) bleak backends, None for bleak's
        own; pass ``False``-y ``use_local`` to :meth:`start` to leave it out."""
        self.proxies = [Proxy(address) for address in addresses]
        self.local_backends = local
        self.local: LocalRadio | None = None
        self._logic: list[ReconnectLogic] = []
        self.manager: Manager | None = None

    async def start(self, use_local: bool = True) -> Proxies:
        """Connect every proxy (each within :data:`FIRST_CONNECT_S`; one that does not
        answer keeps being tried), and the local adapter where there is one."""
        # roller says what a proxy's failures mean, once, in its own words
        logging.getLogger("aioesphomeapi.reconnect_logic").setLevel(logging.ERROR)
        manager = self.manager = Manager()
        set_manager(manager)
        await manager.async_setup()
        uninstall_multiple_bleak_catcher()  # roller names its backends; bleak stays bleak's
        firsts = [self._connect(proxy) for proxy in self.proxies]
        await asyncio.gather(*firsts)
        if use_local:
            self.local = await LocalRadio.start(manager, self.local_backends)
        return self

    async def stop(self) -> None:
        for logic in self._logic:
            await logic.stop()
        for proxy in self.proxies:
            if proxy.client is not None:
                with contextlib.suppress(APIConnectionError, OSError):
                    await proxy.client.disconnect()
        if self.local:
            await self.local.stop()
        if self.manager:
            self.manager.async_stop()
        CentralBluetoothManager.manager = None

    def usable(self) -> list[Proxy]:
        return [proxy for proxy in self.proxies if proxy.reachable and not proxy.problem]

    async def _connect(self, proxy: Proxy) -> None:
        address = proxy.address
        client = proxy.client = APIClient(address.host, address.port, None,
                                          noise_psk=address.key or None,
                                          client_info="roller")
        first: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        unsetup: list[Callable[[], None]] = []

        async def on_connect() -> None:
            try:
                await self._connected(proxy, client, unsetup)
            finally:
                if not first.done():
                    first.set_result(None)

        async def on_disconnect(expected: bool) -> None:
            log.info("proxy %s: connection lost", proxy.label)
            proxy.reachable = False
            if proxy.device is not None:
                proxy.device.async_set_unavailable()
            for cancel in unsetup:  # its links end first, then its scanner leaves
                cancel()
            unsetup.clear()

        async def on_error(exc: Exception) -> None:
            problem = problem_of(exc, address)
            if problem != proxy.problem:  # said once, not at every retry
                said(first.done(), "proxy %s: %s", address.label, problem)
            proxy.reachable, proxy.problem = False, problem
            if not first.done():
                first.set_result(None)

        logic = ReconnectLogic(client=client, on_connect=on_connect,
                               on_disconnect=on_disconnect, on_connect_error=on_error,
                               name=None, zeroconf_wake=False)
        self._logic.append(logic)
        await logic.start()
        try:
            await asyncio.wait_for(asyncio.shield(first), FIRST_CONNECT_S)
        except TimeoutError:
            proxy.problem = proxy.problem or f"not reachable: no answer from {address.label}"
        proxy.started = True

    async def _connected(self, proxy: Proxy, client: APIClient,
                         unsetup: list[Callable[[], None]]) -> None:
        """A proxy's API is up: follow its log (for the one-client refusal), register it as
        a scanner, and learn whether its Bluetooth is ours."""
        info = await client.device_info()
        proxy.name, proxy.firmware = info.name, info.esphome_version
        proxy.reachable, proxy.problem, proxy.held_elsewhere = True, "", False
        unsetup.append(client.subscribe_logs(partial(self._on_log, proxy),
                                             log_level=LogLevel.LOG_LEVEL_ERROR))
        proxy.asking = True
        data = connect_scanner(client, info, True)
        scanner = data.scanner
        assert scanner is not None
        proxy.device = data.bluetooth_device
        unsetup.append(scanner.async_setup())
        unsetup.append(get_manager().async_register_scanner(scanner))

        def dropped() -> None:  # every BLE link through this proxy ends with its API
            for callback in list(data.disconnect_callbacks):
                callback()
            data.disconnect_callbacks.clear()

        unsetup.insert(0, dropped)
        await client.device_info()  # a round trip: the proxy has answered our subscriptions
        proxy.asking = False
        log.info("proxy %s: ESPHome %s, %s", proxy.label, proxy.firmware, proxy.says())

    def _on_log(self, proxy: Proxy, message: Any) -> None:
        text = bytes(message.message).decode(errors="replace")
        if ONE_SUBSCRIPTION not in text:
            return
        if proxy.asking:  # the answer to roller's own request
            proxy.held_elsewhere = True
            proxy.problem = held(proxy)
            said(proxy.started, "proxy %s: %s", proxy.label, proxy.problem)
        else:
            log.info("proxy %s: another API client asked for its Bluetooth and was refused "
                     "(roller holds it)", proxy.label)


def said(later: bool, message: str, *args: object) -> None:
    """A proxy's problem: a warning when it comes later (the gateway's log); while the
    proxies start, whoever started them says it (``roller doctor``, a command's one line)."""
    log.log(logging.WARNING if later else logging.INFO, message, *args)


def held(proxy: Proxy) -> str:
    return ("another API client holds its Bluetooth (ESPHome serves one at a time: "
            "Home Assistant?): give roller a proxy of its own")


class LocalRadio(BaseHaRemoteScanner):
    """The local adapter as one more scanner of the manager: what a bleak scanner on it
    hears, and a client on it to connect with (bleak's own backends, or the simulator's)."""

    def __init__(self, scanner_backend: Any, client_backend: Any) -> None:
        connector = HaBluetoothConnector(client=client_backend or _platform_client(),
                                         source=LOCAL, can_connect=lambda: True)
        super().__init__(LOCAL, LOCAL, connector, True)
        self._backend = scanner_backend
        self._bleak: Any = None
        self._cancel: list[Callable[[], None]] = []

    @classmethod
    async def start(cls, manager: Manager, backends: tuple[Any, Any] | None
                    ) -> LocalRadio | None:
        scanner_backend, client_backend = backends or (None, None)
        radio = cls(scanner_backend, client_backend)
        bleak = BleakScanner(radio._heard, backend=scanner_backend)
        try:
            await bleak.start()
        except (BleakError, OSError) as exc:  # no adapter here: the proxies alone
            log.info("no local Bluetooth adapter beside the proxies: %s", exc)
            return None
        radio._bleak = bleak
        radio._cancel = [radio.async_setup(), manager.async_register_scanner(radio)]
        return radio

    async def stop(self) -> None:
        for cancel in self._cancel:
            cancel()
        await self._bleak.stop()

    def _heard(self, device: BLEDevice, adv: AdvertisementData) -> None:
        self._async_on_advertisement(
            device.address, adv.rssi, adv.local_name, adv.service_uuids, adv.service_data,
            adv.manufacturer_data, adv.tx_power,
            {**_details(device), "source": LOCAL},  # BlueZ's client finds its path there
            time.monotonic())


def _details(device: BLEDevice) -> dict[Any, Any]:
    return dict(device.details) if isinstance(device.details, dict) else {}


def _platform_client() -> Any:
    from bleak.backends.client import get_platform_client_backend_type

    return get_platform_client_backend_type()[0]


class ProxyScanner(BaseBleakScanner):
    """A bleak scanner backend over the manager: every advertisement any proxy (or the local
    adapter) hears, each device as its best-placed scanner heard it."""

    def __init__(self, detection_callback: Any = None, service_uuids: Any = None,
                 scanning_mode: str = "active", **kwargs: Any) -> None:
        super().__init__(detection_callback, service_uuids)
        self._cancel: Callable[[], None] | None = None

    async def start(self) -> None:
        self.seen_devices = {}
        manager = get_manager()
        self._cancel = manager.async_register_bleak_callback(self._heard, {})
        # What was heard before: again once bleak's consumer of this scanner is listening
        # (the manager passes an advertisement that did not change on to no one).
        asyncio.get_running_loop().call_soon(self._replay)

    def _replay(self) -> None:
        if self._cancel is not None:
            for info in get_manager().async_discovered_service_info(True):
                self._heard(info.device, info.advertisement)

    async def stop(self) -> None:
        if self._cancel:
            self._cancel()
            self._cancel = None

    def _heard(self, device: BLEDevice, adv: AdvertisementData) -> None:
        if self.is_allowed_uuid(adv.service_uuids):
            seen = self.create_or_update_device(device.address, device.address, device.name,
                                                device.details, adv)
            self.call_detection_callbacks(seen, adv)


class ProxyClient(BaseBleakClient):
    """A bleak client backend that connects through habluetooth's choice: the proxy (or the
    local adapter) that hears the device best and has a free connection slot."""

    live = True  # a roller over the air (Source.kind), though the backend is not bleak's own

    def __init__(self, address_or_ble_device: BLEDevice | str, *,
                 disconnected_callback: Callable[[], None] | None = None,
                 timeout: float = 10.0, **kwargs: Any) -> None:
        super().__init__(address_or_ble_device, disconnected_callback=disconnected_callback,
                         timeout=timeout)
        self._wrapper: HaBleakClientWrapper | None = None

    @property
    def via(self) -> str:
        """The proxy the link goes through (empty: the local adapter)."""
        scanner = self._wrapper._connected_scanner if self._wrapper else None
        return scanner.name if scanner and scanner.source != LOCAL else ""

    def _backend(self) -> BaseBleakClient:
        backend = self._wrapper._backend if self._wrapper else None
        if backend is None:
            raise BleakError("Not connected")
        return backend

    @property
    def name(self) -> str:
        """The name the device advertised (bleak-esphome's client has none of its own)."""
        device = self._wrapper._connected_device if self._wrapper else None
        return (device.name if device else None) or self.address

    @property
    def mtu_size(self) -> int:
        return self._backend().mtu_size

    @property
    def is_connected(self) -> bool:
        return self._wrapper is not None and self._wrapper.is_connected

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        refuse_when_full(self.address)
        wrapper = HaBleakClientWrapper(self.address, self._dropped, timeout=self._timeout,
                                       _is_retry_client=True)
        await wrapper.connect()
        self._wrapper = wrapper
        self.services = self._backend().services
        log.info("%s: connected through %s", self.address, self.via or "the local adapter")

    def _dropped(self, _: Any) -> None:
        if self._disconnected_callback:
            self._disconnected_callback()

    async def disconnect(self) -> None:
        if self._wrapper is not None:
            await self._wrapper.disconnect()

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        await self._backend().pair(*args, **kwargs)

    async def unpair(self) -> None:
        await self._backend().unpair()

    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic,
                             **kwargs: Any) -> bytearray:
        return await self._backend().read_gatt_char(characteristic, **kwargs)

    async def read_gatt_descriptor(self, descriptor: BleakGATTDescriptor,
                                   **kwargs: Any) -> bytearray:
        return await self._backend().read_gatt_descriptor(descriptor, **kwargs)

    async def write_gatt_char(self, characteristic: BleakGATTCharacteristic,
                              data: SizedBuffer, response: bool) -> None:
        await self._backend().write_gatt_char(characteristic, data, response)

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor,
                                    data: SizedBuffer) -> None:
        await self._backend().write_gatt_descriptor(descriptor, data)

    async def start_notify(self, characteristic: BleakGATTCharacteristic,
                           callback: NotifyCallback, **kwargs: Any) -> None:
        await self._backend().start_notify(characteristic, callback, **kwargs)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        await self._backend().stop_notify(characteristic)


def refuse_when_full(address: str) -> None:
    """A device heard only by proxies whose slots are all taken is refused at once, named,
    with the proxy's slots: bleak-esphome would wait for a slot and then fail vaguely."""
    manager = get_manager()
    heard = manager.async_scanner_devices_by_address(address, True)
    if not heard:
        raise BleakDeviceNotFoundError(address, f"Device {address} not found by any proxy")
    full = []
    for seen in heard:
        allocations = seen.scanner.get_allocations()
        if allocations is None or allocations.free > 0:
            return
        full.append(f"{seen.scanner.name} has all {allocations.slots} in use "
                    f"({', '.join(allocations.allocated)})")
    # (worded without "connection slot": bleak-retry-connector would retry that for long)
    raise SaidError(f"{address} refused: no free slot on the proxies that hear it: "
                    f"{'; '.join(full)}. Add a proxy near it, or stop another roller")
