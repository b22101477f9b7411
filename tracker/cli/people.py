"""``roller people``: the people who share a roller, each with their own height, time zone
and glute schedule."""

from __future__ import annotations

import sys
from dataclasses import replace

import click
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tracker.cli.errors import clean_errors, fail
from tracker.cli.store import db_option, store_of
from tracker.cli.types import Finite
from tracker.config import Settings, known_zone
from tracker.core.limits import visible


@click.group()
def people() -> None:
    """The people who share a roller: sessions, schedules and Home Assistant entities are
    each person's own."""


@people.command("list")
@db_option
@click.pass_obj
def list_(settings: Settings) -> None:
    """Everyone, with what the configuration decides for them."""
    with store_of(settings) as store:
        everyone = store.people.all()
        default = store.people.default()
        counts = {p.id: len(store.people.session_ids(p)) for p in everyone}
        with clean_errors():
            prescribed = {p.id: settings.for_person(p).prescription for p in everyone}
        devices = store.devices.all()
        rollers = {p.id: [d["address"] for d in devices if d["person_id"] == p.id]
                   for p in everyone}
    table = Table(box=box.SIMPLE, padding=(0, 1), pad_edge=False)
    for name in ("name", "height, zone, glutes", "sessions", "rollers"):
        table.add_column(name, justify="right" if name == "sessions" else "left")
    for p in everyone:
        table.add_row(escape(visible(p.name)) + (" (default)" if p.id == default.id else ""),
                      p.describe(settings.body, settings.zone, settings.rules,
                                 prescribed[p.id]),
                      str(counts[p.id]), ", ".join(rollers[p.id]) or "-")
    Console().print(table)


@people.command()
@click.argument("name")
@click.option("--height-cm", type=Finite(50, 272), help="Standing height [default: [user] "
              "height_cm]; the body model, and so the lumbar band, scale with it.")
@click.option("--timezone", "zone", help="IANA zone of their days and weeks [default: [user] "
              "timezone].")
@click.option("--glutes-per-week", type=click.IntRange(1, 7),
              help="Their glute sessions a week [default: [schedule]].")
@click.option("--rest-days", type=click.IntRange(0, 6),
              help="Their days without glutes between two glute sessions [default: [schedule]].")
@click.option("--default", "make_default", is_flag=True, help="Make them the default person.")
@db_option
@click.pass_obj
def add(settings: Settings, name: str, height_cm: float | None, zone: str | None,
        glutes_per_week: int | None, rest_days: int | None, make_default: bool) -> None:
    """Add someone. What is not given follows the configuration."""
    if zone is not None and not known_zone(zone):
        fail(f"{zone!r} is not an IANA time zone, e.g. Europe/Berlin")
    rules = {k: v for k, v in (("glute_sessions_per_week", glutes_per_week),
                               ("glute_rest_days", rest_days)) if v is not None}
    try:  # their rules within range beside the configuration's
        replace(settings.rules, **rules)
    except ValueError as exc:
        fail(str(exc))
    with store_of(settings) as store:
        person = store.people.add(name, height_cm, zone, rules)
        if make_default:
            store.people.make_default(person.name)
    click.echo(f"added {person.name}: "
               f"{person.describe(settings.body, settings.zone, settings.rules)}", err=True)


@people.command()
@click.argument("old")
@click.argument("new")
@db_option
@click.pass_obj
def rename(settings: Settings, old: str, new: str) -> None:
    """Rename someone; their sessions and Home Assistant entities stay theirs."""
    with store_of(settings) as store:
        person = store.people.rename(old, new)
    click.echo(f"renamed {visible(old)} to {visible(person.name)}", err=True)


@people.command()
@click.argument("name")
@click.option("--purge", is_flag=True, help="Delete their sessions and raw samples too.")
@click.option("--yes", is_flag=True, help="Do not ask before purging.")
@db_option
@click.pass_obj
def remove(settings: Settings, name: str, purge: bool, yes: bool) -> None:
    """Remove someone who has no sessions (with --purge: and delete theirs, for good)."""
    with store_of(settings) as store:
        person = store.people.named(name)
        count = len(store.people.session_ids(person))
        with clean_errors():
            store.people.check_removable(person)
        if purge and count and not yes:
            what = f"{count} session(s) of {visible(person.name)} and their raw samples"
            if not sys.stdin.isatty():
                fail(f"delete {what}? Give --yes to delete without asking")
            click.confirm(f"Delete {what} for good?", abort=True)
        deleted = store.remove_person(person.name, purge)
    click.echo(f"removed {visible(person.name)}"
               + (f" and {deleted} session(s)" if deleted else ""), err=True)


@people.command()
@click.argument("name")
@click.option("--roller", "address", help="Only for this roller (its sessions are theirs "
              "unless another person is named).")
@db_option
@click.pass_obj
def default(settings: Settings, name: str, address: str | None) -> None:
    """Whose sessions are when nobody is named: the store's default, or a roller's."""
    with store_of(settings) as store:
        person = store.people.make_default(name, address)
    click.echo(f"{visible(person.name)} is now the default"
               + (f" for {address}" if address else ""), err=True)
