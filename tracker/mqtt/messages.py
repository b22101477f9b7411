"""MQTT topics, payloads and Home Assistant discovery: pure functions, documented in docs/mqtt.md.

Everything a consumer sees is built here, so tests can check it against Home Assistant's
documented keys without a broker.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Final

from tracker import __version__
from tracker.core.body import REGIONS, ROUTINES
from tracker.core.errors import InputError
from tracker.core.events import EVENT_TYPES
from tracker.core.limits import quote
from tracker.core.status import Identity

STATUSES: Final = ("on_track", "behind", "done", "over")
STATE_KEYS: Final = (
    "session_active", "connected", "routine", "region", "lumbar_contact", "lumbar_caution",
    "last_session_duration_s", "last_session_active_s", "last_session_strokes",
    "last_session_cadence_cpm", "last_session_ended_at", "glute_sessions_this_week",
    "schedule_status", "next_glute_day", "battery_pct", "next_routine", "override_next",
)
#: A person's own state (``<base>/person/<uid>/state``): their week, whatever roller they use.
PERSON_KEYS: Final = (
    "name", "glute_sessions_this_week", "glute_sessions_per_week", "schedule_status",
    "next_glute_day", "sessions_this_week", "rolling_s_this_week",
    "lumbar_contacts_this_week", "last_session_ended_at",
)
#: Commands a roller takes on ``<base>/<device>/set/<what>``, and the payloads each accepts.
COMMANDS: Final = {"routine": ROUTINES, "override": ("ON", "OFF"), "end": ("END",),
                   "area": ROUTINES}
#: A command payload longer than this is refused unread (the longest valid one is 10 bytes).
MAX_COMMAND_BYTES: Final = 64


def device_id(address: str) -> str:
    """Stable, lower-case and topic-safe: the roller's address without separators."""
    return re.sub(r"[^a-z0-9]", "", address.lower()) or "roller"


@dataclass(frozen=True)
class BridgeTopics:
    """The bridge's own topics: one bridge per store (``[mqtt] bridge_id``)."""

    base: str
    discovery_prefix: str
    bridge: str  # the bridge id

    @property
    def state(self) -> str:
        return f"{self.base}/bridge/{self.bridge}/state"

    @property
    def info(self) -> str:
        return f"{self.base}/bridge/{self.bridge}/info"

    @property
    def sessions(self) -> str:
        """Each finished session, whole (``roller-session/1``), for a central store."""
        return f"{self.base}/bridge/{self.bridge}/session"

    @property
    def every_gateways_sessions(self) -> str:
        """What ``roller ingest`` subscribes to: every gateway's sessions."""
        return f"{self.base}/bridge/+/session"

    @property
    def commands(self) -> str:
        """Every roller's commands (a subscription filter)."""
        return f"{self.base}/+/set/+"

    @property
    def ha_status(self) -> str:
        return f"{self.discovery_prefix}/status"

    @property
    def device(self) -> str:
        """The bridge's device in Home Assistant, which each roller's names as its way in."""
        return f"roller_bridge_{self.bridge}"

    def discovery(self, component: str, object_id: str) -> str:
        return f"{self.discovery_prefix}/{component}/{self.device}/{object_id}/config"

    def roller(self, address: str) -> Topics:
        return Topics(self, device_id(address))

    def person(self, uid: str) -> PersonTopics:
        return PersonTopics(self, uid)


@dataclass(frozen=True)
class PersonTopics:
    """One person's topics: by their ``uid``, so a rename keeps their entities."""

    bridge: BridgeTopics
    uid: str

    @property
    def state(self) -> str:
        return f"{self.bridge.base}/person/{self.uid}/state"

    @property
    def device(self) -> str:
        return f"roller_person_{self.uid}"

    def discovery(self, component: str, object_id: str) -> str:
        return f"{self.bridge.discovery_prefix}/{component}/{self.device}/{object_id}/config"


@dataclass(frozen=True)
class Topics:
    """One roller's topics, under its bridge."""

    bridge: BridgeTopics
    device: str  # device_id

    def _own(self, leaf: str) -> str:
        return f"{self.bridge.base}/{self.device}/{leaf}"

    @property
    def availability(self) -> str:
        return self._own("availability")

    @property
    def state(self) -> str:
        return self._own("state")

    @property
    def event(self) -> str:
        return self._own("event")

    @property
    def live(self) -> str:
        return self._own("live")

    def command(self, what: str) -> str:
        return self._own(f"set/{what}")

    def discovery(self, component: str, object_id: str) -> str:
        return (f"{self.bridge.discovery_prefix}/{component}/roller_{self.device}/{object_id}"
                "/config")


class CommandError(InputError):
    """A command that cannot be taken: said in one line, for one warning."""


@dataclass(frozen=True)
class Command:
    device: str  # device_id
    what: str  # routine, override, end
    value: str


