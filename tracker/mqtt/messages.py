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
from tracker.core.comfort import SCALE
from tracker.core.errors import InputError
from tracker.core.events import PERSON_EVENT_TYPES, ROLLER_EVENT_TYPES
from tracker.core.limits import quote
from tracker.core.people import FIRST_PERSON, name_key
from tracker.core.status import Identity

STATUSES: Final = ("on_track", "behind", "done", "over")
STATE_KEYS: Final = (
    "session_active", "connected", "routine", "region", "lumbar_contact", "lumbar_caution",
    "last_session_duration_s", "last_session_active_s", "last_session_strokes",
    "last_session_cadence_cpm", "last_session_ended_at", "glute_sessions_this_week",
    "schedule_status", "next_glute_day", "battery_pct", "next_routine", "override_next",
    "last_reset", "name", "rssi_dbm", "last_seen", "comfort",
)
#: A person's own state (``<base>/bridge/<bridge>/person/<uid>/state``): their week, whatever
#: roller they use.
PERSON_KEYS: Final = (
    "name", "glute_sessions_this_week", "glute_sessions_per_week", "schedule_status",
    "next_glute_day", "sessions_this_week", "rolling_s_this_week",
    "lumbar_contacts_this_week", "last_session_ended_at", "last_reset",
    "days_rolled_last_30", "days_since_rolled", "prescribed_sessions_this_week",
    "prescribed_sessions_done_this_week", "kept_off_contacts_this_week", "last_comfort",
    "last_comfort_area",
)
#: Commands a roller takes on ``<base>/bridge/<bridge>/<device>/set/<what>``, and the payloads
#: each accepts.
#: ``name`` takes any name :func:`check_roller_name` allows (None here: free text).
COMMANDS: Final[dict[str, tuple[str, ...] | None]] = {
    "routine": ROUTINES, "override": ("ON", "OFF"), "end": ("END",), "area": ROUTINES,
    "name": None, "comfort": tuple(str(n) for n in range(SCALE[0], SCALE[1] + 1))}
#: The bridge's own commands, on ``<base>/bridge/<bridge>/set/<what>``.
BRIDGE_COMMANDS: Final = {"permit_join": ("START", "STOP")}
#: A command payload longer than this is refused unread (the longest valid one, a roller's
#: name, is at most 32 characters: 128 bytes of UTF-8 at most, most far fewer).
MAX_COMMAND_BYTES: Final = 128
#: A roller's name: what its owner calls it, shown as its device in Home Assistant.
MAX_NAME_CHARS: Final = 32
#: How ``[mqtt] entity_ids`` may name the entities: ``roller`` sends ``default_entity_id``
#: (``sensor.roller_c0ffee000001_region``), ``home_assistant`` leaves it to Home
#: Assistant's own entity-ID format, which its users may choose (2026.8).
ENTITY_IDS: Final = ("roller", "home_assistant")


def words(value: str) -> str:
    """A machine value as a person reads it: ``upper_back`` -> ``Upper back``."""
    return value.replace("_", " ").capitalize()


def check_roller_name(name: str) -> str:
    """A roller's name, as its owner gives it: 1-32 printable characters, stripped. It
    reaches topics only as a payload, so any script is fine."""
    name = name.strip()
    if not 1 <= len(name) <= MAX_NAME_CHARS or not name.isprintable():
        raise CommandError(f"{quote(name)} is not a roller's name: 1-{MAX_NAME_CHARS} "
                           "printable characters")
    return name


def roller_name(identity: Identity, label: str | None = None) -> str:
    """What Home Assistant calls a roller: the name its owner gave it, else its advertised
    name and the end of its address (``roller-sim 01:01``), so two alike are told apart."""
    if label:
        return label
    address = identity.address.upper()
    tail = address[-5:] if identity.mac else address.replace("-", "")[-4:]
    name = identity.name or "Roller"
    if re.sub(r"[^0-9A-F]", "", name.upper()).endswith(re.sub(r"[^0-9A-F]", "", tail)):
        return name  # it says the end of its address already (``BWT901BLECL 708D``)
    return f"{name} {tail}"


