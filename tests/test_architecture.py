"""The core stays free of the UI and of the simulator."""

from __future__ import annotations

import re
from pathlib import Path

TRACKER = Path(__file__).parent.parent / "tracker"


def imports(module: str) -> list[str]:
    pattern = re.compile(rf"^\s*(from|import)\s+{module}\b", re.MULTILINE)
    return [p.name for p in TRACKER.rglob("*.py") if pattern.search(p.read_text())]


def test_tracker_never_imports_textual() -> None:
    assert imports("textual") == []


def test_tracker_reaches_the_simulator_only_through_simulation_py() -> None:
    assert set(imports("firmware_sim")) <= {"simulation.py"}
