"""A command imports what it uses and nothing more, so that the commands people wait for start
soon (``python -m bench.startup`` times them against importing numpy); ``roller --help`` lists
every command, each with its own help, without importing one."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import click
import pytest

import tracker.cli
from tracker.cli.main import COMMANDS, main

Run = Callable[..., subprocess.CompletedProcess[str]]

#: What a command that reads a recording or the store has no use for: Bluetooth, MQTT, the
#: dashboard, the report's charts, the simulator.
LIVE = frozenset({"bleak", "aiomqtt", "paho", "textual", "matplotlib", "firmware_sim"})


def imported(roller: Run, *args: str) -> set[str]:
    """The top-level packages ``roller ARGS`` imported (Python's own import profile)."""
    done = roller(*args, env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert done.returncode == 0, done.stderr
    names = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
             if line.startswith("import time:")}
    assert "tracker.cli.main" in names  # the profile was read
    return {name.split(".")[0] for name in names}


def test_help_lists_each_command_as_click_shortens_its_own_help() -> None:
    """The sentence ``roller --help`` shows for a command it has not imported is the one
    click would make of the command's help, at every width."""
    for name, (path, sentence) in COMMANDS.items():
        module, _, attribute = path.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        assert command.name == name
        told = click.Command(name, help=sentence)
        assert [told.get_short_help_str(size) for size in range(1, 240)] \
            == [command.get_short_help_str(size) for size in range(1, 240)], name


def test_every_command_is_in_the_table() -> None:
    """A command written in ``tracker/cli`` is one ``roller`` knows."""
    commands = []
    for module in pkgutil.iter_modules(tracker.cli.__path__):
        found = vars(importlib.import_module(f"tracker.cli.{module.name}")).values()
        commands += [c for c in found if isinstance(c, click.Command) and c is not main]
    below = {id(c) for group in commands if isinstance(group, click.Group)
             for c in group.commands.values()}
    assert {c.name for c in commands if id(c) not in below} == {*COMMANDS, "config-path"}


@pytest.mark.cli
def test_help_imports_no_command(roller: Run) -> None:
    assert not imported(roller, "--help") & (LIVE | {"numpy", "sqlite_utils", "rich", "plotext"})


@pytest.mark.cli
def test_analyze_imports_no_store_device_broker_or_chart(roller: Run,
                                                         recording_file: Path) -> None:
    """Not even SQLite, or JSON for the table (``--json`` imports it)."""
    assert not imported(roller, "analyze", str(recording_file)) \
        & (LIVE | {"sqlite_utils", "sqlite3", "plotext", "json"})


@pytest.mark.cli
def test_what_reads_the_store_imports_no_device_broker_or_writer(roller: Run,
                                                                 recording_file: Path,
                                                                 tmp_path: Path) -> None:
    """A store of the current schema is read in plain SQL: sqlite-utils, which migrates and
    writes, is not imported (``tracker.store.connection``). ``history``, ``schedule`` and
    ``session show`` read no samples and run no estimator, so they start without numpy, the
    import ``bench.startup`` measures every command by: show draws the track stored when the
    session ended."""
    db = str(tmp_path / "r.db")
    stored = roller("--db", db, "import", str(recording_file))
    assert stored.returncode == 0, stored.stderr
    for command in (["history"], ["history", "--json"], ["schedule"]):
        assert not imported(roller, "--db", db, *command) \
            & (LIVE | {"plotext", "sqlite_utils", "numpy", "secrets"}), command
    shown = imported(roller, "--db", db, "session", "show", "1")
    assert "plotext" in shown
    assert not shown & (LIVE | {"sqlite_utils", "numpy"})


@pytest.mark.cli
def test_bluetooth_without_proxies_loads_nothing_of_esphome(roller: Run) -> None:
    """``[bluetooth] proxies`` unset: ``roller scan`` loads bleak, and nothing of the proxy
    extra (bleak-esphome, habluetooth, aioesphomeapi each take their time to import)."""
    used = imported(roller, "scan", "--sim", "--timeout", "0.5")
    assert "bleak" in used
    assert not used & {"bleak_esphome", "habluetooth", "aioesphomeapi"}


@pytest.mark.cli
def test_a_store_to_migrate_or_write_brings_sqlite_utils(roller: Run, tmp_path: Path) -> None:
    """What still needs sqlite-utils loads it where it is needed: a new store is made (and
    migrated) by the first command that opens it, a reading one too."""
    assert "sqlite_utils" in imported(roller, "--db", str(tmp_path / "new.db"), "history")
