"""The store as every command opens it (``--db``, migrated, sessions left live by a crash
closed, errors in one line), and the schedule's refusal of a glute session.

The schedule's check and the refusal's way out to the broker (asyncio, the bridge, its lock)
are imported when a glute session is checked and a refusal sent: every command that reads
the store imports this module."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from tracker.cli.errors import clean_errors, fail
from tracker.config import Settings
from tracker.core import clock
from tracker.core.schedule import Verdict
from tracker.store.database import Store
from tracker.store.errors import StoreError, explain
from tracker.store.opening import open_store

if TYPE_CHECKING:
    from tracker.devices import Profile

log = logging.getLogger(__name__)


def _use_db(ctx: click.Context, _: click.Parameter, path: Path | None) -> None:
    if path is not None:
        ctx.obj = replace(ctx.obj, db_path=str(path))


#: ``--db`` after a command too (``roller track --db x.db``), same as ``roller --db x.db``.
db_option = click.option("--db", type=click.Path(dir_okay=False, path_type=Path),
                         expose_value=False, callback=_use_db,
                         help="Session database (as roller --db).")


#: ``--person NAME`` on every command that works for one person.
person_option = click.option("--person", "person", metavar="NAME",
                             help="Whose sessions [default: the roller's person, else the "
                             "store's default; roller people list].")


def whose(store: Store, settings: Settings, name: str | None,
          device: str | None = None) -> Settings:
    """The settings of the person named, else of ``device``'s person, else the default's."""
    with clean_errors():
        return settings.for_person(store.people.resolve(name, device))


@contextmanager
def store_of(settings: Settings) -> Iterator[Store]:
    with clean_errors():
        store = open_store(Path(settings.db_path) if settings.db_path else None)
        try:
            # Records first: a session closed as interrupted goes to the ingest as any other.
            store.outbox.records = settings.mqtt.enabled and settings.mqtt.publish_sessions
            try:
                store.close_interrupted()
                store.adopt_orphans()
            except sqlite3.DatabaseError as exc:  # damaged pages: read what can be read
                log.warning("%s: %s; sessions left live were not closed", store.path,
                            explain(exc))
            yield store
        finally:
            store.close()


def writable(store: Store) -> None:
    """Refuse at once, in one line, a store that cannot be written: before the session, not
    after it was rolled and could not be kept."""
    if store.read_only:
        fail(f"{store.path}: cannot write: the database is read-only; nothing was started", 1)


def warn_damaged(damaged: dict[int, str]) -> None:
    """Damaged sessions a command skipped, one line each; the others were shown."""
    for session_id, what in damaged.items():
        click.echo(f"roller: warning: session {session_id} is damaged: {what} (roller check)",
                   err=True)


def enforce(store: Store, settings: Settings, routine: str, at: datetime,
            override: bool) -> Verdict:
    """Refuse a glute session that is too soon or over quota, unless overridden (an import
    of a session rolled ``at``)."""
    from tracker.live.admission import check_start

    verdict, allowed, why = check_start(store, settings, routine, at)
    if verdict is not Verdict.ALLOWED and not override:
        queued_at = clock.now()
        store.outbox.record_refusal(routine, verdict.value, allowed.isoformat(), at)
        refused(store, settings, why, allowed, queued_at)
    return verdict


def refused(store: Store, settings: Settings, why: str, allowed: date,
            queued_at: datetime, roller: tuple[str, Profile] | None = None) -> NoReturn:
    """End the command on the schedule's refusal: what was queued since ``queued_at`` (the
    refusal, on the roller's event topic) goes out first, through the bridge's owner, or by
    this process when there is none."""
    send_queued(store, settings, queued_at, roller)
    fail(f"glute session refused ({why}); next allowed {allowed:%a %Y-%m-%d}; "
         "use --override to store it anyway")


def send_queued(store: Store, settings: Settings, since: datetime,
                roller: tuple[str, Profile] | None = None) -> None:
    """Send what the outbox holds now, when no other process owns the bridge (which would
    send it within a second); a broker that does not answer within 5 s leaves it queued.
    ``roller`` (address, profile), whose event it is, is said available around it: Home
    Assistant drops an event of an entity it holds unavailable."""
    if not settings.mqtt.enabled:
        return
    import asyncio

    from tracker.live.holds import hold_bridge
    from tracker.mqtt.bridge import Bridge
    from tracker.mqtt.settings import MqttConfigError

    if not hold_bridge(store, "track"):
        return
    bridge = Bridge(settings.mqtt, store, settings.configured.rules,
                    settings.configured.zone, alerts=settings.configured.alerts, owner=True,
                    client_id=settings.mqtt.client_id_for("track"))
    if roller is not None:
        from tracker.live.bridged import known_identity

        address, profile = roller
        bridge.watch(address, known_identity(store, address, profile), connected=False)
    try:
        asyncio.run(asyncio.wait_for(bridge.send_queued(since), 5))
    except (TimeoutError, MqttConfigError, StoreError) as exc:  # it stays queued
        log.warning("the refusal waits in the outbox: %s", exc)
