"""The MQTT bridge: Home Assistant discovery, retained state, and events from the outbox.

One asyncio task on the program's loop (aiomqtt, no thread). Each connection attempt gets a
fresh client, so paho's in-memory queue never re-sends what the outbox replays; events are
marked sent only after the broker's PUBACK (a QoS 1 publish returns then). Reconnects back
off exponentially with jitter, 1-60 s. ``offline`` is the last will, and published by us
before a clean disconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import socket
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

import aiomqtt

from tracker import __version__
from tracker.mqtt.messages import Topics, device_id, discovery_configs, encode, state_payload
from tracker.mqtt.settings import MqttConfigError, MqttSettings
from tracker.schedule import Rules, week_status
from tracker.status import Identity, Status
from tracker.store.database import Store

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


class Bridge:
    """Publishes the store's outbox and the roller's state to one broker, for as long as it
    runs; never stops tracking when the broker is away."""

    def __init__(self, settings: MqttSettings, store: Store, rules: Rules, zone: str,
                 address: str | None = None, identity: Identity | None = None,
                 routine: str | None = None) -> None:
        self.settings, self.store, self.rules, self.zone = settings, store, rules, zone
        self.address = address
        #: The roller's device in Home Assistant; None until it is known who the device is
        #: (discovery waits for it, so Home Assistant never sees a placeholder first).
        self.identity = identity
        self.topics = Topics(settings.base_topic, settings.discovery_prefix,
                             device_id(self.address or "local"))
        self.routine = routine
        self._tasks: set[asyncio.Task[None]] = set()
        self.connected = False
        self.last_error: str | None = None
        self._doorbell = asyncio.Event()
        self._draining = asyncio.Lock()  # one drain at a time: no event goes out twice
        self._connected_at = datetime.now(UTC)
        self._client: aiomqtt.Client | None = None
        self._live_state: dict[str, Any] = {}
        self._state_dirty = asyncio.Event()
        self._state_urgent = False
        self._last_state_at = 0.0
        self._available = False
        self._births = asyncio.Event()  # Home Assistant said it (re)started
        self._discovering = asyncio.Lock()
        self._discovered: Identity | None = None  # published on this connection
        store.outbox.on_queued = self.ring

    # -- what the rest of the program tells the bridge --------------------------------

    def ring(self) -> None:
        """New events in the outbox."""
        self._doorbell.set()

    def update(self, urgent: bool = False, **state: Any) -> None:
        """Live state changed (region, lumbar contact, ...); urgent skips the throttle."""
        if any(self._live_state.get(k) != v for k, v in state.items()):
            self._live_state.update(state)
            self._state_urgent = urgent or self._state_urgent
            self._state_dirty.set()

    @property
    def client(self) -> aiomqtt.Client | None:
        """The connected client, while connected."""
        return self._client

    def describe(self) -> str:
        """``connected``, or ``offline, N queued``: for status lines."""
        return "connected" if self.connected else f"offline, {self.store.outbox.count()} queued"

    def follow(self, status: Status) -> None:
        """Mirror a live session's status: availability, state, the live topic; and who the
        device turned out to be, when that is news to Home Assistant."""
        self.set_available(status.link == "live")
        if status.identity is not None and status.identity != self.identity:
            self.identity = status.identity
            self._spawn(self._rediscover())
        s = status.state
        lumbar = bool(s and s.lumbar)
        self.update(urgent=lumbar != bool(self._live_state.get("lumbar_contact")),
                    session_active=True, routine=self.routine,
                    region=s.region if s else None, lumbar_contact=lumbar,
                    battery_pct=status.battery_pct)
        if s and self.settings.live and self._client is not None:  # at most twice a second
            self._spawn(self.publish_live(s.region, s.s_cm))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _rediscover(self) -> None:
        if self._client is not None:
            with contextlib.suppress(aiomqtt.MqttError):
                await self._discover(self._client)

    async def _discover(self, client: aiomqtt.Client) -> None:
        """Discovery for who the device is now, once per connection: the connection's
        announcement and a device that just said who it is may both ask at once."""
        async with self._discovering:
            if self.settings.discovery and self.identity and self.identity != self._discovered:
                self._discovered = self.identity
                await self.publish_discovery(client)

    def session_over(self) -> None:
        self.update(urgent=True, session_active=False, lumbar_contact=False, region=None)
        self.set_available(False)

    def set_available(self, available: bool) -> None:
        if available != self._available:
            self._available = available
            self._state_dirty.set()

    # -- the connection loop ---------------------------------------------------------

    def _client_for_attempt(self) -> aiomqtt.Client:
        s = self.settings
        return aiomqtt.Client(
            s.host, s.port, username=s.username or None, password=s.secret(),
            identifier=s.client_id or f"roller-{socket.gethostname()}",
            protocol=aiomqtt.ProtocolVersion.V5 if s.protocol == "5"
            else aiomqtt.ProtocolVersion.V311,
            will=aiomqtt.Will(self.topics.bridge_state, "offline", qos=1, retain=True),
            tls_context=s.tls_context(), tls_insecure=s.insecure or None,
            timeout=10, keepalive=30,
        )

    async def run(self, stop: asyncio.Event, once: bool = False) -> None:
        """Connect, publish, reconnect with backoff; until ``stop``. ``once``: raise the
        first connection error instead of retrying (for ``roller mqtt`` commands)."""
        delay = 1.0
        while not stop.is_set():
            try:
                async with self._client_for_attempt() as client:
                    self._client, self.connected, self.last_error = client, True, None
                    self._discovered = None
                    self._connected_at = datetime.now(UTC)
                    delay = 1.0
                    await self._serve(client, stop)
                    await client.publish(self.topics.bridge_state, "offline", qos=1,
                                         retain=True)
                    return
            except aiomqtt.MqttError as exc:
                self.last_error = explain(exc, self.settings)
                if once:
                    raise MqttConfigError(self.last_error) from None
                log.warning("%s; retrying in %.0f s", self.last_error, delay)
            finally:
                self._client, self.connected = None, False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay * random.uniform(0.5, 1.0))
            delay = min(60.0, delay * 2)

    async def _serve(self, client: aiomqtt.Client, stop: asyncio.Event) -> None:
        await client.subscribe(self.topics.ha_status, qos=1)
        await self._announce(client)
        tasks = [asyncio.create_task(self._drain_forever(client)),
                 asyncio.create_task(self._state_forever(client)),
                 asyncio.create_task(self._listen(client)),
                 asyncio.create_task(self._answer_births(client))]
        stopper = asyncio.create_task(stop.wait())
        try:
            done, _ = await asyncio.wait({*tasks, stopper}, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not stopper and task.exception():
                    raise task.exception()  # type: ignore[misc]
            await self.drain(client)  # what the session's end queued goes out first
        finally:
            for task in [*tasks, stopper]:
                task.cancel()
            await asyncio.gather(*tasks, stopper, return_exceptions=True)
        # Then the final state: a state update still in flight was cancelled above, so
        # none can land after this one and undo "the session is over".
        await self._publish_state(client)

    async def _announce(self, client: aiomqtt.Client) -> None:
        """Bridge online, info, discovery, availability and state: on every connect."""
        await client.publish(self.topics.bridge_state, "online", qos=1, retain=True)
        await client.publish(self.topics.bridge_info, encode({
            "version": __version__, "host": socket.gethostname(),
            "outbox_pending": self.store.outbox.count()}), qos=1, retain=True)
        await self._discover(client)  # nobody known yet: no entities yet
        await self._publish_state(client)

    async def publish_discovery(self, client: aiomqtt.Client) -> list[str]:
        assert self.identity is not None
        topics = []
        for topic, config in discovery_configs(self.topics, self.identity):
            await client.publish(topic, encode(config), qos=1, retain=True)
            topics.append(topic)
        self.store.outbox.remember_discovery(self.identity.address, topics)
        return topics

    async def _listen(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            if str(message.topic) == self.topics.ha_status and message.payload == b"online":
                self._births.set()

    async def _answer_births(self, client: aiomqtt.Client) -> None:
        """Home Assistant's birth message: announce again 1-5 s later (it restarted). A flood
        of them is answered at most once every :data:`BIRTH_QUIET_S`."""
        while True:
            await self._births.wait()
            await asyncio.sleep(random.uniform(1.0, 5.0))
            self._births.clear()
            self._discovered = None
            await self._announce(client)
            await asyncio.sleep(BIRTH_QUIET_S)

    async def _drain_forever(self, client: aiomqtt.Client) -> None:
        while True:
            self._doorbell.clear()
            await self.drain(client)
            await self._doorbell.wait()

    async def drain(self, client: aiomqtt.Client) -> int:
        """Publish queued events in order, each marked sent after its PUBACK. An event queued
        before this connection began waited for the broker: it goes out ``replayed``."""
        async with self._draining:
            return await self._drain(client)

    async def _drain(self, client: aiomqtt.Client) -> int:
        s = self.settings
        self.store.outbox.trim(s.outbox_max_events, timedelta(days=s.outbox_max_age_days),
                               datetime.now(UTC))
        sent = 0
        while batch := self.store.outbox.pending(100):
            for row in batch:
                payload = json.loads(row["payload"])
                created = datetime.fromisoformat(row["created_at"])
                payload["replayed"] = created < self._connected_at
                address = payload.pop("device", None)
                topic = Topics(s.base_topic, s.discovery_prefix,
                               device_id(address or "local")).event
                await client.publish(topic, encode(payload), qos=1, retain=False)
                self.store.outbox.mark_sent(row["id"], datetime.now(UTC))
                sent += 1
                if payload["replayed"] and s.replay_per_s > 0:
                    await asyncio.sleep(1.0 / s.replay_per_s)
        return sent

    async def _state_forever(self, client: aiomqtt.Client) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._state_dirty.wait()
            wait = 1.0 - (loop.time() - self._last_state_at)
            if wait > 0 and not self._state_urgent:
                await asyncio.sleep(wait)  # at most once a second, unless urgent
            self._state_dirty.clear()
            self._state_urgent = False
            await self._publish_state(client)

    async def _publish_state(self, client: aiomqtt.Client) -> None:
        self._last_state_at = asyncio.get_running_loop().time()
        state = self.state()
        await client.publish(self.topics.availability,
                             "online" if self._available else "offline", qos=1, retain=True)
        await client.publish(self.topics.state, encode(state), qos=1, retain=True)

    def state(self) -> dict[str, Any]:
        """The flat state, rebuilt from the store plus what is live now."""
        rows = self.store.sessions(last=30)
        finished = [r for r in rows if r.status != "live"]
        last = finished[-1] if finished else None
        week = week_status([r.rolled() for r in self.store.sessions(
            since=datetime.now(UTC) - timedelta(days=8))], datetime.now(UTC), self.zone,
            self.rules)
        live = self._live_state
        return state_payload(
            session_active=bool(live.get("session_active")),
            routine=live.get("routine"), region=live.get("region"),
            lumbar_contact=bool(live.get("lumbar_contact")),
            last_session_duration_s=round(last.duration_s, 1) if last else None,
            last_session_active_s=round(last.active_s, 1) if last else None,
            last_session_strokes=last.strokes if last else None,
            last_session_cadence_cpm=round(last.cadence_cpm, 1) if last else None,
            last_session_ended_at=last.ended_at.isoformat() if last and last.ended_at
            else None,
            glute_sessions_this_week=week.done, schedule_status=str(week.status),
            next_glute_day=week.next_allowed.isoformat(),
            battery_pct=live.get("battery_pct"),
        )

    async def publish_live(self, region: str, s_cm: float) -> None:
        """Region and position (QoS 0, never queued)."""
        if self._client is not None:
            with contextlib.suppress(aiomqtt.MqttError):
                await self._client.publish(self.topics.live, encode(
                    {"region": region, "s_cm": round(s_cm, 1)}), qos=0)

