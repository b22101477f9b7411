"""The MQTT bridge's connection: reconnects, will, announcements, the outbox, commands, midnight.

Home Assistant splits its MQTT integration into the client, the discovery and the entities,
and so does the bridge. This is the client: it reads the store, follows the live sessions
and sends, in order; :mod:`~tracker.mqtt.state` builds each state payload from what it read,
:mod:`~tracker.mqtt.discovery` announces the devices and their entities.

One asyncio task on the program's loop (aiomqtt, no thread) publishes any number of rollers
(``roller gateway`` all it watches, ``roller track`` its one). Each connection attempt gets
a fresh client, so paho's in-memory queue never re-sends what the outbox replays; events are
marked sent only after the broker's PUBACK (a QoS 1 publish returns then). Reconnects back
off exponentially with jitter, 1-60 s.

Exactly one process per store *owns* the bridge (whichever holds its lock): it alone
publishes the bridge's state (``offline`` is its last will), its device, and the outbox, so
no event goes out twice. A process beside it is a *guest*: it publishes its own roller's
state, and its will takes only that roller offline; its events go out through the owner,
which looks at the outbox every second.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import random
import socket
import sqlite3
from collections.abc import Callable, Coroutine
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiomqtt

from tracker.core import clock
from tracker.core.alert_rules import AlertRules
from tracker.core.alerts import idle
from tracker.core.estimate import LiveState
from tracker.core.formats import roller_session as records
from tracker.core.people import Person
from tracker.core.schedule import Rules, WeekStatus, week_status
from tracker.core.status import Identity, Status
from tracker.mqtt.channel import Channel
from tracker.mqtt.discovery import Discovery
from tracker.mqtt.messages import (
    BridgeTopics,
    Command,
    CommandError,
    encode,
    parse_bridge_command,
    parse_command,
    roller_name,
)
from tracker.mqtt.settings import MqttConfigError, MqttSettings
from tracker.mqtt.state import (
    IDLE,
    bridge_info,
    live_position,
    live_values,
    person_state,
    roller_state,
    urgent,
)
from tracker.store import clinician, exchange
from tracker.store.database import Store
from tracker.store.errors import DamagedSession, StoreError, UnknownSession
from tracker.store.outbox import RECORD
from tracker.store.rows import SessionRow

log = logging.getLogger(__name__)


def explain(exc: Exception, settings: MqttSettings) -> str:
    """One line for what goes wrong with brokers: credentials, names, TLS, nobody there."""
    text = str(exc)
    where = f"{settings.host}:{settings.port}"
    if "ot authorized" in text or "bad user name or password" in text.lower() or \
            "code:5" in text or "code:4" in text or "Bad username" in text:
        return f"MQTT broker {where} refused the credentials (check [mqtt] username/password)"
    if "CERTIFICATE_VERIFY_FAILED" in text or "SSL" in text or "certificate" in text:
        return f"MQTT TLS with {where} failed: {text} (check [mqtt] ca_file)"
    if any(hint in text for hint in ("Name or service not known", "nodename nor servname",
                                     "getaddrinfo", "name resolution")):
        return f"MQTT broker host {settings.host!r} is unknown"
    if "refused" in text.lower() or "timed out" in text.lower():
        return f"MQTT broker {where} is not answering ({text})"
    return f"MQTT broker {where}: {text or type(exc).__name__}"


#: Home Assistant's birth messages are answered at most once in this long (s).
BIRTH_QUIET_S = 60.0
#: The owner looks for events other processes queued this often (s).
OUTBOX_POLL_S = 1.0
#: State is published at most this often per roller (s), unless urgent.
STATE_EVERY_S = 1.0
#: How often the day is looked at (s), so the schedule's entities turn over at midnight.
TICK_S = 30.0
#: An event waits at most this long (s) for Home Assistant to hold its roller available and
#: listen to it; then it goes anyway rather than hold every event behind it.
HEARD_WAIT_S = 5.0
#: How long the bridge's tasks are cancelled again and again before they are left behind (s).
CANCEL_WAIT_S = 5.0


async def cancelled(tasks: list[asyncio.Task[Any]]) -> None:
    """Cancel ``tasks`` and wait until each has ended, cancelling again any that lives on.

    On Python 3.11 a cancellation that meets a finishing ``asyncio.wait_for`` is swallowed
    (cpython gh-86296), and aiomqtt's ``publish`` awaits its PUBACK through one: a state
    loop cancelled just as its PUBACK came went back to waiting for the next change, and
    the bridge never signed off."""
    for task in tasks:
        task.cancel()
    deadline = asyncio.get_running_loop().time() + CANCEL_WAIT_S
    while pending := [t for t in tasks if not t.done()]:
        if asyncio.get_running_loop().time() > deadline:  # never to end: not waited for
            log.warning("%d task(s) of the bridge would not end: left behind", len(pending))
            return
        await asyncio.wait(pending, timeout=0.1)
        for task in pending:
            task.cancel()
    for task in tasks:  # retrieved, so none is logged as never retrieved
        if not task.cancelled():
            task.exception()


class Bridge:
    """Publishes the store's outbox and its rollers' state to one broker, for as long as it
    runs; never stops tracking when the broker is away."""

    def __init__(self, settings: MqttSettings, store: Store, rules: Rules, zone: str, *,
                 owner: bool, client_id: str, alerts: AlertRules | None = None,
                 now: Callable[[], datetime] = clock.now, tick_s: float = TICK_S) -> None:
        self.settings, self.store, self.rules, self.zone = settings, store, rules, zone
        self.alerts = alerts or AlertRules()
        self.owner, self.client_id = owner, client_id
        #: Takes a checked command for a watched roller (the gateway's, a session's end).
        self.on_command: Callable[[str, Command], None] | None = None
        #: Told when pairing opens (True) and closes (False): the gateway pairs what it
        #: hears meanwhile. None: nothing here can pair, and the button is refused.
        self.on_permit_join: Callable[[bool], None] | None = None
        self._permit_join_until: float | None = None  # loop time pairing closes
        self.now, self.tick_s = now, tick_s
        self.topics = BridgeTopics(settings.base_topic, settings.discovery_prefix,
                                   settings.bridge)
        self.discovery = Discovery(settings, self.topics, store.outbox)
        self.channels: dict[str, Channel] = {}
        self.connected = False
        self.last_error: str | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._doorbell = asyncio.Event()
        self._draining = asyncio.Lock()  # one drain at a time: no event goes out twice
        self._connected_at = clock.now()
        self._client: aiomqtt.Client | None = None
        self._dirty = asyncio.Event()
        self._info_dirty = True
        self._people_dirty = True  # every person's week, again (a session ended, a new day)
        self._births = asyncio.Event()  # Home Assistant said it (re)started
        if owner:
            store.outbox.on_queued = self.ring

    # -- what the rest of the program tells the bridge --------------------------------

    def watch(self, address: str, identity: Identity | None = None, **state: Any) -> Channel:
        """Publish ``address`` from now on: available, with ``state`` (idle values)."""
        seen = self.store.devices.seen(address)
        channel = Channel(address, self.topics.roller(address), identity,
                          {"last_seen": seen[1]} | dict(state), label=seen[0])
        self.channels[address] = channel
        self._info_dirty = True
        self._mark(channel, urgent=True)
        self._spawn(self._rediscover(channel))
        return channel

    def ring(self) -> None:
        """New events in the outbox."""
        self._doorbell.set()

    def update(self, address: str, urgent: bool = False, **state: Any) -> None:
        """A roller's live state changed (region, lumbar contact, ...); urgent skips the
        throttle."""
        channel = self.channels[address]
        if any(channel.live.get(k) != v for k, v in state.items()):
            if "connected" in state and state["connected"] != channel.live.get("connected"):
                self._info_dirty = True
            channel.live.update(state)
            self._mark(channel, urgent)

    @property
    def client(self) -> aiomqtt.Client | None:
        """The connected client, while connected."""
        return self._client

    def describe(self) -> str:
        """``connected``, or ``offline, N queued``: for status lines."""
        return "connected" if self.connected else f"offline, {self.store.outbox.count()} queued"

    def follow(self, address: str, status: Status) -> None:
        """Mirror a live session's status: the link, state, the live topic; and who the
        device turned out to be, when that is news to Home Assistant."""
        channel = self.channels[address]
        if status.identity is not None and status.identity != channel.identity:
            channel.identity = status.identity
            self._spawn(self._rediscover(channel))
        values = live_values(status)
        if status.link == "live":  # heard now: to the minute, so it changes once a minute
            values["last_seen"] = self.now().replace(second=0, microsecond=0).isoformat()
        self.update(address, urgent=urgent(channel.live, values), **values)
        if status.recording and status.state and self.settings.live and \
                self._client is not None:  # at most twice a second
            self._spawn(self.publish_live(channel, status.state))

    def session_over(self, address: str) -> None:
        """Idle values: no session, no region, no lumbar contact or caution."""
        self.update(address, urgent=True, **IDLE)

    def _mark(self, channel: Channel, urgent: bool = False) -> None:
        channel.dirty = True
        channel.urgent = channel.urgent or urgent
        self._dirty.set()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            task = asyncio.get_running_loop().create_task(work)
        except RuntimeError:  # no loop yet: the connection's announcement does it
            work.close()
            return
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- the connection loop ---------------------------------------------------------

    def _will(self) -> aiomqtt.Will | None:
        if self.owner:
            return aiomqtt.Will(self.topics.state, "offline", qos=1, retain=True)
        if self.channels:  # a guest's one roller
            channel = next(iter(self.channels.values()))
            return aiomqtt.Will(channel.topics.availability, "offline", qos=1, retain=True)
        return None

    def _client_for_attempt(self, will: bool = True) -> aiomqtt.Client:
        s = self.settings
        return aiomqtt.Client(
            s.host, s.port, username=s.username or None, password=s.secret(),
            identifier=self.client_id,
            protocol=aiomqtt.ProtocolVersion.V5 if s.protocol == "5"
            else aiomqtt.ProtocolVersion.V311,
            will=self._will() if will else None, tls_context=s.tls_context(),
            tls_insecure=s.insecure or None, timeout=10, keepalive=30,
        )

    async def run(self, stop: asyncio.Event, once: bool = False) -> None:
        """Connect, publish, reconnect with backoff; until ``stop``. ``once``: raise the
        first connection error instead of retrying (for ``roller mqtt`` commands)."""
        delay = 1.0
        where = f"{self.settings.host}:{self.settings.port}"
        while not stop.is_set():
            try:
                async with self._client_for_attempt() as client:
                    if self.owner:  # before anything is announced (a roller watched now is)
                        await self.discovery.move_from_0x(client)
                    self._client, self.connected, self.last_error = client, True, None
                    self._connected_at = clock.now()
                    log.info("connected to the broker %s as %s", where, self.client_id)
                    self.discovery.reset_rollers(self.channels.values())
                    for channel in self.channels.values():
                        channel.online = False
                    delay = 1.0
                    await self._serve(client, stop)
                    await self._sign_off(client)
                    return
            except aiomqtt.MqttError as exc:
                self.last_error = explain(exc, self.settings)
                if once:
                    raise MqttConfigError(self.last_error) from None
                wait = delay * random.uniform(0.5, 1.0)
                if self.connected:  # it was there: say so, as the gateways people know do
                    log.warning("lost the broker %s (%s), retrying in %d s", where,
                                exc or type(exc).__name__, math.ceil(wait))
                else:
                    log.warning("%s; retrying in %d s", self.last_error, math.ceil(wait))
            except (StoreError, sqlite3.Error) as exc:  # busy or failing store: try again
                self.last_error = f"the store: {exc}"
                wait = delay * random.uniform(0.5, 1.0)
                log.warning("MQTT bridge paused by %s; retrying in %d s", self.last_error,
                            math.ceil(wait))
            finally:
                self._client, self.connected = None, False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)
            delay = min(60.0, delay * 2)

    async def send_queued(self, since: datetime) -> int:
        """Connect once, send the outbox, leave: no will, no state, no announcement (a
        command that queued an event and ends). Events queued from ``since`` on are new."""
        try:
            async with self._client_for_attempt(will=False) as client:
                if self.owner:  # 0.x's topics first, as on every owner's connect
                    await self.discovery.move_from_0x(client)
                # The outbox keeps times to the millisecond.
                self._connected_at = since.replace(microsecond=since.microsecond // 1000 * 1000)
                for channel in self.channels.values():  # it is heard, so say it is there
                    await self.discovery.roller(client, channel)
                    await self._publish_state(client, channel)
                sent = await self.drain(client)
                for channel in self.channels.values():  # and nothing watches it after this
                    await client.publish(channel.topics.availability, "offline", qos=1,
                                         retain=True)
                return sent
        except aiomqtt.MqttError as exc:
            raise MqttConfigError(explain(exc, self.settings)) from None

    async def _serve(self, client: aiomqtt.Client, stop: asyncio.Event) -> None:
        await client.subscribe(self.topics.ha_status, qos=1)
        # Commands: the owner takes every roller's, a guest its own.
        for topic in [self.topics.commands, self.topics.command("+")] if self.owner else \
                [c.topics.command("+") for c in self.channels.values()]:
            await client.subscribe(topic, qos=1)
        await self._announce(client)
        work = [self._state_forever(client), self._listen(client), self._days_forever(),
                self._answer_births(client)]
        if self.owner:
            work.append(self._drain_forever(client))
        tasks = [asyncio.create_task(w) for w in work]
        stopper = asyncio.create_task(stop.wait())
        try:
            done, _ = await asyncio.wait({*tasks, stopper}, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not stopper and task.exception():
                    raise task.exception()  # type: ignore[misc]
            if self.owner:
                await self.drain(client)  # what the sessions' ends queued goes out first
        finally:
            await cancelled([*tasks, stopper])

    async def _sign_off(self, client: aiomqtt.Client) -> None:
        """The final states (a state update still in flight was cancelled, so none can land
        after these and undo "the session is over"), then nobody watches the rollers."""
        for channel in self.channels.values():
            await self._publish_state(client, channel, available=False)
        if self.owner:  # each person's week with the sessions just ended
            await self.publish_people(client)
            await client.publish(self.topics.state, "offline", qos=1, retain=True)

    async def _announce(self, client: aiomqtt.Client) -> None:
        """Each roller's true state, then the bridge online, its info and device, each
        roller's discovery and state: on every connect, and after Home Assistant restarts.

        The states go first: after a crash the broker still holds the old ones retained
        (a session active, a lumbar contact), and the bridge coming online would make Home
        Assistant show them until the next state went out."""
        for channel in list(self.channels.values()):
            await self._publish_state(client, channel)
        if self.owner:
            await client.publish(self.topics.state, "online", qos=1, retain=True)
            await self._publish_info(client)
            await self.discovery.bridge(client)
            self.discovery.reset_people()  # each person's again, on this connection
            self._people_dirty = True
        for channel in list(self.channels.values()):
            await self.discovery.roller(client, channel)
            self._mark(channel, urgent=True)

    async def _rediscover(self, channel: Channel) -> None:
        if self._client is not None:
            with contextlib.suppress(aiomqtt.MqttError):
                await self.discovery.roller(self._client, channel)

    async def _listen(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            topic = str(message.topic)
            if topic == self.topics.ha_status:
                if message.payload == b"online":
                    self._births.set()
            else:
                self._command(topic, message.payload, message.retain)

    def _command(self, topic: str, payload: Any, retained: bool) -> None:
        """A command from Home Assistant: taken, or one warning and ignored; it never ends
        the bridge or a session. A roller's name and the bridge's pairing are the bridge's
        own; the rest go to whoever runs the rollers (:attr:`on_command`)."""
        try:
            if retained:  # would act again on every reconnect
                raise CommandError(f"{topic}: a retained command is not taken")
            if topic.startswith(self.topics.command("")):
                self._bridge_command(parse_bridge_command(self.topics, topic,
                                                          bytes(payload or b"")))
                return
            command = parse_command(self.topics, topic, bytes(payload or b""))
            channel = next((c for c in self.channels.values()
                            if c.topics.device == command.device), None)
            if channel is None or (self.on_command is None and command.what != "name"):
                raise CommandError(f"{topic}: no roller {command.device} is watched here")
        except CommandError as exc:
            log.warning("ignored a command: %s", exc)
            return
        log.info("command for %s: %s %s", channel.address, command.what, command.value)
        if command.what == "name":
            self.rename(channel.address, command.value)
        elif self.on_command is not None:
            self.on_command(channel.address, command)

    def rename(self, address: str, label: str) -> None:
        """A roller named by its owner (from Home Assistant): kept in the store, and its
        device renamed in Home Assistant."""
        try:
            self.store.devices.rename(address, label)
        except (StoreError, sqlite3.Error) as exc:
            log.warning("%s: not renamed: %s", address, exc)
            return
        self._relabel(self.channels[address], label)

    def _relabel(self, channel: Channel, label: str | None) -> None:
        channel.label = label
        self._mark(channel, urgent=True)
        self._spawn(self._rediscover(channel))

    def _bridge_command(self, command: Command) -> None:
        """The bridge's pairing button (``permit_join``): open for ``permit_join_s``, or
        closed at once."""
        if command.what == "permit_join":
            if command.value == "STOP":
                self.permit_join(False)
            elif self.on_permit_join is None:
                log.warning("ignored a command: pairing needs roller gateway")
            else:
                self.permit_join(True)

    @property
    def permit_join_open(self) -> bool:
        """Whether the gateway pairs new rollers it hears now."""
        return self._permit_join_until is not None

    def permit_join(self, open_: bool) -> None:
        """Open pairing for ``[mqtt] permit_join_s`` (again from now, if open already), or
        close it; the gateway is told, and Home Assistant by the bridge's info."""
        loop = asyncio.get_running_loop()
        was = self.permit_join_open
        self._permit_join_until = loop.time() + self.settings.permit_join_s if open_ else None
        if open_:
            log.info("pairing new rollers for %.0f s", self.settings.permit_join_s)
            self._spawn(self._close_pairing())
        elif was:
            log.info("pairing closed")
        if open_ != was:
            self._info_dirty = True
            self._dirty.set()
            if self.on_permit_join is not None:
                self.on_permit_join(open_)

    async def _close_pairing(self) -> None:
        """Pairing closes by itself once its time is up (a later press extends it)."""
        loop = asyncio.get_running_loop()
        while (until := self._permit_join_until) is not None and loop.time() < until:
            await asyncio.sleep(until - loop.time())
        if self._permit_join_until is not None:
            self.permit_join(False)

    async def _answer_births(self, client: aiomqtt.Client) -> None:
        """Home Assistant's birth message: announce again 1-5 s later (it restarted). A flood
        of them is answered at most once every :data:`BIRTH_QUIET_S`."""
        while True:
            await self._births.wait()
            await asyncio.sleep(random.uniform(1.0, 5.0))
            self._births.clear()
            self.discovery.reset_rollers(self.channels.values())
            await self._announce(client)
            await asyncio.sleep(BIRTH_QUIET_S)

    async def _days_forever(self) -> None:
        """Every roller's state again when the local day turns (and so the week): the
        schedule's entities change at midnight with no session needed."""
        zone = ZoneInfo(self.zone)

        def today() -> date:
            return self.now().astimezone(zone).date()

        day = today()
        while True:
            now = self.now().astimezone(zone)
            midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(),
                                        zone)
            await asyncio.sleep(min(self.tick_s, (midnight - now).total_seconds() + 0.5))
            if (new := today()) != day:
                day = new
                log.info("a new day (%s): the schedule's state again", day)
                self._people_dirty = True
                for channel in self.channels.values():
                    self._mark(channel, urgent=True)

    async def _drain_forever(self, client: aiomqtt.Client) -> None:
        while True:
            self._doorbell.clear()
            if await self.drain(client):
                self._info_dirty = self._people_dirty = True
                self._dirty.set()
            elif self.settings.discovery and \
                    self.discovery.people_changed(self.store.people.all()):  # roller people ...
                self._people_dirty = True
                self._dirty.set()
            self._relabelled()
            # Others' events, too. Not wait_for: on Python 3.11 it swallows a cancellation
            # that meets the doorbell ringing, and the bridge would never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(OUTBOX_POLL_S):
                    await self._doorbell.wait()

    def _relabelled(self) -> None:
        """Rollers renamed by another process (``roller devices rename``) since: renamed in
        Home Assistant too."""
        labels = self.store.devices.labels()
        for channel in self.channels.values():
            if (label := labels.get(channel.address)) != channel.label:
                self._relabel(channel, label)

    async def drain(self, client: aiomqtt.Client) -> int:
        """Publish queued events in order, each marked sent after its PUBACK. An event queued
        before this connection began waited for the broker: it goes out ``replayed``."""
        async with self._draining:
            return await self._drain(client)

    async def _drain(self, client: aiomqtt.Client) -> int:
        s = self.settings
        self.store.outbox.trim(s.outbox_max_events, timedelta(days=s.outbox_max_age_days),
                               clock.now())
        sent = 0
        while batch := self.store.outbox.pending(100):
            for row in batch:
                try:
                    topic, payload, replayed, channel = self._message(row)
                except (ValueError, KeyError, TypeError, DamagedSession, UnknownSession) as exc:
                    # Never sendable: dropped, said, and the queue behind it goes on.
                    log.warning("outbox entry %d (%s) cannot be sent: %s; dropped", row["id"],
                                row["kind"], exc)
                    self.store.outbox.mark_sent(row["id"], clock.now())
                    continue
                await self._heard(channel)
                await client.publish(topic, payload, qos=1, retain=False)
                self.store.outbox.mark_sent(row["id"], clock.now())
                sent += 1
                if replayed:  # at most replay_per_s a second
                    await asyncio.sleep(1.0 / s.replay_per_s)
        return sent

    async def _heard(self, channel: Channel | None) -> None:
        """Until Home Assistant listens to a roller's topics and holds it available: its
        discovery settled and its availability said on this connection. An event sent
        sooner is lost to it (a new roller's first ``session_started``, a refusal). A device
        that has never said who it is has no discovery to wait for."""
        if channel is None:
            return
        loop = asyncio.get_running_loop()
        until = loop.time() + HEARD_WAIT_S
        while (wait := self.discovery.settling(channel) if channel.identity else 0.0) > 0 \
                or not channel.online:  # (a device never said who it is has no discovery)
            if loop.time() >= until:
                log.warning("%s: its events go out although Home Assistant may not hear "
                            "them yet (no discovery or availability within %.0f s)",
                            channel.address, HEARD_WAIT_S)
                return
            await asyncio.sleep(min(max(wait, 0.05), until - loop.time()))

    def _message(self, row: dict[str, Any]) -> tuple[str, bytes, bool, Channel | None]:
        """An outbox entry as what goes out: its topic, payload, whether it waited for this
        connection, and its roller's channel. An event's stored payload gains ``replayed``;
        a session's record is built now (a session deleted since is an error)."""
        replayed = datetime.fromisoformat(row["created_at"]) < self._connected_at
        if row["kind"] == RECORD:
            rec = exchange.record(self.store, int(row["session_id"]), self.settings.bridge,
                                  self.settings.publish_raw)
            return self.topics.sessions, records.encode(rec), False, None
        payload = json.loads(row["payload"])
        payload["replayed"] = replayed
        address, uid = payload.pop("device", None), payload.pop("person", None)
        if address is None and uid is not None:  # a person's own alert
            return self.topics.person(uid).event, encode(payload), replayed, None
        channel = self.channels.get(address) if address else None
        return (self.topics.roller(address or "local").event, encode(payload), replayed,
                channel)

    async def _state_forever(self, client: aiomqtt.Client) -> None:
        """Each roller's state on change: at most once a :data:`STATE_EVERY_S` unless
        urgent, and never before Home Assistant listens to it."""
        loop = asyncio.get_running_loop()
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            waits = []
            for channel in [c for c in self.channels.values() if c.dirty]:
                wait = max(self.discovery.settling(channel), 0.0 if channel.urgent else
                           STATE_EVERY_S - (loop.time() - channel.last_state_at))
                if wait > 0:
                    waits.append(wait)
                    continue
                channel.dirty = channel.urgent = False
                await self._publish_state(client, channel)
            if self._info_dirty and self.owner:
                self._info_dirty = False
                await self._publish_info(client)
            if self._people_dirty and self.owner:
                self._people_dirty = False
                await self.publish_people(client)
            if waits:
                await asyncio.sleep(min(waits))
                self._dirty.set()

    async def _publish_info(self, client: aiomqtt.Client) -> None:
        await client.publish(self.topics.info, encode(bridge_info(
            socket.gethostname(), self.store.outbox.count(),
            [c.live for c in self.channels.values()], self.permit_join_open)), qos=1,
            retain=True)

    async def _publish_state(self, client: aiomqtt.Client, channel: Channel,
                             available: bool = True) -> None:
        channel.last_state_at = asyncio.get_running_loop().time()
        await client.publish(channel.topics.availability,
                             "online" if available else "offline", qos=1, retain=True)
        channel.online = available
        await client.publish(channel.topics.state, encode(self._roller_state(channel)), qos=1,
                             retain=True)

    def _roller_state(self, channel: Channel) -> dict[str, Any]:
        """A roller's flat state, rebuilt from the store plus what is live now."""
        now = self.now()
        recent = self.store.sessions(last=30, device=channel.address)
        person = self.store.people.default(channel.address)
        week, _ = self._week(person, now)
        name = roller_name(channel.identity, channel.label) if channel.identity \
            else channel.label
        return roller_state(channel.live, recent, week, person.zone or self.zone, name)

    async def publish_people(self, client: aiomqtt.Client, states: bool = True) -> int:
        """Each person as a Home Assistant device (new people, renamed ones; those removed
        cleared) and, with ``states``, each one's week. Returns the configs published."""
        people = self.store.people.all()
        published = await self.discovery.people(client, people)
        for person in people if states else ():
            await client.publish(self.topics.person(person.uid).state,
                                 encode(self._person_state(person)), qos=1, retain=True)
        return published

    def _person_state(self, person: Person) -> dict[str, Any]:
        """A person's week: their glute quota, and what they rolled on any roller; and
        their figures in a clinician's units, with the alert of days without rolling sent
        once (only the bridge that owns the store sends it)."""
        now, zone = self.now(), person.zone or self.zone
        week, rows = self._week(person, now)
        figures = clinician.figures(self.store, person, person.schedule(self.rules), zone, now)
        today = now.astimezone(ZoneInfo(zone)).date()
        since = figures.days_since_rolled
        last = None if since is None else today - timedelta(days=since)
        if self.owner and last is not None and (alert := idle(last, today, self.alerts)):
            self.store.outbox.person_alert(
                person.id, person.uid, "not_rolling_alert", last.isoformat(), now,
                person=person.uid, days=since, last_rolled=last.isoformat(), text=alert.text)
        return person_state(person, self.rules, week, rows,
                            rows or self.store.sessions(last=5, person=person.id),  # or long ago
                            zone, figures)

    def _week(self, person: Person, now: datetime) -> tuple[WeekStatus, list[SessionRow]]:
        """``person``'s week as their own zone and rules have it, and their sessions from as
        far back as the week and its rest-day rule look."""
        zone, rules = person.zone or self.zone, person.schedule(self.rules)
        rows = self.store.weeks(person.id, now, zone, rules, 1)
        return week_status([r.rolled() for r in rows], now, zone, rules), rows

    async def publish_live(self, channel: Channel, state: LiveState) -> None:
        """Region, position and its standard deviation (QoS 0, never queued)."""
        if self._client is not None:
            with contextlib.suppress(aiomqtt.MqttError):
                await self._client.publish(channel.topics.live, encode(live_position(state)),
                                           qos=0)
