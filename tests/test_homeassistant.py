"""The Home Assistant examples use only entities we announce."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from tracker.core.status import Identity
from tracker.devices import PROFILES
from tracker.mqtt.messages import BridgeTopics, device_block, discovery_configs

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
