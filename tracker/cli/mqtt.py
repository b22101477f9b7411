"""``roller mqtt``: status, discovery, purge."""

from __future__ import annotations

import asyncio

import click

from tracker.cli.errors import clean_errors, fail
from tracker.cli.store import store_of
from tracker.config import Settings
from tracker.devices import PROFILES
from tracker.live.holds import hold_bridge
from tracker.mqtt.settings import MqttConfigError


@click.group()
@click.pass_obj
def mqtt(settings: Settings) -> None:
    """The MQTT bridge to Home Assistant and friends ([mqtt] in the configuration)."""
    if not settings.mqtt.enabled:
        fail("MQTT is off: set [mqtt] host (or ROLLER_MQTT_HOST)")


def run_action(settings: Settings, action: str, device: str | None = None) -> str:
    """Connect as a client of its own (no will, no state: a gateway or session running
    beside it is not disturbed), do ``action``, leave."""
    from tracker.mqtt.bridge import Bridge
    from tracker.mqtt.discovery import clear, take_back_0x

    with clean_errors():  # a password or TLS file that cannot be used: the settings' (exit 2)
        settings.mqtt.check()

    with store_of(settings) as store:
        paired = store.devices.paired_all()
        if action == "discovery" and not paired:
            fail("no roller paired: run roller pair first")

        async def main() -> str:
            bridge = Bridge(settings.mqtt, store, settings.configured.rules,
                            settings.configured.zone, alerts=settings.configured.alerts,
                            owner=False,
                            client_id=settings.mqtt.client_id_for("mqtt"))
            stop = asyncio.Event()
            result: list[str] = []

            async def act() -> None:
                while not bridge.connected:
                    await asyncio.sleep(0.02)
                client = bridge.client
                assert client is not None
                if action == "discovery":
                    await bridge.discovery.move_from_0x(client)
                    topics = []
                    for address in paired:
                        stored = store.devices.known(address)
                        profile = PROFILES[stored[0] if stored else "roller"]
                        said = store.devices.identity(address)
                        topics += await bridge.discovery.publish(
                            client, address, profile.identity(address, said))
                    people = await bridge.publish_people(client, states=False)
                    result.append(f"published {len(topics)} discovery configs, and "
                                  f"{people} for the people")
                elif action == "purge":
                    old = 0 if device else await take_back_0x(client, store.outbox,
                                                              bridge.topics, moving=False)
                    topics = await clear(client, store.outbox, device)
                    result.append(f"cleared {old + len(topics)} retained discovery configs")
                else:
                    # Nobody else sends the outbox (no gateway, no session): send it now.
                    sent = await bridge.drain(client) if hold_bridge(store, "mqtt") else 0
                    s = settings.mqtt
                    result.append(
                        f"broker {s.host}:{s.port}, MQTT {s.protocol}, "
                        f"auth {'user ' + s.username if s.username else 'anonymous'}, "
                        f"TLS {'on' if s.tls or s.ca_file else 'off'}, bridge {s.bridge}, "
                        f"{sent} events sent, {store.outbox.count()} queued; connected")
                stop.set()

            actor = asyncio.get_running_loop().create_task(act())
            try:
                await asyncio.wait_for(bridge.run(stop, once=True), 30)
            finally:
                actor.cancel()
            return result[0] if result else "connected"

        try:
            return asyncio.run(main())
        except MqttConfigError as exc:
            fail(str(exc), 1)
        except TimeoutError:
            fail(f"MQTT broker {settings.mqtt.host}:{settings.mqtt.port} did not answer", 1)


@mqtt.command()
@click.pass_obj
def status(settings: Settings) -> None:
    """Connect; print broker, protocol, auth, TLS and the events queued; send them when no
    gateway or session is running to do it."""
    click.echo(run_action(settings, "status"))


@mqtt.command()
@click.pass_obj
def discovery(settings: Settings) -> None:
    """Publish Home Assistant discovery of every paired roller again."""
    click.echo(run_action(settings, "discovery"))


@mqtt.command()
@click.pass_obj
def purge(settings: Settings) -> None:
    """Clear every discovery config we published, 0.x's topics too (ghost entities go
    away)."""
    click.echo(run_action(settings, "purge"))
