"""The Raspberry Pi set-up of ``docs/gateway.md`` as written: its unit is the shipped one,
systemd accepts it, and the broker's password reaches a service user that cannot read the
root-only file, through a systemd credential (emulated here as systemd passes it)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.broker import Broker, Subscriber
from tests.suite_clock import passed_on
from tracker.mqtt.settings import MqttConfigError, MqttSettings

ROOT = Path(__file__).parent.parent
UNIT = ROOT / "config" / "roller-gateway.service"
DOC = ROOT / "docs" / "gateway.md"
NOBODY = 65534  # the service user when the suite runs as root (as DynamicUser makes one up)


def unit_settings() -> dict[str, list[str]]:
    """The unit's ``KEY=value`` lines, every value of each key."""
    found: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


def doc_configuration() -> str:
    """The ``/etc/roller/roller.toml`` the doc writes."""
    text = DOC.read_text()
    match = re.search(r"sudo tee /etc/roller/roller\.toml <<'TOML'\n(.*?)\nTOML\n", text, re.S)
    assert match, "docs/gateway.md no longer writes /etc/roller/roller.toml"
    return match[1]


def test_the_doc_shows_the_unit_as_shipped() -> None:
    blocks = re.findall(r"```ini\n(.*?)```", DOC.read_text(), re.S)
    assert blocks == [UNIT.read_text()]


