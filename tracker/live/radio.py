"""The radio a command reaches rollers with: the local adapter, and the ESPHome Bluetooth
proxies of ``[bluetooth] proxies`` when there are some.

Without proxies nothing changes and nothing of ESPHome is imported. With them, the proxies
are connected for as long as the command runs, and every source's backends become the
proxies' (:mod:`tracker.devices.proxies`), the local adapter joining them as one more
scanner: whichever hears a roller best carries it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tracker.devices.ble import BleError
from tracker.live.source import Source

if TYPE_CHECKING:
    from tracker.core.proxy_settings import ProxyAddress
    from tracker.devices.proxies import Proxies


@dataclass(frozen=True)
class Radio:
    """The bleak backends to scan and connect with (None: bleak's own), and the proxies
    beneath them, if any."""

    scanner_backend: Any = None
    client_backend: Any = None
    proxies: Proxies | None = None

    def carry(self, source: Source) -> Source:
        """``source`` reached through this radio (unchanged without proxies)."""
        if self.proxies is None:
            return source
        return dataclasses.replace(source, scanner_backend=self.scanner_backend,
                                   client_backend=self.client_backend)


@dataclass
class _Running:
    """The proxies this process runs, and how many radios use them (habluetooth's manager is
    one a process: the dashboard's session and its Devices screen share it)."""

    addresses: tuple[ProxyAddress, ...]
    proxies: Proxies
    users: int = 0


_running: list[_Running] = []


@asynccontextmanager
async def radio(proxies: tuple[ProxyAddress, ...], local: tuple[Any, Any] = (None, None),
                use_local: bool = True) -> AsyncIterator[Radio]:
    """The radio for ``proxies`` (none: ``local``, bleak's own adapter unless the simulator's
    backends are given). A command that needs a roller and has neither a usable proxy nor a
    local adapter fails in one line naming what each proxy said."""
    if not proxies:
        yield Radio(*local)
        return
    try:
        from tracker.devices.proxies import ProxyClient, ProxyScanner
    except ImportError:
        raise BleError("[bluetooth] proxies needs roller's proxy extra: "
                       "pip install 'roller[proxy]'") from None
    running = await _start(proxies, local, use_local)
    try:
        if not running.proxies.usable() and running.proxies.local is None:
            raise BleError("no Bluetooth proxy usable and no local adapter: " + "; ".join(
                f"{proxy.label}: {proxy.says()}" for proxy in running.proxies.proxies))
        yield Radio(ProxyScanner, ProxyClient, running.proxies)
    finally:
        running.users -= 1
        if not running.users:
            _running.remove(running)
            await running.proxies.stop()


async def _start(addresses: tuple[ProxyAddress, ...], local: tuple[Any, Any],
                 use_local: bool) -> _Running:
    """The proxies this process runs already, or these started."""
    from tracker.devices.proxies import Proxies

    if _running:
        running = _running[0]
        if running.addresses != addresses:
            raise BleError("another set of Bluetooth proxies is in use in this process")
    else:
        running = _Running(addresses, Proxies(addresses, local))
        _running.append(running)
        try:
            await running.proxies.start(use_local)
        except BaseException:
            _running.remove(running)
            await running.proxies.stop()
            raise
    running.users += 1
    return running
