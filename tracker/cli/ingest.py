"""``roller ingest``: one store for many gateways, through the MQTT broker (docs/scale.md)."""

from __future__ import annotations

import json
import signal
import sys

import click

from tracker.cli.errors import clean_errors, fail
from tracker.cli.store import db_option, store_of
from tracker.config import Settings
from tracker.mqtt.ingest import Ingest, Tally


@click.command()
@click.option("--share", metavar="GROUP", help="Split the load with other ingests in a shared "
              "subscription (MQTT 5: $share/GROUP/...).")
@click.option("--name", default="ingest", show_default=True, help="This ingest's name at the "
              "broker, which keeps its session (and what arrives meanwhile) under it: give "
              "each ingest its own, the same every time it starts.")
@click.option("--quarantined", is_flag=True, help="List the messages the ingest refused "
              "(when, topic, why), and do nothing else.")
@click.option("--json", "as_json", is_flag=True, help="With --quarantined: one JSON object "
              "per message, per line, its bytes in base64.")
@db_option
@click.pass_obj
def ingest(settings: Settings, share: str | None, name: str, quarantined: bool,
           as_json: bool) -> None:
    """Keep every gateway's finished sessions in this store, each exactly once, until
    stopped (SIGTERM or Ctrl-C). Gateways publish them with [mqtt] publish_sessions."""
    if quarantined:
        _quarantined(settings, as_json)
        return
    with clean_errors():
        settings.mqtt.check()
    if not settings.mqtt.enabled:
        fail("MQTT is off: set [mqtt] host (or ROLLER_MQTT_HOST)")
    if share and settings.mqtt.protocol != "5":
        fail("--share needs MQTT 5: set [mqtt] protocol = \"5\"")
    tty = sys.stderr.isatty()

    def progress(tally: Tally) -> None:
        if tty:
            click.echo(f"\rstored {tally.stored}, already stored {tally.repeated}, "
                       f"quarantined {tally.refused}", nl=False, err=True)

    with store_of(settings) as store:
        worker = Ingest(settings.mqtt, store, settings.mqtt.stable_client_id(name), share,
                        progress)
        # SIGHUP too: a closed terminal or a service manager's reload ends it with its tally.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, lambda *_: worker.stop())
        with clean_errors():
            worker.run()
    t = worker.tally
    click.echo(("\n" if tty else "") + f"stored {t.stored} session(s); {t.repeated} already "
               f"stored; {t.refused} message(s) quarantined", err=True)
    if worker.failure:
        fail(worker.failure, 1)


def _quarantined(settings: Settings, as_json: bool) -> None:
    """One line a refused message: when, its topic, why; every text shown, never obeyed
    (a topic or a reason quotes what a gateway sent)."""
    import base64

    from tracker.core.limits import visible
    from tracker.store.exchange import quarantined

    with store_of(settings) as store:
        for row in quarantined(store):
            if as_json:
                click.echo(json.dumps({"id": row["id"], "received_at": row["received_at"],
                                       "topic": row["topic"], "reason": row["reason"],
                                       "payload": base64.b64encode(row["payload"]).decode()}))
            else:
                click.echo(f"{row['received_at']}  {visible(row['topic'])}  "
                           f"{visible(row['reason'])}")