def test_the_doc_configuration_names_the_units_credential() -> None:
    [credential] = unit_settings()["LoadCredential"]
    name, _, path = credential.partition(":")
    mqtt = tomllib.loads(doc_configuration())["mqtt"]
    assert mqtt["password_credential"] == name
    assert mqtt["password_file"] == path  # root, by hand, reads the same password
    assert f"sudo install -m 600 /dev/null {path}" in DOC.read_text()


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    """``systemd-analyze verify`` on the shipped unit, in a root with systemd's own units and
    the unit's ``ExecStart`` (a stub where the doc installs roller)."""
    analyze = shutil.which("systemd-analyze")
    units = Path("/usr/lib/systemd/system")
    if analyze is None or not units.is_dir():
        pytest.skip("systemd-analyze is not installed (Debian: apt-get install systemd)")
    root = tmp_path / "root"
    shutil.copytree(units, root / "usr/lib/systemd/system", symlinks=True)
    [exec_start] = unit_settings()["ExecStart"]
    program = root / exec_start.split()[0].lstrip("/")
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    placed = root / "etc/systemd/system" / UNIT.name
    placed.parent.mkdir(parents=True)
    shutil.copy(UNIT, placed)
    result = subprocess.run([analyze, "verify", f"--root={root}", str(placed)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr


def test_the_credential_comes_before_the_file_only_under_systemd(tmp_path: Path) -> None:
    (tmp_path / "mqtt-password").write_text("from-systemd\n")
    (tmp_path / "file").write_text("from-the-file\n")
    both = {"host": "h", "password_credential": "mqtt-password",
            "password_file": str(tmp_path / "file")}
    assert MqttSettings(**both, credentials_directory=str(tmp_path)).secret() == "from-systemd"
    assert MqttSettings(**both).secret() == "from-the-file"  # by hand
    alone = MqttSettings(host="h", password_credential="mqtt-password")
    with pytest.raises(MqttConfigError, match=r"CREDENTIALS_DIRECTORY is not set .*"
                                              r"LoadCredential=mqtt-password:FILE"):
        alone.secret()
    missing = MqttSettings(host="h", password_credential="other",
                           credentials_directory=str(tmp_path))
    with pytest.raises(MqttConfigError, match="No such file"):
        missing.secret()
    summary = MqttSettings(**both, credentials_directory=str(tmp_path)).summary()
    assert summary == "h:1883, no TLS, password from credential mqtt-password"
    with pytest.raises(ValueError, match="no slash"):
        MqttSettings(password_credential="../etc/shadow")


@dataclass(frozen=True)
class ServiceUser:
    """How the test runs the gateway as an unprivileged process, as systemd runs the unit."""

    prefix: list[str]  # before the command
    popen: dict[str, Any]  # Popen's user, group, extra_groups
    uid: int  # who owns the service's folders and its credential
    secret_uid: int  # who owns the secret it must not read


def service_user() -> ServiceUser:
    """Not root: the test's own user, the secret mode 000. Root: ``nobody``, as DynamicUser
    makes up a user, if it can run this Python; else root without any capability (no
    CAP_DAC_OVERRIDE), the secret another user's own."""
    if os.geteuid() != 0:
        return ServiceUser([], {}, os.geteuid(), os.geteuid())
    nobody = {"user": NOBODY, "group": NOBODY, "extra_groups": []}
    try:
        probe = subprocess.run([sys.executable, "-c", "import tracker"], cwd="/",
                               capture_output=True, timeout=60, **nobody)  # type: ignore[call-overload]
        if probe.returncode == 0:
            return ServiceUser([], nobody, NOBODY, 0)
    except PermissionError:  # this Python lives where nobody may go (/root)
        pass
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("nobody cannot run this Python and there is no setpriv (util-linux)")
    return ServiceUser([setpriv, "--bounding-set=-all", "--inh-caps=-all", "--no-new-privs",
                        "--"], {}, 0, NOBODY)


@pytest.fixture
def service_home() -> Iterator[Path]:
    """A folder the service user can reach: pytest's own is its owner's alone."""
    folder = Path(tempfile.mkdtemp(prefix="roller-service-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def test_the_service_user_gets_the_password_through_its_credential(
        broker: Broker, service_home: Path) -> None:
    """The doc's steps as far as they go without systemd: its configuration, the unit's
    environment and command, a password file the service user cannot read, and the copy
    systemd would make for it (``LoadCredential=``). Without the copy the gateway stops as
    the issue saw it (Permission denied, exit 2); with it, it signs in to a broker that
    takes no one without a password."""
    user = service_user()
    [credential] = unit_settings()["LoadCredential"]
    name, _, secret_path = credential.partition(":")
    etc, state, credentials = (service_home / d for d in ("etc", "state", "credentials"))
    for folder in (etc, state, credentials):
        folder.mkdir()
    etc.chmod(0o755)
    secret = etc / "mqtt-password"
    secret.write_text("s3cret\n")  # the test broker's password for user roller
    # What systemd does as root: copy it for the service, readable by that user alone.
    (credentials / name).write_text(secret.read_text())
    (credentials / name).chmod(0o400)
    credentials.chmod(0o500)
    if user.secret_uid != user.uid:  # root's alone (or another user's)
        os.chown(secret, user.secret_uid, user.secret_uid)
        secret.chmod(0o600)
    else:  # run as a user: unreadable even to its owner
        secret.chmod(0o000)
    configuration = etc / "roller.toml"
    configuration.write_text(doc_configuration().replace(secret_path, str(secret)))
    configuration.chmod(0o644)
    if user.uid != os.geteuid():
        for path in (state, credentials, credentials / name):
            os.chown(path, user.uid, user.uid)
    environment = dict(line.split("=", 1) for line in unit_settings()["Environment"])
    environment = {k: v.replace("/var/lib/roller", str(state)) for k, v in environment.items()}
    [exec_start] = unit_settings()["ExecStart"]
    args = [str(configuration) if a == "/etc/roller/roller.toml" else a
            for a in exec_start.split()[1:]]
    command = [*user.prefix, sys.executable, "-m", "tracker", *args, "--sim", "1",
               "--sim-asleep", "600", "600"]
    env = {"PATH": "/usr/bin:/bin", **passed_on(), **environment,
           # the broker here, not homeassistant.local: the environment overrides the file
           "ROLLER_MQTT_HOST": "127.0.0.1", "ROLLER_MQTT_PORT": str(broker.auth_port),
           "ROLLER_MQTT_BRIDGE_ID": "test"}
    unread = subprocess.run(command, env=env, cwd=state, capture_output=True, text=True,
                            timeout=60, **user.popen)  # type: ignore[call-overload]
    assert unread.returncode == 2, unread.stderr
    assert f"password_file {secret}: Permission denied" in unread.stderr

    log = service_home / "stderr"
    with log.open("w") as stderr:
        proc = subprocess.Popen(command, env=env | {"CREDENTIALS_DIRECTORY": str(credentials)},
                                cwd=state, stdout=subprocess.DEVNULL, stderr=stderr,
                                **user.popen)
        try:
            deadline = time.monotonic() + 30
            while ("roller/bridge/test/state", "online") not in \
                    Subscriber(broker.port, "roller/bridge/test/state").stop():
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0, log.read_text()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
    text = log.read_text()
    assert f"password from credential {name}; store {state / 'roller.db'}" in text, text
    assert f"connected to the broker 127.0.0.1:{broker.auth_port}" in text, text
    assert "s3cret" not in text
