"""``roller ingest``: every gateway's finished sessions into one store, each exactly once.

A persistent MQTT session (clean start off, a session expiry of a day or more) keeps what
arrives while the ingest is away; with ``share`` two ingests split the load through a shared
subscription (MQTT 5). Messages are committed a batch at a time (a group commit: what has
arrived, up to :data:`BATCH`, in one transaction and one sync) and acknowledged only after
their transaction has committed, so a crash before that gets them again; taking a record is
idempotent on its session's uid (:mod:`tracker.store.exchange`), so getting it again changes
nothing. The topic is the identity: a record is the gateway's whose id is in the topic it
came on (which the broker's ACL lets only that gateway write), and one that names another
gateway is refused. A malformed, foreign or unusable message is logged once per topic,
kept in the store's quarantine (topic, reason, bytes: ``roller ingest --quarantined``) and
acknowledged, so that no message can stop the intake; a store that cannot be written stops
the ingest unacknowledged, for the service manager to restart.

Two threads: paho's network thread only hands each message over; the thread that runs
:meth:`Ingest.run` (the store's: SQLite keeps a connection to the thread that opened it)
parses, commits and acknowledges. paho-mqtt directly, not aiomqtt: the acknowledgement after
the commit needs its manual ack.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from tracker.core.formats.roller_session import RecordError, parse
from tracker.core.limits import quote, visible
from tracker.mqtt.messages import BridgeTopics
from tracker.mqtt.settings import MqttSettings
from tracker.store import exchange
from tracker.store.database import Store
from tracker.store.errors import StoreError

log = logging.getLogger(__name__)
#: How long the broker keeps this subscriber's session (and its messages) while it is away.
SESSION_EXPIRY_S = 7 * 24 * 3600
#: At most this many messages a transaction. Past about 50 the sync is a small part of each
#: message's cost, and a batch keeps its messages unacknowledged (and in memory) that long.
BATCH: Final = 50
#: How often an idle ingest looks whether it was asked to stop (s).
IDLE_S: Final = 0.2
#: Refused topics said once each, up to this many (then each refusal is said again: a
#: flood of made-up topics must not grow the set for ever).
SAID_TOPICS: Final = 1000
#: A refused topic's start, as it is said: a topic may be as long as the broker allows.
TOPIC_KEPT: Final = 256


@dataclass
class Tally:
    """What an ingest did, for its status line and its end."""

    stored: int = 0
    repeated: int = 0  # already stored: a redelivery, a replay, another ingest's
    refused: int = 0  # malformed, foreign or unusable: quarantined
    refused_topics: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class _Arrived:
    """A message as the network thread hands it over."""

    connection: int  # which connection it came on (see Ingest._ack)
    mid: int
    qos: int
    topic: str
    payload: bytes


class Ingest:
    """One subscriber; :meth:`run` until :meth:`stop` (or a store that cannot be written)."""

    def __init__(self, settings: MqttSettings, store: Store, client_id: str,
                 share: str | None = None,
                 on_stored: Callable[[Tally], None] = lambda tally: None) -> None:
        self.settings, self.store, self.on_stored = settings, store, on_stored
        self._topics = BridgeTopics(settings.base_topic, settings.discovery_prefix,
                                    settings.bridge)
        topic = self._topics.every_gateways_sessions
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
        self._client.on_disconnect = self._disconnected
        self._client.on_message = self._message
        self._stopping = threading.Event()
        # Bounded: a full queue holds the network thread, and so the broker, back (TCP's
        # own flow control) while a batch commits.
        self._arrived: queue.Queue[_Arrived] = queue.Queue(maxsize=BATCH)
        self._connection = 0
        self._acking = threading.Lock()

    def run(self) -> None:
        """Connect and take messages until stopped; reconnects by itself."""
        properties = None
        if self.settings.protocol == "5":
            properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            properties.SessionExpiryInterval = SESSION_EXPIRY_S
        self._client.connect_async(self.settings.host, self.settings.port, keepalive=30,
                                   clean_start=False, properties=properties)
        self._client.loop_start()
        try:
            while not self._stopping.is_set():
                if batch := self._batch():
                    self._take(batch)
        finally:  # after the last batch's acknowledgements, which go out first
            self._client.disconnect()
            self._client.loop_stop()

    def stop(self) -> None:
        """Stop after the batch being committed (it is acknowledged); what waits for the
        next batch is not, and the broker gives it again."""
        self._stopping.set()

    def _batch(self) -> list[_Arrived]:
        """What has arrived, up to :data:`BATCH` messages, without waiting for more: under
        load the messages that came in during the last commit, when idle one at once."""
        try:
            batch = [self._arrived.get(timeout=IDLE_S)]
        except queue.Empty:
            return []
        with contextlib.suppress(queue.Empty):
            while len(batch) < BATCH:
                batch.append(self._arrived.get_nowait())
        return batch

    def origin(self, topic: str) -> str | None:
        """The gateway whose topic this is (``<base>/bridge/<id>/session``), or None."""
        return self._topics.session_origin(topic)

    def check(self, message: _Arrived) -> exchange.Checked:
        """The message as a record its topic's gateway may send, held to what the store
        and every command can use; :class:`RecordError` saying why not."""
        try:
            record = parse(message.payload)
        except RecursionError:  # JSON nested past what Python reads
            raise RecordError("not JSON (nested too deep)") from None
        origin = self.origin(message.topic)
        if record.gateway != origin:
            raise RecordError(f"the record says gateway {quote(record.gateway)}, but came on "
                              f"{quote(origin)}'s topic")
        return exchange.check(record)

    def _take(self, batch: list[_Arrived]) -> None:
        """Check, commit in one transaction (quarantining what cannot be kept), then
        acknowledge, in the order they came."""
        checked: list[tuple[_Arrived, exchange.Checked]] = []
        refused: list[exchange.Refused] = []
        for message in batch:
            try:
                checked.append((message, self.check(message)))
            except RecordError as exc:
                refused.append(self._refuse(message, str(exc)))
            except Exception as exc:  # the checks are pure: any failure is the message's
                reason = f"cannot be read ({type(exc).__name__})"
                refused.append(self._refuse(message, reason))
        try:
            try:
                taken = exchange.take_all(self.store, [c for _, c in checked], refused)
            except Exception as exc:
                if not _records_fault(exc):
                    raise
                taken = self._one_by_one(checked, refused)
        except StoreError as exc:  # unacknowledged: the broker gives them again
            self.failure = f"the store cannot be written: {exc}"
            log.error("%s; stopping with %d message(s) unacknowledged", self.failure,
                      len(batch))
            self.stop()
            return
        stored = sum(session_id is not None for session_id in taken)
        self.tally.stored += stored
        self.tally.repeated += len(taken) - stored
        self.tally.refused += len(batch) - len(taken)
        self.on_stored(self.tally)
        self._ack(batch)

    def _one_by_one(self, checked: list[tuple[_Arrived, exchange.Checked]],
                    refused: list[exchange.Refused]) -> list[int | None]:
        """A batch the store refused for one record's values (the checks let it through):
        each taken alone, the one the store will not take quarantined with the rest."""
        taken: list[int | None] = []
        for message, one in checked:
            try:
                taken += exchange.take_all(self.store, [one])
            except Exception as exc:
                if not _records_fault(exc):
                    raise
                refused.append(self._refuse(message, f"the store refused it: {exc}"[:200]))
        exchange.take_all(self.store, [], refused)
        return taken

    def _refuse(self, message: _Arrived, reason: str) -> exchange.Refused:
        """Said once a topic (a gateway repeating itself is one line), kept each time."""
        if message.topic not in self.tally.refused_topics:
            if len(self.tally.refused_topics) < SAID_TOPICS:
                self.tally.refused_topics.add(message.topic)
            log.warning("%s: quarantined a message that is not a session record it may "
                        "send: %s", visible(message.topic[:TOPIC_KEPT]), reason)
        return exchange.Refused(message.topic, reason, message.payload)

    def _ack(self, batch: list[_Arrived]) -> None:
        """Acknowledge what came on the connection still open. A message from an earlier
        connection is not: its packet id may name another message on this one, which would
        then be acknowledged unstored; the broker gives it again, and it is taken as
        already stored."""
        with self._acking:
            for message in batch:
                if message.connection == self._connection:
                    self._client.ack(message.mid, message.qos)

    def _connected(self, client: paho.Client, _: object, flags: paho.ConnectFlags,
                   reason: ReasonCode, __: object) -> None:
        if reason.is_failure:
            log.warning("the broker refused the ingest: %s", reason)
            return
        log.info("ingest connected (session %s); subscribing to %s",
                 "resumed" if flags.session_present else "new", self.topic)
        client.subscribe(self.topic, qos=1)

    def _disconnected(self, *_: object) -> None:
        """Before paho reconnects (which drops the acknowledgements not yet sent)."""
        with self._acking:
            self._connection += 1

    def _message(self, _: paho.Client, __: object, message: paho.MQTTMessage) -> None:
        arrived = _Arrived(self._connection, message.mid, message.qos, message.topic,
                           bytes(message.payload))
        while not self._stopping.is_set():  # else dropped: unacknowledged, given again
            with contextlib.suppress(queue.Full):
                self._arrived.put(arrived, timeout=IDLE_S)
                return


def _records_fault(exc: BaseException) -> bool:
    """Whether the store refused a record's values (a constraint, a number SQLite cannot
    hold), not the store itself (its disk, its lock): only the first is quarantined."""
    if isinstance(exc, StoreError):
        exc = exc.__context__ or exc
    return isinstance(exc, sqlite3.IntegrityError | sqlite3.InterfaceError | sqlite3.DataError
                      | OverflowError | TypeError | ValueError) and not isinstance(
                          exc, StoreError)