def device_id(address: str) -> str:
    """Stable, lower-case and topic-safe: the roller's address without separators."""
    return re.sub(r"[^a-z0-9]", "", address.lower()) or "roller"


@dataclass(frozen=True)
class BridgeTopics:
    """The bridge's topics: one bridge per store (``[mqtt] bridge_id``). Everything a
    gateway publishes lives under its own ``<base>/bridge/<bridge>/`` and its own node in
    Home Assistant's discovery, ``<prefix>/<component>/<bridge>/``: the bridge id is the
    gateway's user name at the broker, so the broker's ACL can hold each gateway to its own
    topics with one ``%u`` pattern for all (``config/mosquitto/roller.acl``)."""

    base: str
    discovery_prefix: str
    bridge: str  # the bridge id

    @property
    def own(self) -> str:
        """Where every topic of this bridge, its rollers and its people lives."""
        return f"{self.base}/bridge/{self.bridge}"

    @property
    def state(self) -> str:
        return f"{self.own}/state"

    @property
    def info(self) -> str:
        return f"{self.own}/info"

    @property
    def sessions(self) -> str:
        """Each finished session, whole (``roller-session/1``), for a central store."""
        return f"{self.own}/session"

    @property
    def every_gateways_sessions(self) -> str:
        """What ``roller ingest`` subscribes to: every gateway's sessions."""
        return f"{self.base}/bridge/+/session"

    def session_origin(self, topic: str) -> str | None:
        """The gateway whose sessions' topic this is (``<base>/bridge/<id>/session``), or
        None: the topic is the identity (docs/mqtt.md, "Trust")."""
        prefix = f"{self.base}/bridge/"
        gateway = topic.removeprefix(prefix).removesuffix("/session")
        if not topic.startswith(prefix) or not topic.endswith("/session") \
                or "/" in gateway or not gateway:
            return None
        return gateway

    @property
    def commands(self) -> str:
        """Every roller's commands (a subscription filter): this bridge's rollers only."""
        return f"{self.own}/+/set/+"

    @property
    def events(self) -> str:
        """Every roller's events (a subscription filter, as a consumer has it)."""
        return f"{self.own}/+/event"

    def command(self, what: str) -> str:
        """One of the bridge's own commands (:data:`BRIDGE_COMMANDS`)."""
        return f"{self.own}/set/{what}"

    @property
    def ha_status(self) -> str:
        return f"{self.discovery_prefix}/status"

    @property
    def device(self) -> str:
        """The bridge's device in Home Assistant, which each roller's names as its way in."""
        return f"roller_bridge_{self.bridge}"

    def config(self, component: str, unique_id: str) -> str:
        """An entity's discovery config: the bridge id its node id (which only this
        gateway may write), the entity's unique id its object id. Home Assistant reads
        ``<component>/[<node_id>/]<object_id>/config``; both ids are ``[a-z0-9_-]``."""
        return f"{self.discovery_prefix}/{component}/{self.bridge}/{unique_id}/config"

    def is_own_config(self, topic: str) -> bool:
        """Whether ``topic`` is a discovery config this bridge publishes now (not one of
        roller 0.x's, nor another bridge's)."""
        levels = topic.removeprefix(f"{self.discovery_prefix}/").split("/")
        return topic.startswith(f"{self.discovery_prefix}/") and len(levels) == 4 \
            and levels[1] == self.bridge and levels[3] == "config"

    def discovery(self, component: str, object_id: str) -> str:
        return self.config(component, f"{self.device}_{object_id}")

    def roller(self, address: str) -> Topics:
        return Topics(self, device_id(address))

    def person(self, uid: str) -> PersonTopics:
        return PersonTopics(self, uid)


@dataclass(frozen=True)
class PersonTopics:
    """One person's topics, under the bridge: by their ``uid``, so a rename keeps their
    entities."""

    bridge: BridgeTopics
    uid: str

    @property
    def state(self) -> str:
        return f"{self.bridge.own}/person/{self.uid}/state"

    @property
    def event(self) -> str:
        """The person's own alerts (``not_rolling_alert``): no roller raised them."""
        return f"{self.bridge.own}/person/{self.uid}/event"

    @property
    def device(self) -> str:
        return f"roller_person_{self.uid}"

    def discovery(self, component: str, object_id: str) -> str:
        return self.bridge.config(component, f"{self.device}_{object_id}")