def parse_command(base: str, topic: str, payload: bytes) -> Command:
    """A command from ``<base>/<device>/set/<what>``; :class:`CommandError` for anything
    else (unknown command or value, not text, too long). Pure, and never raises otherwise."""
    parts = topic.split("/")
    if len(parts) != len(base.split("/")) + 3 or not topic.startswith(base + "/") \
            or parts[-2] != "set" or parts[-1] not in COMMANDS:
        raise CommandError(f"{quote(topic)} is not a command topic (known: "
                           f"{', '.join(COMMANDS)})")
    what = parts[-1]
    if len(payload) > MAX_COMMAND_BYTES:
        raise CommandError(f"{topic}: a payload of {len(payload)} bytes is not a command")
    try:
        value = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise CommandError(f"{topic}: the payload is not text") from None
    if value not in COMMANDS[what]:
        raise CommandError(f"{topic}: {quote(value)} is not one of "
                           f"{', '.join(COMMANDS[what])}")
    return Command(parts[-3], what, value)


def state_payload(**values: Any) -> dict[str, Any]:
    """The flat state: every key always present, null when unknown."""
    unknown = set(values) - set(STATE_KEYS)
    if unknown:
        raise ValueError(f"not state keys: {sorted(unknown)}")
    return {key: values.get(key) for key in STATE_KEYS}


def person_payload(**values: Any) -> dict[str, Any]:
    """A person's state: every key always present, null when unknown."""
    unknown = set(values) - set(PERSON_KEYS)
    if unknown:
        raise ValueError(f"not person keys: {sorted(unknown)}")
    return {key: values.get(key) for key in PERSON_KEYS}


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Entity:
    component: str
    object_id: str
    name: str
    config: dict[str, Any]


def _value(key: str) -> str:
    return f"{{{{ value_json.{key} }}}}"


def _on_off(key: str) -> str:
    return f"{{{{ 'ON' if value_json.{key} else 'OFF' }}}}"


def _schedule_entities(state: str) -> list[Entity]:
    """The glute schedule's sensors: a roller's (its person's) and each person's own."""
    return [
        Entity("sensor", "glute_sessions_week", "Glute sessions this week", {
            "state_topic": state, "value_template": _value("glute_sessions_this_week"),
            "state_class": "measurement", "icon": "mdi:calendar-week"}),
        Entity("sensor", "schedule_status", "Schedule status", {
            "state_topic": state, "value_template": _value("schedule_status"),
            "device_class": "enum", "options": list(STATUSES)}),
        Entity("sensor", "next_glute_day", "Next glute day", {
            "state_topic": state, "value_template": _value("next_glute_day"),
            "device_class": "date", "icon": "mdi:calendar-arrow-right"}),
    ]


def _entities(topics: Topics) -> list[Entity]:
    state = topics.state
    return [
        Entity("binary_sensor", "lumbar_contact", "Lumbar contact", {
            "state_topic": state, "value_template": _on_off("lumbar_contact"),
            "device_class": "problem", "icon": "mdi:human-handsdown"}),
        Entity("binary_sensor", "lumbar_caution", "Nearing the lower back", {
            "state_topic": state, "value_template": _on_off("lumbar_caution"),
            "device_class": "safety", "icon": "mdi:alert-outline"}),
        Entity("binary_sensor", "session_active", "Session active", {
            "state_topic": state, "value_template": _on_off("session_active"),
            "device_class": "running"}),
        Entity("binary_sensor", "link", "Roller link", {
            "state_topic": state, "value_template": _on_off("connected"),
            "device_class": "connectivity", "entity_category": "diagnostic"}),
        Entity("sensor", "region", "Region", {
            "state_topic": state, "value_template": _value("region"),
            "device_class": "enum", "options": list(REGIONS)}),
        Entity("sensor", "last_session_duration", "Last session duration", {
            "state_topic": state, "value_template": _value("last_session_duration_s"),
            "device_class": "duration", "unit_of_measurement": "s"}),
        Entity("sensor", "last_session_cadence", "Last session cadence", {
            "state_topic": state, "value_template": _value("last_session_cadence_cpm"),
            "unit_of_measurement": "cpm", "icon": "mdi:sine-wave"}),
        *_schedule_entities(state),
        Entity("sensor", "battery", "Battery", {
            "state_topic": state, "value_template": _value("battery_pct"),
            "device_class": "battery", "unit_of_measurement": "%",
            "entity_category": "diagnostic"}),
        Entity("event", "session_event", "Session event", {
            "state_topic": topics.event, "event_types": list(EVENT_TYPES)}),
        Entity("select", "next_routine", "Next session's routine", {
            "command_topic": topics.command("routine"), "state_topic": state,
            "value_template": _value("next_routine"), "options": list(ROUTINES),
            "icon": "mdi:format-list-checks"}),
        Entity("switch", "glute_override", "Override the glute schedule once", {
            "command_topic": topics.command("override"), "state_topic": state,
            "value_template": _on_off("override_next"), "payload_on": "ON",
            "payload_off": "OFF", "icon": "mdi:calendar-alert"}),
        Entity("select", "switch_area", "Roll this area now", {
            "command_topic": topics.command("area"), "state_topic": state,
            "value_template": _value("routine"), "options": list(ROUTINES),
            "icon": "mdi:swap-vertical"}),
        Entity("button", "end_session", "End the session", {
            "command_topic": topics.command("end"), "payload_press": "END",
            "icon": "mdi:stop-circle-outline"}),
    ]


