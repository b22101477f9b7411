"""The Home Assistant examples use only entities we announce."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tracker.mqtt.messages import Topics, discovery_configs
from tracker.status import Identity

EXAMPLES = Path(__file__).parent.parent / "dashboards" / "homeassistant"


def announced(device: str) -> set[str]:
    topics = Topics("roller", "homeassistant", device)
    return {config["default_entity_id"] for _, config in
            discovery_configs(topics, Identity(device, "roller", "roller project", "roller"))}


def entity_ids(node: object) -> set[str]:
    text = yaml.safe_dump(node)
    return set(re.findall(r"\b(?:binary_sensor|sensor|event)\.roller_[a-z0-9_]+", text))


def test_examples_parse_and_use_announced_entities() -> None:
    ours = announced("c0ffee000001")
    for name in ("lovelace.yaml", "automations.yaml"):
        document = yaml.safe_load((EXAMPLES / name).read_text())
        used = entity_ids(document)
        assert used, f"{name} uses no roller entity"
        assert used <= ours, f"{name} uses entities we never announce: {used - ours}"
    automations = yaml.safe_load((EXAMPLES / "automations.yaml").read_text())
    assert len(automations) == 2 and all("triggers" in a and "actions" in a for a in automations)
