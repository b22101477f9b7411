"""Home Assistant discovery: the bridge, each roller and each person as devices; taken back.

:mod:`~tracker.mqtt.messages` builds the configs; this publishes them (QoS 1, retained),
remembers what this connection told Home Assistant (a roller once per identity, a person
once per name) and every config topic in the store, through its outbox, so that a person
removed, a roller forgotten and ``roller mqtt purge`` leave no retained config behind; and
moves what roller 0.x published to the topics of today, once (:func:`take_back_0x`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from typing import Final

import aiomqtt

from tracker.core.people import Person, PersonError, check_name
from tracker.core.status import Identity
from tracker.mqtt.channel import Channel
from tracker.mqtt.messages import (
    UNNAMED,
    BridgeTopics,
    Topics0x,
    bridge_configs,
    discovery_configs,
    encode,
    person_configs,
    shown_name,
)
from tracker.mqtt.settings import MqttSettings
from tracker.store.outbox import Outbox

log = logging.getLogger(__name__)

#: After a roller's discovery tells Home Assistant of an entity it did not have, the roller's
#: state and events wait this long (s): Home Assistant subscribes to a new entity's topics
#: about 130 ms after its config arrives, and an event sent before then is lost to it. A
#: move from 0.x's topics gives it as long to let the old entities go.
SETTLE_S: Final = 1.0
#: While a roller's configs go out, what waits for them looks again this often (s): an event
#: sent between two of them would reach Home Assistant before the entity that shows it.
ANNOUNCING_POLL_S: Final = 0.02
#: What the bridge's own configs are remembered as in the store (a roller's: its address).
BRIDGE: Final = "bridge"
#: Home Assistant's discovery migration (its MQTT integration's ``migrate_discovery``): sent
#: on an entity's old config topic, it unloads the entity and keeps its registry entry
#: (entity id, device, area, name, history) for the config that comes next, on another
#: topic, with the same unique id.
MIGRATE: Final = b'{"migrate_discovery": true}'


def readable_default() -> str:
    """The default person's name in Home Assistant until one is chosen: the full name the
    system has for whoever runs roller, else their login name, when that is a person (not
    root, a system account or a service's dynamic user); else :data:`UNNAMED`."""
    import os

    try:
        import pwd

        entry = pwd.getpwuid(os.getuid())
    except (ImportError, KeyError):  # no user database (Windows), or no entry in it
        return UNNAMED
    if not 1000 <= entry.pw_uid < 60000:
        return UNNAMED
    try:
        return check_name(entry.pw_gecos.split(",")[0].strip() or entry.pw_name.capitalize())
    except PersonError:
        return UNNAMED


async def clear(client: aiomqtt.Client, outbox: Outbox, device: str | None,
                *also: str) -> list[str]:
    """Empty retained payloads on the config topics remembered for ``device`` (None: every
    one) and on ``also``; the store forgets them. Returns the config topics."""
    topics = outbox.discovery_topics(device)
    for topic in [*topics, *also]:
        await client.publish(topic, b"", qos=1, retain=True)
    outbox.forget_discovery(topics)
    return topics


def _retained_0x(legacy: Topics0x, device: str) -> list[str]:
    """What 0.x kept retained for what the store remembers configs of: a roller's
    availability and state, a person's state (``person:<uid>``); the bridge's stay."""
    if device == BRIDGE:
        return []
    if device.startswith("person:"):
        return legacy.person(device.removeprefix("person:"))
    return legacy.roller(device)


async def take_back_0x(client: aiomqtt.Client, outbox: Outbox, topics: BridgeTopics,
                       moving: bool) -> int:
    """What roller 0.x published where no gateway id says whose it is, taken back: every
    config topic remembered outside this bridge's own (with the bridge's own 0.x configs,
    which 0.x did not remember), and its rollers' and people's retained states. Each gets an
    empty retained payload, so Home Assistant lets the entity go and the broker keeps
    nothing; ``moving`` (new configs follow) says :data:`MIGRATE` first, so Home Assistant
    keeps each entity for its new config. The states are cleared :data:`SETTLE_S` after the
    configs, once Home Assistant no longer listens to them (an empty state is no state to
    it: one warning each). Once: the store forgets them. Returns how many remembered
    configs there were (0: nothing of 0.x here, and no wait)."""
    old = [(topic, device) for topic, device in outbox.remembered_discovery()
           if not topics.is_own_config(topic)]
    if not old:
        return 0
    legacy = Topics0x(topics)
    configs = [topic for topic, _ in old] + legacy.bridge_configs()
    retained = [t for device in dict.fromkeys(d for _, d in old)
                for t in _retained_0x(legacy, device)]
    # Forgotten first: a broker whose ACL is already the one that holds each gateway to its
    # own refuses these (and Mosquitto 2.0.11 with max_queued_messages 0 drops the
    # connection for it), and that must cost one connection, not every one (docs/mqtt.md
    # says how to clear them then).
    outbox.forget_discovery([topic for topic, _ in old])
    log.info("taking back %d discovery configs of roller 0.x's topics", len(old))
    for topic in configs if moving else ():
        await client.publish(topic, MIGRATE, qos=1, retain=False)
    for topic in configs:
        await client.publish(topic, b"", qos=1, retain=True)
    await asyncio.sleep(SETTLE_S)
    for topic in retained:
        await client.publish(topic, b"", qos=1, retain=True)
    return len(old)


class Discovery:
    """Tells Home Assistant of the bridge, its rollers and the people, and remembers what it
    told it on this connection (a roller's, on its :class:`Channel`)."""

    def __init__(self, settings: MqttSettings, topics: BridgeTopics, outbox: Outbox,
                 unnamed: str | None = None) -> None:
        self.settings, self.topics, self.outbox = settings, topics, outbox
        #: What the default person is called until they choose a name.
        self.unnamed = unnamed if unnamed is not None else readable_default()
        self._people: dict[str, str] = {}  # uid -> name, announced on this connection
        self._discovering = asyncio.Lock()  # one roller's announcement at a time

    async def bridge(self, client: aiomqtt.Client) -> None:
        """The bridge's own device: its connection, version, rollers and waiting events;
        remembered, so ``roller mqtt purge`` takes it back too."""
        if self.settings.discovery:
            configs = bridge_configs(self.topics, self.settings.entity_ids)
            for topic, config in configs:
                await client.publish(topic, encode(config), qos=1, retain=True)
            self.outbox.remember_discovery(BRIDGE, [t for t, _ in configs])

    async def move_from_0x(self, client: aiomqtt.Client) -> int:
        """Roller 0.x's topics taken back (:func:`take_back_0x`) before anything is
        announced: Home Assistant keeps each entity, and has let it go by the time its new
        config comes. Returns the configs moved (0: none)."""
        try:
            moved = await take_back_0x(client, self.outbox, self.topics,
                                       self.settings.discovery)
        except aiomqtt.MqttError:  # its code (4: not connected) would say the credentials
            raise aiomqtt.MqttError(
                "the connection was lost as roller 0.x's topics were taken back: a broker "
                "whose ACL holds each gateway to its own forbids them, and they stay there "
                "(docs/mqtt.md, Moving from 0.x topics)") from None
        return moved

    @staticmethod
    def reset_rollers(channels: Iterable[Channel]) -> None:
        """Nothing of these rollers was told on this connection (a new one; Home Assistant
        restarted)."""
        for channel in channels:
            channel.discovered = None
            channel.discovered_label = None

    def reset_people(self) -> None:
        """Nobody was told of on this connection."""
        self._people = {}

    async def roller(self, client: aiomqtt.Client, channel: Channel) -> None:
        """Discovery for who the device is now, once per connection (the announcement and
        a device that just said who it is may both ask at once). Its state and events wait
        :data:`SETTLE_S` after it only when it has a config topic this store has not
        published before (or cleared since): an entity new to Home Assistant. Every other
        connection announces the same entities again, retained, which Home Assistant has
        and listens to already, so a session starting then (a lumbar alert in its first
        second) waits for nothing."""
        async with self._discovering:
            if self.settings.discovery and channel.identity and \
                    (channel.identity, channel.label) != \
                    (channel.discovered, channel.discovered_label):
                channel.discovered, channel.discovered_label = channel.identity, channel.label
                known = set(self.outbox.discovery_topics(channel.address))
                channel.announcing = True  # nothing of it goes out between its configs
                try:
                    topics = await self.publish(client, channel.address, channel.identity,
                                                channel.label)
                finally:
                    channel.announcing = False
                if not known.issuperset(topics):
                    channel.ready_at = asyncio.get_running_loop().time() + SETTLE_S

    async def publish(self, client: aiomqtt.Client, address: str, identity: Identity,
                      label: str | None = None) -> list[str]:
        """A roller's configs, as ``identity`` named ``label`` by its owner (None: not
        named), remembered in the store; their topics."""
        topics = []
        for topic, config in discovery_configs(self.topics.roller(address), identity, label,
                                               self.settings.entity_ids):
            await client.publish(topic, encode(config), qos=1, retain=True)
            topics.append(topic)
        self.outbox.remember_discovery(address, topics)
        return topics

    def settling(self, channel: Channel | None) -> float:
        """Seconds until Home Assistant listens to a roller's topics (0: now)."""
        if channel is None or not self.settings.discovery:
            return 0.0
        if channel.discovered is None:
            return SETTLE_S  # not announced yet: it will be once it says who it is
        if channel.announcing:
            return ANNOUNCING_POLL_S
        return max(0.0, channel.ready_at - asyncio.get_running_loop().time())

    async def people(self, client: aiomqtt.Client, people: Sequence[Person]) -> int:
        """Each person as a Home Assistant device (new people, renamed ones; those removed
        cleared). Returns the configs published."""
        published = 0
        if self.settings.discovery:
            for person in people:
                if self._people.get(person.uid) == person.name:
                    continue
                configs = person_configs(self.topics.person(person.uid),
                                         shown_name(person.name, self.unnamed),
                                         self.settings.entity_ids)
                for topic, config in configs:
                    await client.publish(topic, encode(config), qos=1, retain=True)
                # ``roller mqtt purge`` clears them, as it clears each roller's
                self.outbox.remember_discovery(f"person:{person.uid}",
                                               [t for t, _ in configs])
                self._people[person.uid] = person.name
                published += len(configs)
            for uid in set(self._people) - {p.uid for p in people}:
                await self._forget_person(client, uid)
        return published

    async def _forget_person(self, client: aiomqtt.Client, uid: str) -> None:
        """Someone removed: their entities and state go from Home Assistant."""
        await clear(client, self.outbox, f"person:{uid}", self.topics.person(uid).state)
        del self._people[uid]

    def people_changed(self, people: Sequence[Person]) -> bool:
        """Whether someone was added, renamed or removed since the people were announced."""
        return {p.uid: p.name for p in people} != self._people
