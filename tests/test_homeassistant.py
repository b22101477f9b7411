"""The Home Assistant examples use only entities we announce."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.core.body import ROUTINES
from tracker.core.status import Identity
from tracker.devices import PROFILES
from tracker.mqtt.discovery import readable_default
from tracker.mqtt.messages import (
    MAX_COMMAND_BYTES,
    MAX_NAME_CHARS,
    UNNAMED,
    BridgeTopics,
    CommandError,
    bridge_configs,
    device_block,
    discovery_configs,
    parse_bridge_command,
    parse_command,
    person_configs,
    roller_name,
    shown_name,
)

EXAMPLES = Path(__file__).parent.parent / "dashboards" / "homeassistant"


def announced(device: str) -> set[str]:
    topics = BridgeTopics("roller", "homeassistant", "test").roller(device)
    return {config["default_entity_id"] for _, config in
            discovery_configs(topics, Identity(device, "roller", "roller project", "roller"))}


def entity_ids(node: object) -> set[str]:
    text = yaml.safe_dump(node)
    return set(re.findall(r"\b(?:binary_sensor|sensor|event|select|switch|button)\."
                          r"roller_[a-z0-9_]+", text))


def test_examples_parse_and_use_announced_entities() -> None:
    ours = announced("c0ffee000001")
    for name in ("lovelace.yaml", "automations.yaml"):
        document = yaml.safe_load((EXAMPLES / name).read_text())
        used = entity_ids(document)
        assert used, f"{name} uses no roller entity"
        assert used <= ours, f"{name} uses entities we never announce: {used - ours}"
    automations = yaml.safe_load((EXAMPLES / "automations.yaml").read_text())
    assert len(automations) == 2 and all("triggers" in a and "actions" in a for a in automations)


def test_each_sensor_is_its_own_device_with_its_own_name() -> None:
    witmotion = PROFILES["witmotion"]
    blocks = [device_block(BridgeTopics("roller", "homeassistant", "test").roller(address),
                           witmotion.identity(address, Identity(address, name)))
              for address, name in (("df:be:12:20:70:8c", "WT901BLE68"),
                                    ("DF:BE:12:20:70:8D", ""))]
    # Two alike are told apart by the end of the address, unless the name says it already.
    assert [b["name"] for b in blocks] == ["WT901BLE68 70:8C", "BWT901BLECL 708D"]
    assert blocks[0]["identifiers"] != blocks[1]["identifiers"]
    assert blocks[0]["connections"] == [["bluetooth", "DF:BE:12:20:70:8C"]]  # as HA's own
    assert (blocks[0]["manufacturer"], blocks[0]["model"]) == ("WitMotion", "BWT901BLECL")
    assert "sw_version" not in blocks[0]  # unknown: not "unknown"
    said = Identity("C0:FF:EE:00:00:01", "roller-sim", "roller project", "roller-sim", "sim-1.0")
    ours = device_block(BridgeTopics("roller", "homeassistant", "test").roller("c0ffee000001"),
                        PROFILES["roller"].identity(said.address, said))
    assert ours["sw_version"] == "sim-1.0" and ours["model"] == "roller-sim"
    uuid = "7E2A1C3B-0F5D-4E8A-9B61-2C4D5E6F7A8B"  # macOS: no MAC, so no connection
    elsewhere = BridgeTopics("roller", "homeassistant", "t").roller("x")
    assert "connections" not in device_block(elsewhere, PROFILES["movesense"].identity(uuid))


def fires(automation: dict[str, Any], changes: list[tuple[State, State]],
          now: datetime) -> int:
    """How often ``automation`` acts on these state changes of its event entity, by Home
    Assistant's rules for a state trigger (``to``/``not_from``, ``attribute``) and template
    conditions (jinja2 with ``now`` and ``as_datetime``, as Home Assistant has them)."""
    jinja2 = pytest.importorskip("jinja2")
    env = jinja2.Environment(autoescape=False)
    env.globals |= {"now": lambda: now, "as_datetime": datetime.fromisoformat}
    (trigger,) = automation["triggers"]
    acted = 0
    for old, new in changes:
        if trigger.get("attribute"):
            key = trigger["attribute"]
            if old[1].get(key) == new[1].get(key) or new[1].get(key) != trigger["to"]:
                continue
        elif old[0] == new[0] or old[0] in trigger.get("not_from", ()):
            continue
        context = {"trigger": {"to_state": {"state": new[0], "attributes": new[1]}}}
        if all(env.from_string(c["value_template"]).render(context).strip() == "True"
               for c in automation.get("conditions", ())):
            acted += 1
    return acted


State = tuple[str, dict[str, Any]]


def test_the_alert_automation_acts_once_per_alert_never_for_one_replayed_or_restored() -> None:
    """Its event entity as Home Assistant keeps it: the state is the last event's time, the
    payload its attributes; unavailable while the gateway is away, and the last event
    restored (not received) when it comes back."""
    (flash, _) = yaml.safe_load((EXAMPLES / "automations.yaml").read_text())
    now = datetime(2026, 11, 24, 18, 0, 0, tzinfo=UTC)

    def event(kind: str, at_s: float, replayed: bool = False) -> State:
        at = (now + timedelta(seconds=at_s)).isoformat()
        return at, {"event_type": kind, "occurred_at": at, "replayed": replayed}

    alert, caution = event("lumbar_contact_alert", -1.0), event("lumbar_caution", -3.0)
    again = event("lumbar_contact_alert", -0.5)
    old = event("lumbar_contact_alert", -3600.0, replayed=True)
    gone: State = ("unavailable", {})
    changes = [(caution, alert),  # an alert: once
               (alert, gone), (gone, alert),  # a crash and a restart: restored, not new
               (alert, again),  # another alert: once more
               (again, old)]  # one that waited for the broker: never
    assert fires(flash, changes, now) == 2
    assert fires(flash, [(gone, alert)], now) == 0


# -- Home Assistant's conventions (issue 28) ------------------------------------------

TOPICS = BridgeTopics("roller", "homeassistant", "test")
SIM = Identity("C0:FF:EE:00:01:01", "roller-sim", "roller project", "roller-sim")


def configs_by_object(configs: list[tuple[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Each config by its entity's object id (its unique id is the device's, then it)."""
    return {config["unique_id"].removeprefix(config["device"]["identifiers"][0] + "_"): config
            for _, config in configs}


