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
    from tracker.devices.proxies import Proxies
    from tracker.devices.proxy_settings import ProxyAddress


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
        from tracker.devices.proxies import Proxies, ProxyClient, ProxyScanner
    except ImportError:
        raise BleError("[bluetooth] proxies needs roller's proxy extra: "
                       "pip install 'roller[proxy]'") from None
    running = Proxies(proxies, local)
    try:
        await running.start(use_local)
        if not running.usable() and running.local is None:
            raise BleError("no Bluetooth proxy usable and no local adapter: " + "; ".join(
                f"{proxy.label}: {proxy.says()}" for proxy in running.proxies))
        yield Radio(ProxyScanner, ProxyClient, running)
    finally:
        await running.stop()
