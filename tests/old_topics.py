"""What roller 0.x left behind, for the tests of the move to the bridge's topics: its discovery
configs remembered in a store, and retained at the broker with its rollers' and people's
states, each on the topics 0.x used (docs/mqtt.md, "Moving from 0.x topics")."""

from __future__ import annotations

import json
import re
import subprocess
from contextlib import closing
from pathlib import Path
from typing import Any

from tracker.core.status import Identity
from tracker.mqtt.discovery import BRIDGE
from tracker.mqtt.messages import (
    BridgeTopics,
    Topics0x,
    bridge_configs,
    device_id,
    discovery_configs,
    encode,
    person_configs,
    person_payload,
    state_payload,
)
from tracker.store.opening import open_store

#: When the week of 0.x's states began (their weekly totals reset then).
WEEK = "2026-11-23T00:00:00+00:00"


def _as_0x(topics: BridgeTopics, configs: list[tuple[str, dict[str, Any]]]
           ) -> list[tuple[str, bytes]]:
    """Configs as 0.x published them: at ``<prefix>/<component>/<device>/<object>/config``,
    naming the topics of its rollers and people without the bridge."""
    published = []
    for topic, config in configs:
        device = config["device"]["identifiers"][0]
        component = topic.removeprefix(f"{topics.discovery_prefix}/").split("/")[0]
        # A roller's and a person's topics lose the bridge; the bridge's own keep it.
        text = re.sub(rf"{re.escape(topics.own)}/((?:person|[0-9a-f]{{12}})/)",
                      rf"{topics.base}/\1", json.dumps(config))
        published.append((f"{topics.discovery_prefix}/{component}/{device}/"
                          f"{config['unique_id'].removeprefix(device + '_')}/config",
                          text.encode()))
    return published


def leave_0x(db: Path, addresses: list[str], bridge: str = "test") -> list[tuple[str, bytes]]:
    """The store at ``db`` (made already) as 0.x left it: the configs of ``addresses`` and of
    every person remembered, as 0.x remembered them (the bridge's own were not). Returns what
    0.x left retained at the broker: those configs, the bridge's, and the states."""
    topics = BridgeTopics("roller", "homeassistant", bridge)
    old = Topics0x(topics)
    left: list[tuple[str, bytes]] = []
    with closing(open_store(db)) as store:
        for address in addresses:
            configs = _as_0x(topics, discovery_configs(
                topics.roller(address), Identity(address, "roller-sim", "roller project",
                                                 "roller-sim")))
            store.outbox.remember_discovery(address, [t for t, _ in configs])
            left += configs
            availability, state = old.roller(address)
            left += [(availability, b"online"),
                     (state, encode(state_payload(session_active=False, last_reset=WEEK,
                                                  name=f"roller {device_id(address)}")))]
        for person in store.people.all():
            configs = _as_0x(topics, person_configs(topics.person(person.uid), person.name))
            store.outbox.remember_discovery(f"person:{person.uid}", [t for t, _ in configs])
            left += configs
            left += [(t, encode(person_payload(name=person.name, sessions_this_week=0,
                                               last_reset=WEEK)))
                     for t in old.person(person.uid)]
        assert not store.outbox.discovery_topics(BRIDGE)
    return left + _as_0x(topics, bridge_configs(topics))


def retain(port: int, messages: list[tuple[str, bytes]]) -> None:
    """Each message retained at the broker on ``port`` (a listener without an ACL), as 0.x
    left it."""
    for topic, payload in messages:
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-r",
                        "-t", topic, "-s"], input=payload, check=True)
