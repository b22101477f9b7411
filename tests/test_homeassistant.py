"""The Home Assistant examples use only entities we announce."""

from __future__ import annotations

import re
from pathlib import Path

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
    assert [b["name"] for b in blocks] == ["WT901BLE68", "BWT901BLECL 708D"]
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