def _person_entities(topics: PersonTopics) -> list[Entity]:
    state = topics.state
    return [
        *_schedule_entities(state),
        Entity("sensor", "lumbar_contacts_week", "Lumbar contacts this week", {
            "state_topic": state, "value_template": _value("lumbar_contacts_this_week"),
            "state_class": "measurement", "icon": "mdi:human-handsdown"}),
        Entity("sensor", "rolling_time_week", "Rolling this week", {
            "state_topic": state, "value_template": _value("rolling_s_this_week"),
            "device_class": "duration", "unit_of_measurement": "s",
            "state_class": "measurement"}),
    ]


def person_configs(topics: PersonTopics, name: str) -> list[tuple[str, dict[str, Any]]]:
    """A person as a Home Assistant device of their own, reached through the bridge: their
    week, whichever roller they use. Unique ids come from the uid, so a rename keeps them."""
    device = {"identifiers": [topics.device], "name": f"{name} (roller)",
              "manufacturer": "roller project", "model": "person",
              "via_device": topics.bridge.device}
    return [(topics.discovery(e.component, e.object_id),
             _config(e, topics.device, device) | {"availability_topic": topics.bridge.state})
            for e in _person_entities(topics)]


def _bridge_entities(topics: BridgeTopics) -> list[Entity]:
    info = topics.info
    return [
        Entity("binary_sensor", "connection_state", "Connection state", {
            "state_topic": topics.state, "payload_on": "online", "payload_off": "offline",
            "device_class": "connectivity", "entity_category": "diagnostic"}),
        Entity("sensor", "version", "Version", {
            "state_topic": info, "value_template": _value("version"),
            "icon": "mdi:information-outline", "entity_category": "diagnostic"}),
        Entity("sensor", "rollers_known", "Rollers known", {
            "state_topic": info, "value_template": _value("rollers_known"),
            "state_class": "measurement", "icon": "mdi:counter"}),
        Entity("sensor", "rollers_connected", "Rollers connected", {
            "state_topic": info, "value_template": _value("rollers_connected"),
            "state_class": "measurement", "icon": "mdi:bluetooth-connect"}),
        Entity("sensor", "outbox_pending", "Events waiting", {
            "state_topic": info, "value_template": _value("outbox_pending"),
            "state_class": "measurement", "icon": "mdi:tray-full",
            "entity_category": "diagnostic"}),
    ]


ORIGIN: Final = {"name": "roller", "sw_version": __version__,
                 "support_url": "https://github.com/roller-project/roller"}


def device_block(topics: Topics, identity: Identity) -> dict[str, Any]:
    """Home Assistant's device: the sensor's own name, maker, model and firmware, and its
    Bluetooth MAC (so the device registry joins it with what Bluetooth integrations see),
    reached through the bridge's device."""
    device: dict[str, Any] = {
        "identifiers": [f"roller_{topics.device}"], "name": identity.name,
        "manufacturer": identity.manufacturer, "model": identity.model,
        "via_device": topics.bridge.device,
    }
    if identity.firmware:
        device["sw_version"] = identity.firmware
    if identity.mac:
        device["connections"] = [["bluetooth", identity.mac]]
    return device


def discovery_configs(topics: Topics, identity: Identity) -> list[tuple[str, dict[str, Any]]]:
    """One retained config per entity, with the full device block and origin. Every entity
    is available only while both the bridge and the roller's watcher say ``online``
    (Zigbee2MQTT's way), so a crashed gateway never leaves a roller shown connected."""
    availability = {"availability": [{"topic": topics.bridge.state},
                                     {"topic": topics.availability}],
                    "availability_mode": "all"}
    device = device_block(topics, identity)
    return [(topics.discovery(e.component, e.object_id),
             _config(e, f"roller_{topics.device}", device) | availability)
            for e in _entities(topics)]


def bridge_configs(topics: BridgeTopics, host: str) -> list[tuple[str, dict[str, Any]]]:
    """The bridge's own device: its connection, version, rollers and waiting events."""
    device = {"identifiers": [topics.device], "name": f"Roller gateway {topics.bridge}",
              "manufacturer": "roller project", "model": f"roller gateway on {host}",
              "sw_version": __version__}
    configs = []
    for entity in _bridge_entities(topics):
        config = _config(entity, topics.device, device)
        if entity.object_id != "connection_state":  # which says so itself
            config["availability_topic"] = topics.state
        configs.append((topics.discovery(entity.component, entity.object_id), config))
    return configs


def _config(entity: Entity, prefix: str, device: dict[str, Any]) -> dict[str, Any]:
    return {"name": entity.name, "unique_id": f"{prefix}_{entity.object_id}",
            "default_entity_id": f"{entity.component}.{prefix}_{entity.object_id}",
            "device": device, "origin": ORIGIN, "qos": 1, **entity.config}