@dataclass(frozen=True)
class Topics:
    """One roller's topics, under its bridge. A device id is 12 hex digits (a MAC) or 32
    (a UUID), never one of the bridge's own leaves (``state``, ``info``, ``session``,
    ``set``, ``person``), so the two never meet."""

    bridge: BridgeTopics
    device: str  # device_id

    @property
    def identifier(self) -> str:
        """The roller's device in Home Assistant; its entities' unique ids start with it."""
        return f"roller_{self.device}"

    def _own(self, leaf: str) -> str:
        return f"{self.bridge.own}/{self.device}/{leaf}"

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
        return self.bridge.config(component, f"{self.identifier}_{object_id}")


@dataclass(frozen=True)
class Topics0x:
    """What roller 0.x published outside its bridge, its rollers' and people's topics
    carrying no gateway id, and each entity's discovery under a node of its own device.
    Known only to take it back once (docs/mqtt.md, "Moving from 0.x topics")."""

    bridge: BridgeTopics

    def roller(self, address: str) -> list[str]:
        """A roller's retained availability and state."""
        device = device_id(address)
        return [f"{self.bridge.base}/{device}/availability", f"{self.bridge.base}/{device}/state"]

    def person(self, uid: str) -> list[str]:
        """A person's retained state."""
        return [f"{self.bridge.base}/person/{uid}/state"]

    def bridge_configs(self) -> list[str]:
        """The bridge's own device's configs, which 0.x did not remember in the store."""
        return [f"{self.bridge.discovery_prefix}/{e.component}/{self.bridge.device}/"
                f"{e.object_id}/config" for e in _bridge_entities(self.bridge)]


class CommandError(InputError):
    """A command that cannot be taken: said in one line, for one warning."""


def _text(topic: str, payload: bytes) -> str:
    if len(payload) > MAX_COMMAND_BYTES:
        raise CommandError(f"{topic}: a payload of {len(payload)} bytes is not a command")
    try:
        return payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise CommandError(f"{topic}: the payload is not text") from None


@dataclass(frozen=True)
class Command:
    device: str  # device_id
    what: str  # routine, override, end
    value: str


def parse_command(topics: BridgeTopics, topic: str, payload: bytes) -> Command:
    """A command for one of this bridge's rollers, from ``<base>/bridge/<bridge>/<device>/
    set/<what>`` (three levels under the bridge, where its own commands have two:
    ``set/<what>``); :class:`CommandError` for anything else (another bridge's, an unknown
    command or value, not text, too long). Pure, and never raises otherwise."""
    under = f"{topics.own}/"
    parts = topic.removeprefix(under).split("/")
    if not topic.startswith(under) or len(parts) != 3 or not parts[0] \
            or parts[1] != "set" or parts[2] not in COMMANDS:
        raise CommandError(f"{quote(topic)} is not a command topic (known: "
                           f"{', '.join(COMMANDS)})")
    what = parts[2]
    value = _text(topic, payload)
    allowed = COMMANDS[what]
    if allowed is None:
        try:
            value = check_roller_name(value)
        except CommandError as exc:
            raise CommandError(f"{topic}: {exc}") from None
    elif value not in allowed:
        raise CommandError(f"{topic}: {quote(value)} is not one of {', '.join(allowed)}")
    return Command(parts[0], what, value)


def parse_bridge_command(topics: BridgeTopics, topic: str, payload: bytes) -> Command:
    """One of the bridge's own commands (``<base>/bridge/<bridge>/set/<what>``), its
    device ``bridge``; :class:`CommandError` for anything else. Pure."""
    what = next((w for w in BRIDGE_COMMANDS if topic == topics.command(w)), None)
    if what is None:
        raise CommandError(f"{quote(topic)} is not a bridge command (known: "
                           f"{', '.join(BRIDGE_COMMANDS)})")
    value = _text(topic, payload)
    if value not in BRIDGE_COMMANDS[what]:
        raise CommandError(f"{topic}: {quote(value)} is not one of "
                           f"{', '.join(BRIDGE_COMMANDS[what])}")
    return Command("bridge", what, value)


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


