"""A real Mosquitto broker on 127.0.0.1 for the tests: plain, password and TLS listeners; the
password listener with ``config/mosquitto/roller.acl`` where a test asks for it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
#: The broker's ACL as shipped: each gateway's user named as its bridge id, ``ingest`` and
#: ``homeassistant``.
ACL = Path(__file__).parent.parent / "config" / "mosquitto" / "roller.acl"
#: The users of a broker with it (the ``acl_broker`` fixture): two gateways (their bridge
#: ids), the ingest, Home Assistant.
ACL_USERS = ("gym-1", "gym-2", "ingest", "homeassistant")


def password(user: str) -> str:
    """A user's password at a test broker."""
    return f"{user}-pw"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_certificates(folder: Path) -> dict[str, Path]:
    """A CA, a server certificate for 127.0.0.1 signed by it, and an unrelated CA."""
    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=folder)

    for ca in ("ca", "other_ca"):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-keyout", f"{ca}.key", "-out", f"{ca}.pem", "-subj", f"/CN=roller test {ca}")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out",
            "server.csr", "-subj", "/CN=127.0.0.1")
    (folder / "san.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.cnf")
    return {name: folder / f"{name}.pem" for name in ("ca", "other_ca", "server")} | {
        "server_key": folder / "server.key"}


@dataclass
class Broker:
    folder: Path
    port: int
    auth_port: int
    tls_port: int
    certificates: dict[str, Path]
    process: subprocess.Popen[bytes] | None = None
    extra: str = ""  # more configuration: a bridge to another broker
    acl_file: Path | None = None  # the password listener's ACL (ACL: as shipped)
    log: bool = False  # everything it does in mosquitto.log (a denied publish among it)

    def config(self) -> str:
        passwords = self.folder / "passwords"
        user = "user root\n" if os.geteuid() == 0 else ""
        c = self.certificates
        log = f"log_dest file {self.log_path}\nlog_type all\n" if self.log else ""
        return (
            f"{user}{log}per_listener_settings true\n"
            f"persistence true\npersistence_location {self.folder}/\n"
            # as docs/scale.md sets it: an ingest away must not lose what waits for it
            "max_queued_messages 0\n"
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
            f"listener {self.auth_port} 127.0.0.1\nallow_anonymous false\n"
            f"password_file {passwords}\n"
            + (f"acl_file {self.acl_file}\n" if self.acl_file else "") +
            f"listener {self.tls_port} 127.0.0.1\nallow_anonymous true\n"
            f"cafile {c['ca']}\ncertfile {c['server']}\nkeyfile {c['server_key']}\n"
            + self.extra
        )

    def start(self) -> None:
        path = self.folder / "mosquitto.conf"
        path.write_text(self.config())
        self.process = subprocess.Popen([MOSQUITTO, "-c", str(path)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def log_path(self) -> Path:
        return self.folder / "mosquitto.log"

    def add_users(self, *users: str) -> None:
        """Users of the password listener, each with its :func:`password`."""
        for user in users:
            subprocess.run(["mosquitto_passwd", "-b", str(self.folder / "passwords"), user,
                            password(user)], check=True, capture_output=True)

    def env(self, **extra: str) -> dict[str, str]:
        return {"ROLLER_MQTT_HOST": "127.0.0.1", "ROLLER_MQTT_PORT": str(self.port),
                "ROLLER_MQTT_BRIDGE_ID": "test", **extra}

    def env_as(self, user: str, **extra: str) -> dict[str, str]:
        """A roller process as ``user`` on the password listener; its bridge id is its user
        name, as the ACL wants a gateway's."""
        return self.env(ROLLER_MQTT_PORT=str(self.auth_port), ROLLER_MQTT_USERNAME=user,
                        ROLLER_MQTT_PASSWORD=password(user), ROLLER_MQTT_BRIDGE_ID=user,
                        **extra)


def retained(port: int) -> list[tuple[str, str]]:
    """Everything the broker holds retained, as a subscriber on ``port`` (a listener without
    an ACL) gets it when it subscribes."""
    fence = "roller-test/fence"
    subscriber = Subscriber(port, "#", client_id=None)
    subscriber.drain(port, fence)
    return [(topic, payload) for topic, payload in subscriber.stop() if topic != fence]


def create(folder: Path) -> Broker:
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(folder / "passwords"), "roller",
                    "s3cret"], check=True, capture_output=True)
    return Broker(folder, free_port(), free_port(), free_port(), make_certificates(folder))


class Subscriber:
    """An independent MQTT client (mosquitto_sub) recording what arrives, ``-v`` lines by
    default or in ``output_format`` (its ``-F``). Into a file, line by line: a pipe that
    nobody reads until the end fills at 64 KB and stalls it, and what its stdio buffer holds
    is lost when it is ended with SIGTERM."""

    def __init__(self, port: int, *topics: str, output_format: str | None = None,
                 client_id: str | None = "roller-test-sub", user: str | None = None) -> None:
        args = ["stdbuf", "-oL", "mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-q", "1"]
        if user:  # on the password listener
            args += ["-u", user, "-P", password(user)]
        if client_id:  # a persistent session: what arrives between two of them is kept
            args += ["-i", client_id, "-c"]
        args += ["-F", output_format] if output_format else ["-v"]
        for topic in topics:
            args += ["-t", topic]
        self.output = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 (closed by stop)
        self.process = subprocess.Popen(args, stdout=self.output, text=True)
        OPEN.append(self)
        time.sleep(0.3)

    def so_far(self) -> str:
        """What has arrived yet, as mosquitto_sub wrote it; read without moving the file's
        offset, which mosquitto_sub writes at."""
        fd = self.output.fileno()
        return os.pread(fd, os.fstat(fd).st_size, 0).decode()

    def drain(self, port: int, topic: str, timeout_s: float = 10.0) -> None:
        """Until everything the broker has routed to it so far, and what it held retained
        when this subscribed, has reached it: a fence published after it (on ``topic``,
        which this must read, from the listener at ``port``) comes after it. Published
        again until it comes, in case this had not subscribed yet."""
        fence = f"fence-{os.urandom(6).hex()}"
        deadline = time.monotonic() + timeout_s
        while fence not in self.so_far():
            assert time.monotonic() < deadline, f"the fence on {topic} never came"
            subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1",
                            "-t", topic, "-m", fence], check=True)
            until = time.monotonic() + 0.5
            while fence not in self.so_far() and time.monotonic() < until:
                time.sleep(0.02)

    def stop_text(self) -> str:
        """Everything received, as mosquitto_sub wrote it."""
        self.process.terminate()
        self.process.wait(timeout=10)
        if self in OPEN:
            OPEN.remove(self)
        self.output.seek(0)
        with self.output:
            return self.output.read()

    def close(self) -> None:
        """Ended and its file closed, unread: a test that failed before it read it."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.output.close()

    def stop(self) -> list[tuple[str, str]]:
        """(topic, payload) of everything received (``-v`` lines)."""
        return [tuple(line.split(" ", 1)) if " " in line else (line, "")  # type: ignore[misc]
                for line in self.stop_text().splitlines()]


#: Subscribers not stopped yet: the suite closes those a test leaves (tests/conftest.py).
OPEN: list[Subscriber] = []
