"""``[bluetooth] proxies``: the ESPHome Bluetooth proxies roller reaches rollers through.

Read here, with nothing of ESPHome loaded: a command that has no proxies configured never
imports ``bleak-esphome`` (:mod:`tracker.devices.proxies` does, when there are some).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tracker.core.limits import quote

DEFAULT_PORT = 6053  # ESPHome's native API


@dataclass(frozen=True)
class ProxyAddress:
    """One proxy: where its native API listens, and its API encryption key (ESPHome's
    ``api: encryption: key``, 32 bytes in base64; empty: a proxy without encryption)."""

    host: str
    port: int = DEFAULT_PORT
    key: str = ""

    @property
    def label(self) -> str:
        return self.host if self.port == DEFAULT_PORT else f"{self.host}:{self.port}"


def parse(value: Sequence[Any], where: str = "[bluetooth] proxies") -> tuple[ProxyAddress, ...]:
    """Each entry a table ``{host, port, key}`` or a string ``"host"`` / ``"host:port"``;
    ValueError names the entry that cannot be used."""
    proxies = []
    for number, entry in enumerate(value, 1):
        at = f"{where} entry {number}"
        if isinstance(entry, str):
            named, _, port_text = entry.rpartition(":") if ":" in entry else (entry, "", "")
            entry = {"host": named, **({"port": _port(port_text, at)} if port_text else {})}
        if not isinstance(entry, dict):
            raise ValueError(f"{at} must be a table {{host = ..., port = ..., key = ...}} "
                             f"or \"host:port\", not {quote(entry)}")
        if unknown := set(entry) - {"host", "port", "key"}:
            raise ValueError(f"{at}: unknown key {quote(sorted(unknown)[0])} (host, port, key)")
        host, port, key = entry.get("host"), entry.get("port", DEFAULT_PORT), entry.get("key", "")
        if not isinstance(host, str) or not host.strip() or any(c.isspace() for c in host):
            raise ValueError(f"{at}: host must be a name or address, not {quote(host)}")
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise ValueError(f"{at}: port must be 1-65535, not {quote(port)}")
        if not isinstance(key, str) or (key and not _is_key(key)):
            raise ValueError(f"{at}: key must be the proxy's API encryption key (32 bytes in "
                             "base64, as in its YAML's api: encryption: key)")
        proxies.append(ProxyAddress(host, port, key))
    if len({(p.host, p.port) for p in proxies}) < len(proxies):
        raise ValueError(f"{where} names one proxy twice")
    return tuple(proxies)


def _port(text: str, at: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{at}: port must be 1-65535, not {quote(text)}") from None


def _is_key(key: str) -> bool:
    try:
        return len(base64.b64decode(key, validate=True)) == 32
    except (binascii.Error, ValueError):
        return False