def _words(key: str, values: tuple[str, ...]) -> str:
    """A template that shows a machine value in words (``on_track`` -> ``On track``); null
    stays null (rendered ``None``, which Home Assistant takes as unknown)."""
    table = json.dumps({v: words(v) for v in values})
    return f"{{{{ {table}.get(value_json.{key}) }}}}"


def _machine(values: tuple[str, ...]) -> str:
    """A command template that turns the words shown back into the machine value sent."""
    table = json.dumps({words(v): v for v in values})
    return f"{{{{ {table}.get(value, value) }}}}"


def _enum(key: str, values: tuple[str, ...]) -> dict[str, Any]:
    """An enum sensor in words; the state's JSON and the events keep the machine values."""
    return {"value_template": _words(key, values), "device_class": "enum",
            "options": [words(v) for v in values]}


def _select(key: str, values: tuple[str, ...], command: str) -> dict[str, Any]:
    """A select that shows words and sends the machine value its command takes."""
    return {"command_topic": command, "value_template": _words(key, values),
            "command_template": _machine(values), "options": [words(v) for v in values]}


def _minutes(key: str) -> dict[str, Any]:
    """A duration kept in seconds in the state (``*_s``), shown in minutes: Home Assistant's
    MQTT sensor takes no ``suggested_unit_of_measurement``, so the template converts."""
    return {"value_template": f"{{{{ none if value_json.{key} is none else "
                              f"(value_json.{key} / 60) | round(2) }}}}",
            "device_class": "duration", "unit_of_measurement": "min",
            "suggested_display_precision": 1}


#: Per-week totals: summed by Home Assistant's statistics, not averaged, reset at the start
#: of the person's week (``last_reset`` in the state, in their zone).
WEEKLY: Final = {"state_class": "total", "last_reset_value_template": _value("last_reset")}


def _schedule_entities(state: str) -> list[Entity]:
    """The glute schedule's sensors: a roller's (its person's) and each person's own."""
    return [
        Entity("sensor", "glute_sessions_week", "Glute sessions this week", {
            "state_topic": state, "value_template": _value("glute_sessions_this_week"),
            **WEEKLY, "icon": "mdi:calendar-week"}),
        Entity("sensor", "schedule_status", "Schedule status", {
            "state_topic": state, **_enum("schedule_status", STATUSES)}),
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
        Entity("sensor", "region", "Region", {"state_topic": state, **_enum("region", REGIONS)}),
        # Last session's values: no state class, they are not one quantity over time.
        Entity("sensor", "last_session_duration", "Last session duration", {
            "state_topic": state, **_minutes("last_session_duration_s")}),
        Entity("sensor", "last_session_cadence", "Last session cadence", {
            "state_topic": state, "value_template": _value("last_session_cadence_cpm"),
            "unit_of_measurement": "cpm", "icon": "mdi:sine-wave"}),
        *_schedule_entities(state),
        Entity("sensor", "battery", "Battery", {
            "state_topic": state, "value_template": _value("battery_pct"),
            "device_class": "battery", "unit_of_measurement": "%",
            "entity_category": "diagnostic"}),
        Entity("sensor", "rssi", "Signal strength", {
            "state_topic": state, "value_template": _value("rssi_dbm"),
            "device_class": "signal_strength", "unit_of_measurement": "dBm",
            "state_class": "measurement", "entity_category": "diagnostic"}),
        Entity("sensor", "last_seen", "Last seen", {
            "state_topic": state, "value_template": _value("last_seen"),
            "device_class": "timestamp", "entity_category": "diagnostic"}),
        Entity("event", "session_event", "Session event", {
            "state_topic": topics.event, "event_types": list(ROLLER_EVENT_TYPES)}),
        Entity("select", "next_routine", "Next session's routine", {
            "state_topic": state, **_select("next_routine", ROUTINES,
                                            topics.command("routine")),
            "icon": "mdi:format-list-checks"}),
        Entity("switch", "glute_override", "Override the glute schedule once", {
            "command_topic": topics.command("override"), "state_topic": state,
            "value_template": _on_off("override_next"), "payload_on": "ON",
            "payload_off": "OFF", "icon": "mdi:calendar-alert"}),
        Entity("select", "switch_area", "Roll this area now", {
            "state_topic": state, **_select("routine", ROUTINES, topics.command("area")),
            "icon": "mdi:swap-vertical"}),
        Entity("button", "end_session", "End the session", {
            "command_topic": topics.command("end"), "payload_press": "END",
            "icon": "mdi:stop-circle-outline"}),
        Entity("number", "comfort", "Comfort of this area", {
            "command_topic": topics.command("comfort"), "state_topic": state,
            "value_template": _value("comfort"), "command_template": "{{ value | int }}",
            "min": SCALE[0], "max": SCALE[1], "step": 1, "mode": "box",
            "icon": "mdi:emoticon-sad-outline"}),
        Entity("text", "name", "Name", {
            "command_topic": topics.command("name"), "state_topic": state,
            "value_template": _value("name"), "min": 1, "max": MAX_NAME_CHARS,
            "entity_category": "config", "icon": "mdi:rename"}),
    ]


