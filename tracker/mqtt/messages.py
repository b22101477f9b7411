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
from tracker.body import REGIONS
from tracker.events import EVENT_TYPES
from tracker.status import Identity

STATUSES: Final = ("on_track", "behind", "done", "over")
STATE_KEYS: Final = (
    "session_active", "routine", "region", "lumbar_contact", "last_session_duration_s",
    "last_session_active_s", "last_session_strokes", "last_session_cadence_cpm",
    "last_session_ended_at", "glute_sessions_this_week", "schedule_status", "next_glute_day",
    "battery_pct",
)


def device_id(address: str) -> str:
    """Stable, lower-case and topic-safe: the roller's address without separators."""
    return re.sub(r"[^a-z0-9]", "", address.lower()) or "roller"


@dataclass(frozen=True)
class Topics:
    base: str
    discovery_prefix: str
    device: str  # device_id

    @property
    def bridge_state(self) -> str:
        return f"{self.base}/bridge/state"

    @property
    def bridge_info(self) -> str:
        return f"{self.base}/bridge/info"

    @property
    def availability(self) -> str:
        return f"{self.base}/{self.device}/availability"

    @property
    def state(self) -> str:
        return f"{self.base}/{self.device}/state"

    @property
    def event(self) -> str:
        return f"{self.base}/{self.device}/event"

    @property
    def live(self) -> str:
        return f"{self.base}/{self.device}/live"

    @property
    def ha_status(self) -> str:
        return f"{self.discovery_prefix}/status"

    def discovery(self, component: str, object_id: str) -> str:
        return f"{self.discovery_prefix}/{component}/roller_{self.device}/{object_id}/config"


def state_payload(**values: Any) -> dict[str, Any]:
    """The flat state: every key always present, null when unknown."""
    unknown = set(values) - set(STATE_KEYS)
    if unknown:
        raise ValueError(f"not state keys: {sorted(unknown)}")
    return {key: values.get(key) for key in STATE_KEYS}


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Entity:
    component: str
    object_id: str
    name: str
    config: dict[str, Any]
    live: bool  # gated on the bridge's availability


def _entities(topics: Topics) -> list[Entity]:
    state = topics.state

    def value(key: str) -> str:
        return f"{{{{ value_json.{key} }}}}"

    def on_off(key: str) -> str:
        return f"{{{{ 'ON' if value_json.{key} else 'OFF' }}}}"

    return [
        Entity("binary_sensor", "lumbar_contact", "Lumbar contact", {
            "state_topic": state, "value_template": on_off("lumbar_contact"),
            "device_class": "problem", "icon": "mdi:human-handsdown"}, live=True),
        Entity("binary_sensor", "session_active", "Session active", {
            "state_topic": state, "value_template": on_off("session_active"),
            "device_class": "running"}, live=True),
        Entity("binary_sensor", "link", "Roller link", {
            "state_topic": topics.availability, "payload_on": "online",
            "payload_off": "offline", "device_class": "connectivity",
            "entity_category": "diagnostic"}, live=False),
        Entity("sensor", "region", "Region", {
            "state_topic": state, "value_template": value("region"),
            "device_class": "enum", "options": list(REGIONS)}, live=True),
        Entity("sensor", "last_session_duration", "Last session duration", {
            "state_topic": state, "value_template": value("last_session_duration_s"),
            "device_class": "duration", "unit_of_measurement": "s"}, live=False),
        Entity("sensor", "last_session_cadence", "Last session cadence", {
            "state_topic": state, "value_template": value("last_session_cadence_cpm"),
            "unit_of_measurement": "cpm", "icon": "mdi:sine-wave"}, live=False),
        Entity("sensor", "glute_sessions_week", "Glute sessions this week", {
            "state_topic": state, "value_template": value("glute_sessions_this_week"),
            "state_class": "measurement", "icon": "mdi:calendar-week"}, live=False),
        Entity("sensor", "schedule_status", "Schedule status", {
            "state_topic": state, "value_template": value("schedule_status"),
            "device_class": "enum", "options": list(STATUSES)}, live=False),
        Entity("sensor", "next_glute_day", "Next glute day", {
            "state_topic": state, "value_template": value("next_glute_day"),
            "device_class": "date", "icon": "mdi:calendar-arrow-right"}, live=False),
        Entity("sensor", "battery", "Battery", {
            "state_topic": state, "value_template": value("battery_pct"),
            "device_class": "battery", "unit_of_measurement": "%",
            "entity_category": "diagnostic"}, live=False),
        Entity("event", "session_event", "Session event", {
            "state_topic": topics.event, "event_types": list(EVENT_TYPES)}, live=True),
    ]


def device_block(topics: Topics, identity: Identity) -> dict[str, Any]:
    """Home Assistant's device: the sensor's own name, maker, model and firmware, and its
    Bluetooth MAC (so the device registry joins it with what Bluetooth integrations see)."""
    device: dict[str, Any] = {
        "identifiers": [f"roller_{topics.device}"], "name": identity.name,
        "manufacturer": identity.manufacturer, "model": identity.model,
    }
    if identity.firmware:
        device["sw_version"] = identity.firmware
    if identity.mac:
        device["connections"] = [["bluetooth", identity.mac]]
    return device


def discovery_configs(topics: Topics, identity: Identity) -> list[tuple[str, dict[str, Any]]]:
    """One retained config per entity, with the full device block and origin."""
    device = device_block(topics, identity)
    origin = {"name": "roller", "sw_version": __version__,
              "support_url": "https://github.com/roller-project/roller"}
    configs = []
    for entity in _entities(topics):
        config = {
            "name": entity.name,
            "unique_id": f"roller_{topics.device}_{entity.object_id}",
            "default_entity_id": f"{entity.component}.roller_{topics.device}_{entity.object_id}",
            "device": device, "origin": origin, "qos": 1, **entity.config,
        }
        if entity.live:
            config["availability_topic"] = topics.bridge_state
            config["payload_available"] = "online"
            config["payload_not_available"] = "offline"
        configs.append((topics.discovery(entity.component, entity.object_id), config))
    return configs
