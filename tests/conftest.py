"""Shared fixtures: simulated recordings written as real files, the real CLI, a real broker;
and the marks that let ``make quick`` leave out what starts a broker, a browser, a Bluetooth
link or a ``roller`` process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from firmware_sim.session import SimulatedSession, simulate
from tests import homeassistant_env, suite_clock
from tests.broker import ACL, ACL_USERS, MOSQUITTO, OPEN, Broker, create
from tests.homeassistant import HomeAssistant, shipped_automations
from tracker.core.formats.roller_imu import write

#: Tests that use these fixtures start what the mark names.
MARKED_BY_FIXTURE = {"broker": "broker", "acl_broker": "broker", "roller": "cli",
                     "homeassistant": "homeassistant"}
#: Modules whose every test runs sessions over bleak (the simulated radio beneath it, Bumble's
#: virtual controller, or recorded sensor bytes).
BLUETOOTH_MODULES = {"test_ble", "test_bumble", "test_dashboard", "test_program_dashboard",
                     "test_real_sensors", "test_snapshots", "test_proxy"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by what it starts (``pyproject.toml`` says what each mark means)."""
    for item in items:
        for fixture, mark in MARKED_BY_FIXTURE.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(mark)
        if item.module is not None and item.module.__name__.rsplit(".", 1)[-1] \
                in BLUETOOTH_MODULES:
            item.add_marker("bluetooth")


@pytest.fixture(autouse=True, scope="session")
def suite_started() -> None:
    """The suite's clock, before the first fixture that writes a file reads it."""
    suite_clock.start()


@pytest.fixture(autouse=True)
def suite_now(suite_started: None) -> None:
    """Every test starts on the suite's clock (``ROLLER_NOW``, else the wall clock)."""
    suite_clock.start()


@pytest.fixture(autouse=True)
def subscribers_closed() -> Iterator[None]:
    """Every MQTT subscriber a test left open (it failed before it read it) ended and its
    file closed, so that no other test is blamed for the unclosed file."""
    yield
    while OPEN:
        OPEN.pop().close()


@pytest.fixture(scope="session")
def stray_session() -> SimulatedSession:
    return simulate("upper_back", "stray", 150.0, seed=17, sample_rate_hz=100.0)


@pytest.fixture(scope="session")
def glutes_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A minute of glutes at 50 Hz: enough to count as a glute session."""
    sim = simulate("glutes", "clean", 60.0, 8, sample_rate_hz=50.0)
    path = tmp_path_factory.mktemp("rec") / "glutes.csv"
    write(path, sim.header, sim.samples)
    return suite_clock.stamped(path)


@pytest.fixture
def recording_file(tmp_path: Path, stray_session: SimulatedSession) -> Path:
    path = tmp_path / "session.csv"
    write(path, stray_session.header, stray_session.samples)
    return suite_clock.stamped(path)


@pytest.fixture
def roller(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the real ``roller`` command (as ``python -m tracker``) with an empty user config."""

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        environment = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"),
                       "PATH": "/usr/bin:/bin", **suite_clock.passed_on(), **(env or {})}
        return subprocess.run([sys.executable, "-m", "tracker", *args], capture_output=True,
                              text=True, env=environment, timeout=120)

    return run


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """A real mosquitto on 127.0.0.1, on free ports; stopped after the test."""
    if not Path(MOSQUITTO).exists():
        pytest.fail("mosquitto is not installed: make test installs it (apt-get install mosquitto)")
    server = create(tmp_path / "broker")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def acl_broker(broker: Broker) -> Broker:
    """``broker`` with config/mosquitto/roller.acl as shipped on its password listener
    (``auth_port``) and the users of :data:`ACL_USERS`, each with its
    :func:`tests.broker.password`; its log in ``log_path``."""
    broker.acl_file, broker.log = ACL, True
    broker.add_users(*ACL_USERS)
    broker.restart()
    return broker


@pytest.fixture
def homeassistant(broker: Broker, tmp_path: Path) -> Iterator[HomeAssistant]:
    """A real Home Assistant (``tests/homeassistant_env.py``) on loopback, onboarded, its MQTT
    integration added through the config flow for ``broker``; stopped after the test. Skips
    with one line where it is not installed (``make test-homeassistant`` installs it)."""
    try:
        homeassistant_env.ready()
    except homeassistant_env.Unavailable as reason:
        pytest.skip(str(reason))
    hass = HomeAssistant(tmp_path / "homeassistant")
    hass.write_config(shipped_automations("c0ffee000101"))  # the first simulated roller's
    try:
        hass.start()
        hass.onboard()
        hass.add_mqtt(broker.port)
        yield hass
    finally:
        hass.stop()
