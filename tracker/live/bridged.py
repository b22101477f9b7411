"""The MQTT bridge beside a live session, for as long as the session runs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from tracker.config import Settings
from tracker.core import clock
from tracker.core.status import Identity
from tracker.devices.base import Profile
from tracker.live import comfort
from tracker.live.holds import hold_bridge
from tracker.store.database import Store
from tracker.store.errors import StoreError

if TYPE_CHECKING:
    from tracker.live.session import LiveSession
    from tracker.mqtt.bridge import Bridge
    from tracker.mqtt.messages import Command

log = logging.getLogger(__name__)


def known_identity(store: Store, address: str, profile: Profile) -> Identity | None:
    """Who a device is, if it has said so before (its discovery can go out at once)."""
    said = store.devices.identity(address)
    return profile.identity(address, said) if said and said.model else None


@asynccontextmanager
async def bridged(settings: Settings, store: Store, address: str, profile: Profile,
                  role: str) -> AsyncIterator[Bridge | None]:
    """The MQTT bridge running beside a live session (None when MQTT is off), owning the
    store's bridge unless a gateway does; at the end the state says the session is over and
    what the session queued goes out before it stops.

    Discovery goes out at once for a device that has connected before (the store remembers
    who it is), else once the link is live and the device has said who it is.
    """
    if not settings.mqtt.enabled:
        yield None
        return
    from tracker.mqtt.bridge import Bridge  # the MQTT client, only for who publishes

    bridge = Bridge(settings.mqtt, store, settings.configured.rules,
                    settings.configured.zone, alerts=settings.configured.alerts,
                    owner=hold_bridge(store, role), client_id=settings.mqtt.client_id_for(role))
    bridge.watch(address, known_identity(store, address, profile), connected=False)
    stop = asyncio.Event()
    task = asyncio.get_running_loop().create_task(bridge.run(stop))
    try:
        yield bridge
    finally:
        bridge.session_over(address)
        stop.set()
        await asyncio.wait_for(task, 15)


def obey(bridge: Bridge | None, live: LiveSession) -> None:
    """Home Assistant's end button ends this session, its area select switches the area
    and its comfort number scores the part rolled; the next session's routine and override
    are the gateway's business (``roller track`` was told its own)."""
    if bridge is None:
        return

    def command(address: str, command: Command) -> None:
        if command.what == "end":
            live.end("stopped")
        elif command.what == "area":
            if why := live.switch(command.value):
                log.warning("%s: not switching to %s: %s", address, command.value, why)
            else:
                bridge.update(address, comfort=None)  # the next area is scored afresh
        elif command.what == "comfort":
            try:
                given = comfort.give(live.store, live, None, None, int(command.value),
                                     clock.now(), live.settings.alerts)
            except StoreError as exc:
                log.warning("%s: comfort %s not kept: %s", address, command.value, exc)
            else:
                bridge.update(address, comfort=given.score)
        else:
            log.warning("ignored %s %s: only roller gateway starts sessions by itself",
                        command.what, command.value)

    bridge.on_command = command

