"""One roller as the bridge publishes it: what the connection loop and the discovery keep of it.

Its own module because both work on it: the bridge (:mod:`~tracker.mqtt.bridge`) follows
what is live and when its state is due, the discovery (:mod:`~tracker.mqtt.discovery`)
who Home Assistant was told it is on this connection, and when it listens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tracker.core.status import Identity
from tracker.mqtt.messages import Topics


@dataclass
class Channel:
    """One roller as the bridge publishes it."""

    address: str
    topics: Topics
    identity: Identity | None  # None until it is known who the device is
    live: dict[str, Any] = field(default_factory=dict)  # what is live now
    dirty: bool = True
    urgent: bool = False
    last_state_at: float = -1e9
    label: str | None = None  # the name its owner gave it (None: its advertised name)
    discovered: Identity | None = None  # published on this connection
    discovered_label: str | None = None  # ... under this name
    ready_at: float = 0.0  # loop time from which Home Assistant listens to its topics
    announcing: bool = False  # its configs are going out now: nothing else of it yet
    online: bool = False  # its availability said ``online`` on this connection
