"""``roller ingest``: every gateway's finished sessions into one store, each exactly once.

A persistent MQTT session (clean start off, a session expiry of a day or more) keeps what
arrives while the ingest is away; with ``share`` two ingests split the load through a shared
subscription (MQTT 5). A message is acknowledged only after its transaction has committed,
so a crash before that gets it again; taking a record is idempotent on its session's uid
(:mod:`tracker.store.exchange`), so getting it again changes nothing. A malformed or foreign
message is logged once per topic and acknowledged (skipped), never stored; a store that
cannot be written stops the ingest unacknowledged, for the service manager to restart.

paho-mqtt directly, not aiomqtt: the acknowledgement after the commit needs its manual ack.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from tracker.core.formats.roller_session import RecordError, parse
from tracker.mqtt.messages import BridgeTopics
from tracker.mqtt.settings import MqttSettings
from tracker.store import exchange
from tracker.store.database import Store
from tracker.store.errors import StoreError

log = logging.getLogger(__name__)
#: How long the broker keeps this subscriber's session (and its messages) while it is away.
SESSION_EXPIRY_S = 7 * 24 * 3600


@dataclass
class Tally:
    """What an ingest did, for its status line and its end."""

    stored: int = 0
    repeated: int = 0  # already stored: a redelivery, a replay, another ingest's
    refused: int = 0  # malformed or foreign
    refused_topics: set[str] = field(default_factory=set)


class Ingest:
    """One subscriber; :meth:`run` until :meth:`stop` (or a store that cannot be written)."""

    def __init__(self, settings: MqttSettings, store: Store, client_id: str,
                 share: str | None = None,
                 on_stored: Callable[[Tally], None] = lambda tally: None) -> None:
        self.settings, self.store, self.on_stored = settings, store, on_stored
        topic = BridgeTopics(settings.base_topic, settings.discovery_prefix,
                             settings.bridge).every_gateways_sessions
        self.topic = f"$share/{share}/{topic}" if share else topic
        self.tally = Tally()
        self.failure: str | None = None
        v5 = settings.protocol == "5"
        self._client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id,
            protocol=paho.MQTTv5 if v5 else paho.MQTTv311,
            clean_session=None if v5 else False, manual_ack=True)
        if settings.username:
            self._client.username_pw_set(settings.username, settings.secret())
        if (context := settings.tls_context()) is not None:
            self._client.tls_set_context(context)
            self._client.tls_insecure_set(settings.insecure)
        self._client.on_connect = self._connected
        self._client.on_message = self._message
        self._stopping = threading.Event()

    def run(self) -> None:
        """Connect and take messages until stopped; reconnects by itself."""
        properties = None
        if self.settings.protocol == "5":
            properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            properties.SessionExpiryInterval = SESSION_EXPIRY_S
        self._client.connect_async(self.settings.host, self.settings.port, keepalive=30,
                                   clean_start=False, properties=properties)
        self._client.loop_forever(retry_first_connection=True)

    def stop(self) -> None:
        self._stopping.set()
        self._client.disconnect()

    def _connected(self, client: paho.Client, _: object, flags: paho.ConnectFlags,
                   reason: ReasonCode, __: object) -> None:
        if reason.is_failure:
            log.warning("the broker refused the ingest: %s", reason)
            return
        log.info("ingest connected (session %s); subscribing to %s",
                 "resumed" if flags.session_present else "new", self.topic)
        client.subscribe(self.topic, qos=1)

    def _message(self, client: paho.Client, _: object, message: paho.MQTTMessage) -> None:
        try:
            record = parse(bytes(message.payload))
            stored = exchange.take(self.store, record)
        except RecordError as exc:
            self.tally.refused += 1
            if message.topic not in self.tally.refused_topics:  # once a topic
                self.tally.refused_topics.add(message.topic)
                log.warning("%s: skipped a message that is not a session record: %s",
                            message.topic, exc)
        except StoreError as exc:  # unacknowledged: the broker gives it again
            self.failure = f"the store cannot be written: {exc}"
            log.error("%s; stopping with the message unacknowledged", self.failure)
            self.stop()
            return
        else:
            if stored is None:
                self.tally.repeated += 1
            else:
                self.tally.stored += 1
            self.on_stored(self.tally)
        client.ack(message.mid, message.qos)