def _person_entities(topics: PersonTopics) -> list[Entity]:
    state = topics.state
    return [
        *_schedule_entities(state),
        Entity("sensor", "lumbar_contacts_week", "Lumbar contacts this week", {
            "state_topic": state, "value_template": _value("lumbar_contacts_this_week"),
            **WEEKLY, "icon": "mdi:human-handsdown"}),
        Entity("sensor", "rolling_time_week", "Rolling this week", {
            "state_topic": state, **_minutes("rolling_s_this_week"), **WEEKLY}),
        # A clinician's figures (docs/clinician.md): adherence, and what raises an alert.
        Entity("sensor", "days_rolled_30", "Days rolled of the last 30", {
            "state_topic": state, "value_template": _value("days_rolled_last_30"),
            "unit_of_measurement": "d", "state_class": "measurement",
            "icon": "mdi:calendar-check"}),
        Entity("sensor", "days_since_rolled", "Days since rolling", {
            "state_topic": state, "value_template": _value("days_since_rolled"),
            "unit_of_measurement": "d", "state_class": "measurement",
            "icon": "mdi:calendar-clock"}),
        Entity("sensor", "prescribed_done_week", "Prescribed sessions done this week", {
            "state_topic": state,
            "value_template": _value("prescribed_sessions_done_this_week"), **WEEKLY,
            "icon": "mdi:clipboard-check-outline"}),
        Entity("sensor", "prescribed_week", "Prescribed sessions this week", {
            "state_topic": state, "value_template": _value("prescribed_sessions_this_week"),
            "icon": "mdi:clipboard-text-outline"}),
        Entity("sensor", "kept_off_contacts_week", "Kept-off contacts this week", {
            "state_topic": state, "value_template": _value("kept_off_contacts_this_week"),
            **WEEKLY, "icon": "mdi:hand-back-left-off-outline"}),
        Entity("sensor", "last_comfort", "Last comfort score", {
            "state_topic": state, "value_template": _value("last_comfort"),
            "state_class": "measurement", "icon": "mdi:emoticon-sad-outline"}),
        Entity("event", "alert", "Clinician alert", {
            "state_topic": topics.event, "event_types": list(PERSON_EVENT_TYPES)}),
    ]


#: The default person's name until one is chosen (``roller people rename``), where the
#: system gives none a person would read: never the store's placeholder.
UNNAMED: Final = "Roller user"


def shown_name(name: str, fallback: str = UNNAMED) -> str:
    """A person's name as Home Assistant shows it: the store's first person, still called
    :data:`~tracker.core.people.FIRST_PERSON` (``me``), is ``fallback`` there instead."""
    return fallback if name_key(name) == name_key(FIRST_PERSON) else name