def render(template: str, **value_json: Any) -> str:
    """A value or command template as Home Assistant renders it (jinja2; a null renders as
    ``None``, which its MQTT sensor takes as unknown)."""
    jinja2 = pytest.importorskip("jinja2")
    value = value_json.pop("value", None)
    return str(jinja2.Environment(autoescape=False).from_string(template).render(
        value_json=value_json, value=value))


def test_weekly_totals_are_totals_reset_at_the_start_of_the_week() -> None:
    person = configs_by_object(person_configs(TOPICS.person("0a1b2c3d"), "Ada"))
    roller = configs_by_object(discovery_configs(TOPICS.roller(SIM.address), SIM))
    for config in (person["glute_sessions_week"], person["lumbar_contacts_week"],
                   person["rolling_time_week"], roller["glute_sessions_week"]):
        assert config["state_class"] == "total"
        assert render(config["last_reset_value_template"],
                      last_reset="2026-11-16T00:00:00+01:00") == "2026-11-16T00:00:00+01:00"
    # Last session's values are not one quantity over time: no state class at all.
    assert "state_class" not in roller["last_session_duration"]
    assert "state_class" not in roller["last_session_cadence"]


def test_durations_are_durations_shown_in_minutes() -> None:
    person = configs_by_object(person_configs(TOPICS.person("0a1b2c3d"), "Ada"))
    roller = configs_by_object(discovery_configs(TOPICS.roller(SIM.address), SIM))
    for config, key in ((roller["last_session_duration"], "last_session_duration_s"),
                        (person["rolling_time_week"], "rolling_s_this_week")):
        assert (config["device_class"], config["unit_of_measurement"]) == ("duration", "min")
        assert config["suggested_display_precision"] == 1
        assert "suggested_unit_of_measurement" not in config  # the MQTT sensor has none
        assert render(config["value_template"], **{key: 205.6}) == "3.43"
        assert render(config["value_template"], **{key: None}) == "None"  # unknown


def test_states_are_words_a_person_reads_and_commands_stay_machine_values() -> None:
    roller = configs_by_object(discovery_configs(TOPICS.roller(SIM.address), SIM))
    status = roller["schedule_status"]
    assert status["device_class"] == "enum"
    assert status["options"] == ["On track", "Behind", "Done", "Over"]
    assert render(status["value_template"], schedule_status="on_track") == "On track"
    assert render(status["value_template"], schedule_status=None) == "None"
    assert render(roller["region"]["value_template"], region="thoracic") in \
        roller["region"]["options"]
    for object_id, key in (("next_routine", "next_routine"), ("switch_area", "routine")):
        select = roller[object_id]
        assert "Upper back" in select["options"]
        assert render(select["value_template"], **{key: "upper_back"}) == "Upper back"
        sent = {render(select["command_template"], value=o) for o in select["options"]}
        assert sent == set(ROUTINES)  # each word shown sends the command's own value
        for word in select["options"]:  # and every one is taken by the parser
            command = render(select["command_template"], value=word)
            assert parse_command(TOPICS, select["command_topic"], command.encode())


