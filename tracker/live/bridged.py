"""The MQTT bridge beside a live session, for as long as the session runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from tracker.config import Settings
from tracker.devices.base import Profile
from tracker.store.database import Store

if TYPE_CHECKING:
    from tracker.mqtt.bridge import Bridge


@asynccontextmanager
async def bridged(settings: Settings, store: Store, address: str, profile: Profile,
                  routine: str) -> AsyncIterator[Bridge | None]:
    """The MQTT bridge running beside a live session (None when MQTT is off); at the end the
    state says the session is over and what the session queued goes out before it stops.

    Discovery goes out at once for a device that has connected before (the store remembers
    who it is), else once the link is live and the device has said who it is.
    """
    if not settings.mqtt.enabled:
        yield None
        return
    from tracker.mqtt.bridge import Bridge  # the MQTT client, only for who publishes

    said = store.identity(address)
    known = profile.identity(address, said) if said and said.model else None
    bridge = Bridge(settings.mqtt, store, settings.rules, settings.zone, address, known,
                    routine=routine)
    stop = asyncio.Event()
    task = asyncio.get_running_loop().create_task(bridge.run(stop))
    try:
        yield bridge
    finally:
        bridge.session_over()
        stop.set()
        await asyncio.wait_for(task, 15)
