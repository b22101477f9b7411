"""Which process holds a roller, and which owns the MQTT bridge: OS locks beside the store.

``roller gateway`` holds every roller it watches; ``roller track`` and the dashboard hold the
one they stream from. A second program reaching for a held roller is told who has it, in one
line, instead of fighting it for the radio. The bridge goes to whichever process takes it
first (:mod:`tracker.mqtt.bridge` says what owning it means).
"""

from __future__ import annotations

import logging
import os

from tracker.core.errors import MachineError
from tracker.mqtt.messages import device_id
from tracker.store.database import Store

log = logging.getLogger(__name__)


class Held(MachineError):
    """A roller another program holds."""


def who(role: str) -> str:
    """How this process names itself to others: ``roller gateway (pid 812)``."""
    return f"roller {role} (pid {os.getpid()})"


def hold_roller(store: Store, address: str, role: str) -> None:
    """Hold ``address`` for this process's life, or :class:`Held` saying who has it. A store
    whose lock folder cannot be written (read-only) holds nothing and refuses nobody."""
    try:
        holder = store.owners.hold(f"roller-{device_id(address)}", who(role))
    except OSError:
        return
    if holder is not None:
        how = "stop it first" + (", or follow the session in Home Assistant"
                                 if "gateway" in holder else "")
        raise Held(f"{address} is held by {holder}: {how}")


def hold_bridge(store: Store, role: str) -> bool:
    """Whether this process owns the store's MQTT bridge (it does if nobody else does)."""
    try:
        return store.owners.hold("bridge", who(role)) is None
    except OSError:
        log.warning("cannot tell who owns the MQTT bridge (%s): taking it", store.owners.dir)
        return True