def test_entity_ids_are_ours_only_when_asked() -> None:
    def every(entity_ids: str) -> list[dict[str, Any]]:
        return [c for _, c in [*discovery_configs(TOPICS.roller(SIM.address), SIM, None,
                                                  entity_ids),
                               *bridge_configs(TOPICS, entity_ids),
                               *person_configs(TOPICS.person("0a1b2c3d"), "Ada",
                                               entity_ids)]]

    assert all(c["default_entity_id"].endswith(c["unique_id"]) for c in every("roller"))
    assert not any("default_entity_id" in c for c in every("home_assistant"))
    assert len(every("roller")) == len(every("home_assistant"))


def test_the_bridges_model_names_no_host_and_its_pairing_button() -> None:
    bridge = configs_by_object(bridge_configs(TOPICS))
    assert {c["device"]["model"] for c in bridge.values()} == {"roller gateway"}
    button = bridge["permit_join"]
    assert (button["command_topic"], button["payload_press"]) == (
        "roller/bridge/test/set/permit_join", "START")
    assert parse_bridge_command(TOPICS, button["command_topic"], b"START").what == \
        "permit_join"
    shown = bridge["permit_join_open"]
    assert render(shown["value_template"], permit_join=True) == "ON"
    assert render(shown["value_template"], permit_join=False) == "OFF"


def test_rollers_are_named_by_their_owner_else_told_apart_by_their_address() -> None:
    two = [Identity(a, "roller-sim") for a in ("C0:FF:EE:00:01:01", "C0:FF:EE:00:02:01")]
    assert [roller_name(i) for i in two] == ["roller-sim 01:01", "roller-sim 02:01"]
    assert roller_name(two[0], "Hall roller") == "Hall roller"
    assert roller_name(Identity("7E2A1C3B-0F5D-4E8A-9B61-2C4D5E6F7A8B", "Movesense")) == \
        "Movesense 7A8B"
    roller = configs_by_object(discovery_configs(TOPICS.roller(SIM.address), SIM, "Hall"))
    assert {c["device"]["name"] for c in roller.values()} == {"Hall"}
    text = roller["name"]
    assert (text["command_topic"], text["max"]) == ("roller/bridge/test/c0ffee000101/set/name",
                                                    32)
    assert render(text["value_template"], name="Hall") == "Hall"


def test_the_default_person_is_never_me_in_home_assistant() -> None:
    assert shown_name("me") == UNNAMED == "Roller user"
    assert shown_name("Me", "Ada") == "Ada"
    assert shown_name("Ben", "Ada") == "Ben"
    configs = person_configs(TOPICS.person("0a1b2c3d"), shown_name("me"))
    assert {c["device"]["name"] for _, c in configs} == {"Roller user (roller)"}
    assert readable_default() not in ("me", "root", "")


def test_each_roller_shows_its_signal_and_when_it_was_last_seen() -> None:
    roller = configs_by_object(discovery_configs(TOPICS.roller(SIM.address), SIM))
    rssi, seen = roller["rssi"], roller["last_seen"]
    assert (rssi["device_class"], rssi["unit_of_measurement"]) == ("signal_strength", "dBm")
    assert seen["device_class"] == "timestamp"
    assert rssi["entity_category"] == seen["entity_category"] == "diagnostic"
    assert render(rssi["value_template"], rssi_dbm=-67) == "-67"


@given(st.text(max_size=40), st.binary(max_size=200))
@settings(max_examples=300, deadline=None)
def test_commands_are_taken_or_refused_in_one_line_never_anything_else(
        what: str, payload: bytes) -> None:
    for topic in (f"roller/bridge/test/c0ffee000101/set/{what}",
                  "roller/bridge/test/c0ffee000101/set/name", f"roller/bridge/test/set/{what}",
                  "roller/bridge/test/set/permit_join", f"roller/c0ffee000101/set/{what}"):
        for parse in (lambda t, p: parse_command(TOPICS, t, p),
                      lambda t, p: parse_bridge_command(TOPICS, t, p)):
            try:  # a CommandError (one warning) or a command; nothing else escapes
                command = parse(topic, payload)
            except CommandError:
                continue
            assert command.value == command.value.strip() and command.value
            assert len(payload) <= MAX_COMMAND_BYTES