def person_configs(topics: PersonTopics, name: str,
                   entity_ids: str = "roller") -> list[tuple[str, dict[str, Any]]]:
    """A person as a Home Assistant device of their own, reached through the bridge: their
    week, whichever roller they use. Unique ids come from the uid, so a rename keeps them.
    ``name`` is as shown (:func:`shown_name`)."""
    device = {"identifiers": [topics.device], "name": f"{name} (roller)",
              "manufacturer": "roller project", "model": "person",
              "via_device": topics.bridge.device}
    return [(topics.discovery(e.component, e.object_id),
             _config(e, topics.device, device, entity_ids)
             | {"availability_topic": topics.bridge.state})
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
        Entity("button", "permit_join", "Pair new rollers", {
            "command_topic": topics.command("permit_join"), "payload_press": "START",
            "icon": "mdi:bluetooth-connect"}),
        Entity("binary_sensor", "permit_join_open", "Pairing open", {
            "state_topic": info, "value_template": _on_off("permit_join"),
            "icon": "mdi:link-variant-plus"}),
    ]


ORIGIN: Final = {"name": "roller", "sw_version": __version__,
                 "support_url": "https://github.com/roller-project/roller"}


def device_block(topics: Topics, identity: Identity, label: str | None = None
                 ) -> dict[str, Any]:
    """Home Assistant's device: the name its owner gave it (else its advertised name and
    the end of its address), the sensor's maker, model and firmware, and its Bluetooth MAC
    (so the device registry joins it with what Bluetooth integrations see), reached through
    the bridge's device."""
    device: dict[str, Any] = {
        "identifiers": [topics.identifier], "name": roller_name(identity, label),
        "manufacturer": identity.manufacturer, "model": identity.model,
        "via_device": topics.bridge.device,
    }
    if identity.firmware:
        device["sw_version"] = identity.firmware
    if identity.mac:
        device["connections"] = [["bluetooth", identity.mac]]
    return device


def discovery_configs(topics: Topics, identity: Identity, label: str | None = None,
                      entity_ids: str = "roller") -> list[tuple[str, dict[str, Any]]]:
    """One retained config per entity, with the full device block and origin. Every entity
    is available only while both the bridge and the roller's watcher say ``online``
    (Zigbee2MQTT's way), so a crashed gateway never leaves a roller shown connected."""
    availability = {"availability": [{"topic": topics.bridge.state},
                                     {"topic": topics.availability}],
                    "availability_mode": "all"}
    device = device_block(topics, identity, label)
    return [(topics.discovery(e.component, e.object_id),
             _config(e, topics.identifier, device, entity_ids) | availability)
            for e in _entities(topics)]


def bridge_configs(topics: BridgeTopics, entity_ids: str = "roller"
                   ) -> list[tuple[str, dict[str, Any]]]:
    """The bridge's own device: its connection, version, rollers, waiting events, and
    pairing. Its model names no host: the bridge id already says which gateway it is, and a
    host name is nobody's business in a device registry."""
    device = {"identifiers": [topics.device], "name": f"Roller gateway {topics.bridge}",
              "manufacturer": "roller project", "model": "roller gateway",
              "sw_version": __version__}
    configs = []
    for entity in _bridge_entities(topics):
        config = _config(entity, topics.device, device, entity_ids)
        if entity.object_id != "connection_state":  # which says so itself
            config["availability_topic"] = topics.state
        configs.append((topics.discovery(entity.component, entity.object_id), config))
    return configs


def _config(entity: Entity, prefix: str, device: dict[str, Any],
            entity_ids: str = "roller") -> dict[str, Any]:
    """An entity's config. ``default_entity_id`` only with ``entity_ids = "roller"``: sent,
    it overrides the entity-ID format a Home Assistant user chose."""
    named = {"default_entity_id": f"{entity.component}.{prefix}_{entity.object_id}"} \
        if entity_ids == "roller" else {}
    return {"name": entity.name, "unique_id": f"{prefix}_{entity.object_id}", **named,
            "device": device, "origin": ORIGIN, "qos": 1, **entity.config}
