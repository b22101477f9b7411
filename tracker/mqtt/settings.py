"""``[mqtt]`` settings: the broker, credentials and TLS; kept apart from the bridge so that
commands that never publish do not import an MQTT client (nor ``ssl``, until a TLS context is
made, nor ``socket`` until this machine's name is: every command reads these settings)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from tracker.core.errors import InputError
from tracker.core.limits import check_ranges, quote
from tracker.files import read_text, regular_file

#: A password file holds one line: anything near this is another file.
PASSWORD_MAX_BYTES = 64 * 1024

if TYPE_CHECKING:
    import ssl


class MqttConfigError(InputError):
    """MQTT settings that cannot work, said in one line."""


@dataclass(frozen=True)
class MqttSettings:
    """``[mqtt]`` in the configuration file."""

    host: str = ""
    port: int = 1883
    protocol: str = "3.1.1"
    base_topic: str = "roller"
    discovery_prefix: str = "homeassistant"
    discovery: bool = True
    live: bool = False
    username: str = ""
    password: str = ""
    password_file: str = ""
    #: A systemd credential holding the password, read from ``$CREDENTIALS_DIRECTORY``: a
    #: service that runs as a user of its own (``DynamicUser``) cannot read a root-only file,
    #: but systemd hands it a copy only it can read (``LoadCredential=NAME:FILE``).
    password_credential: str = ""
    tls: bool = False
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    insecure: bool = False
    client_id: str = ""
    bridge_id: str = ""
    publish_sessions: bool = False
    publish_raw: bool = False
    outbox_max_events: int = 10000
    outbox_max_age_days: float = 30.0
    replay_per_s: float = 200.0
    entity_ids: str = "roller"
    permit_join_s: float = 120.0
    #: ``$CREDENTIALS_DIRECTORY`` of this process (not a key of the file): where systemd put
    #: the service's credentials; empty when it was not started with any.
    credentials_directory: str = ""

    def __post_init__(self) -> None:
        if self.protocol not in ("3.1.1", "5"):
            raise ValueError(f"[mqtt] protocol must be \"3.1.1\" or \"5\", not "
                             f"{quote(self.protocol)}")
        if self.entity_ids not in ("roller", "home_assistant"):
            raise ValueError(f"[mqtt] entity_ids must be \"roller\" or \"home_assistant\", not "
                             f"{quote(self.entity_ids)}")
        check_ranges("mqtt", self, {"port": (1, 65535), "outbox_max_events": (1, 10**7),
                                    "outbox_max_age_days": (0.01, 3650),
                                    "replay_per_s": (0.1, 10**6),
                                    "permit_join_s": (1, 3600)})
        for key in ("base_topic", "discovery_prefix"):
            topic = getattr(self, key)
            if not topic or len(topic) > 100 or any(c in topic for c in "+#\0") \
                    or topic.startswith(("/", "$")) or topic.endswith("/"):
                raise ValueError(f"[mqtt] {key} must be 1 to 100 characters without + # or a "
                                 "leading $ or slash, nor a trailing slash")
        if len(self.client_id) > 100 or not self.client_id.isprintable():
            raise ValueError("[mqtt] client_id must be at most 100 printable characters")
        name = self.password_credential
        if name and (len(name) > 255 or "/" in name or name in (".", "..")
                     or not name.isprintable()):
            raise ValueError(f"[mqtt] password_credential must be a credential's name as in "
                             f"LoadCredential=NAME:FILE (no slash), not {quote(name)}")
        if self.bridge_id and not re.fullmatch(r"[a-z0-9_-]{1,64}", self.bridge_id):
            raise ValueError(f"[mqtt] bridge_id must be 1 to 64 of a-z 0-9 _ -, not "
                             f"{quote(self.bridge_id)}")

    @property
    def bridge(self) -> str:
        """This store's bridge in topics and Home Assistant: ``bridge_id``, else the host's
        name (lower case, topic-safe)."""
        return self.bridge_id or re.sub(r"[^a-z0-9_-]", "", _host().lower())[
            :64] or "roller"

    def client_id_for(self, role: str) -> str:
        """Every process its own client id (``roller-<host>-gateway-<pid>``): a broker
        disconnects a client when another connects with the same id, so a command run beside
        the gateway would knock it off and fire its will."""
        prefix = self.client_id or f"roller-{_host()}"
        return f"{prefix}-{role}-{os.getpid()}"

    def stable_client_id(self, name: str) -> str:
        """The same client id every time (``roller-<host>-<name>``): what a persistent MQTT
        session is kept under while its subscriber is away."""
        return f"{self.client_id or f'roller-{_host()}'}-{name}"

    @property
    def enabled(self) -> bool:
        return bool(self.host)

    def check(self) -> None:
        """Read the password file and TLS files now: a session must not find out later."""
        if self.enabled:
            self.secret()
            self.tls_context()

    def secret(self) -> str | None:
        """The broker's password: the systemd credential where systemd passed credentials,
        else the password file, else the password itself (None: none)."""
        if self.password_credential and (self.credentials_directory or not self.password_file):
            where = f"[mqtt] password_credential {quote(self.password_credential)}"
            if not self.credentials_directory:
                raise MqttConfigError(
                    f"{where}: $CREDENTIALS_DIRECTORY is not set (systemd sets it for a service "
                    f"with LoadCredential={self.password_credential}:FILE; run by hand, name "
                    "the file in [mqtt] password_file as well)")
            path = Path(self.credentials_directory) / self.password_credential
            return _first_line(path, f"{where} ({path})")
        if self.password_file:
            return _first_line(Path(self.password_file),
                               f"[mqtt] password_file {self.password_file}")
        return self.password or None

    def summary(self) -> str:
        """Where the broker is and how roller signs in, never the password itself: for the
        gateway's start-up line."""
        if not self.enabled:
            return "none ([mqtt] host is empty)"
        said = [f"{self.host}:{self.port}", "TLS" if self.tls or self.ca_file else "no TLS"]
        if self.username:
            said.append(f"user {self.username}")
        if self.password_credential and (self.credentials_directory or not self.password_file):
            said.append(f"password from credential {self.password_credential}")
        elif self.password_file:
            said.append(f"password from {self.password_file}")
        elif self.password:
            said.append("password set")
        return ", ".join(said)

    def tls_context(self) -> ssl.SSLContext | None:
        if not (self.tls or self.ca_file):
            return None
        import ssl

        for key, name in (("ca_file", self.ca_file), ("cert_file", self.cert_file),
                          ("key_file", self.key_file)):
            if name:  # ssl opens them itself: a FIFO would block it, a directory say errno 21
                regular_file(name, partial(_said, f"[mqtt] {key} {name}"))
        try:
            context = ssl.create_default_context(cafile=self.ca_file or None)
            if self.cert_file:
                context.load_cert_chain(self.cert_file, self.key_file or None)
        except (OSError, ssl.SSLError, ValueError) as exc:
            raise MqttConfigError(f"[mqtt] TLS files: {exc}") from None
        if self.insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


def _said(where: str, why: str) -> MqttConfigError:
    return MqttConfigError(f"{where}: {why}")


def _first_line(path: Path, where: str) -> str:
    """The first line of a password file (or credential), or one line saying why not."""
    lines = read_text(path, lambda why: MqttConfigError(f"{where}: {why}"),
                      limit=PASSWORD_MAX_BYTES).splitlines()
    if not lines or not lines[0]:
        raise MqttConfigError(f"{where}: empty")
    if any((ord(c) < 32 and c != "\t") or c == "\x7f" for c in lines[0]):  # binary, yet UTF-8
        raise MqttConfigError(f"{where}: its first line is not printable text; is it the "
                              "password file?")
    return lines[0]


def _host() -> str:
    """This machine's name."""
    import socket

    return socket.gethostname()