@given(st.text(min_size=1, max_size=MAX_NAME_CHARS).filter(
    lambda s: s.strip() and s.strip().isprintable()))
@settings(max_examples=200, deadline=None)
def test_any_printable_name_up_to_32_characters_names_a_roller(name: str) -> None:
    command = parse_command(TOPICS, "roller/bridge/test/c0ffee000101/set/name", name.encode())
    assert (command.what, command.value) == ("name", name.strip())


# -- Topics: each gateway's under its own (issue 29) ---------------------------------

#: Home Assistant's discovery topic, as its MQTT integration matches it (after the prefix).
HA_DISCOVERY = re.compile(r"(?P<component>\w+)/(?:(?P<node_id>[a-zA-Z0-9_-]+)/)?"
                          r"(?P<object_id>[a-zA-Z0-9_-]+)/config")


def test_everything_a_gateway_publishes_is_under_its_bridge_and_its_own_node() -> None:
    """Its rollers', its people's and its own topics under ``roller/bridge/<bridge>/``, every
    discovery config under the node ``<bridge>``: what the ACL's ``%u`` patterns hold it to.
    Unique ids and entity ids are those of before, so Home Assistant's entities stay."""
    roller = discovery_configs(TOPICS.roller(SIM.address), SIM)
    configs = [*roller, *bridge_configs(TOPICS), *person_configs(TOPICS.person("0a1b2c3d"), "Ada")]
    for topic, config in configs:
        match = HA_DISCOVERY.fullmatch(topic.removeprefix("homeassistant/"))
        assert match and match["node_id"] == "test", topic
        assert match["object_id"] == config["unique_id"]
        assert config["default_entity_id"] == f"{match['component']}.{config['unique_id']}"
        named = [v for k, v in config.items() if k.endswith("_topic")] + \
            [a["topic"] for a in config.get("availability", [])]
        assert named and all(t.startswith("roller/bridge/test/") for t in named), topic
    by_object = configs_by_object(roller)
    assert by_object["region"]["default_entity_id"] == "sensor.roller_c0ffee000101_region"
    assert by_object["region"]["state_topic"] == "roller/bridge/test/c0ffee000101/state"
    assert by_object["session_event"]["state_topic"] == "roller/bridge/test/c0ffee000101/event"
    person = TOPICS.person("0a1b2c3d")
    assert person.state == "roller/bridge/test/person/0a1b2c3d/state"
    assert person.discovery("sensor", "schedule_status") == \
        "homeassistant/sensor/test/roller_person_0a1b2c3d_schedule_status/config"
    assert TOPICS.discovery("binary_sensor", "connection_state") == \
        "homeassistant/binary_sensor/test/roller_bridge_test_connection_state/config"
    assert TOPICS.commands == "roller/bridge/test/+/set/+"


def test_a_bridges_command_and_its_rollers_are_told_apart_and_others_refused() -> None:
    """``<bridge>/set/<what>`` is the bridge's, ``<bridge>/<device>/set/<what>`` a roller's;
    another bridge's rollers and the 0.x topics are no command here."""
    assert parse_bridge_command(TOPICS, "roller/bridge/test/set/permit_join", b"START").what \
        == "permit_join"
    command = parse_command(TOPICS, "roller/bridge/test/c0ffee000101/set/end", b"END")
    assert (command.device, command.what) == ("c0ffee000101", "end")
    for topic in ("roller/bridge/test/set/permit_join", "roller/bridge/gym-2/c0ffee000101/set/end",
                  "roller/c0ffee000101/set/end", "roller/bridge/test/c0ffee000101/state",
                  "roller/bridge/test/person/0a1b2c3d/state", "roller/bridge/test//set/end"):
        with pytest.raises(CommandError):
            parse_command(TOPICS, topic, b"END")
    with pytest.raises(CommandError):
        parse_bridge_command(TOPICS, "roller/bridge/test/c0ffee000101/set/end", b"START")


def test_a_bridge_knows_its_own_configs_from_0x_and_another_bridges() -> None:
    own = TOPICS.roller(SIM.address).discovery("sensor", "region")
    assert TOPICS.is_own_config(own)
    for other in ("homeassistant/sensor/roller_c0ffee000101/region/config",  # 0.x
                  "homeassistant/sensor/gym-2/roller_c0ffee000101_region/config",
                  "elsewhere/sensor/test/roller_c0ffee000101_region/config"):
        assert not TOPICS.is_own_config(other), other
