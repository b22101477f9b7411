"""``roller prescription``: a clinician's prescription imported for a person, shown, listed
and ended. While it runs it is the person's program and its pace and glute quota their
schedule (docs/prescription.md)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tracker.cli.errors import clean_errors
from tracker.cli.store import db_option, store_of, writable
from tracker.config import Settings
from tracker.core import clock
from tracker.core.limits import visible
from tracker.core.people import Person
from tracker.core.prescription import PrescriptionError, parse
from tracker.files import read_text
from tracker.store.prescriptions import Stored


@click.group()
def prescription() -> None:
    """A clinician's prescription (import, show, list, end): while it runs, the person's
    program and schedule.

    One TOML file (docs/prescription.md): while it runs it is the person's program, and its
    pace and glute quota are their schedule."""


def _today(settings: Settings, person: Person) -> date:
    """The person's local day now."""
    return clock.now().astimezone(ZoneInfo(person.zone or settings.zone)).date()


def state(stored: Stored, today: date) -> str:
    """Where a prescription stands on ``today``, in a few words."""
    rx = stored.prescription
    if stored.ended_at is not None:
        return f"ended {stored.ended_at:%Y-%m-%d}"
    if rx is None:
        return "unreadable: not followed"
    if today < rx.start:
        return f"starts {rx.start}"
    return f"over since {rx.end}" if today > rx.end else f"running until {rx.end}"


def _title(stored: Stored) -> str:
    rx = stored.prescription
    return f'"{visible(rx.title)}" by {visible(rx.clinician)}' if rx else "(unreadable)"


@prescription.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--person", "name", metavar="NAME", required=True,
              help="Whose prescription it is (roller people list).")
@db_option
@click.pass_obj
def import_(settings: Settings, file: Path, name: str) -> None:
    """Import a prescription for a person; the one they had (if any) ends."""
    with clean_errors():
        text = read_text(file, lambda why: PrescriptionError(str(file), None, why))
        rx = parse(text, str(file))
    with store_of(settings) as store:
        writable(store)
        with clean_errors():
            person = store.people.named(name)
            new, ended = store.prescriptions.add(person, file.name, text)
    who = visible(person.name)
    click.echo(f"prescription {new.id} for {who}: {_title(new)}, {rx.start} to {rx.end}; "
               f"{state(new, _today(settings, person))}", err=True)
    if ended is not None:
        click.echo(f"it ends prescription {ended.id} ({_title(ended)}), imported "
                   f"{ended.imported_at:%Y-%m-%d}: {who} has one at a time", err=True)


@prescription.command()
@click.option("--person", "name", metavar="NAME",
              help="Whose [default: the store's default person].")
@db_option
@click.pass_obj
def show(settings: Settings, name: str | None) -> None:
    """A person's prescription as it was imported, with where it stands."""
    with store_of(settings) as store, clean_errors():
        person = store.people.resolve(name)
        stored = store.prescriptions.current(person)
    click.echo(f"# prescription {stored.id} for {visible(person.name)}, from "
               f"{visible(stored.source)}, imported {stored.imported_at:%Y-%m-%d %H:%M} UTC: "
               f"{state(stored, _today(settings, person))}")
    for line in stored.text.splitlines():
        click.echo(visible(line.expandtabs()))


@prescription.command("list")
@db_option
@click.pass_obj
def list_(settings: Settings) -> None:
    """Everyone's prescriptions, running and ended, oldest first."""
    with store_of(settings) as store:
        everyone = {p.id: p for p in store.people.all()}
        stored = store.prescriptions.all()
    table = Table(box=box.SIMPLE, padding=(0, 1), pad_edge=False)
    for column in ("id", "person", "prescription", "dates", "imported", "now"):
        table.add_column(column, justify="right" if column == "id" else "left")
    for s in stored:
        person, rx = everyone[s.person_id], s.prescription
        table.add_row(str(s.id), escape(visible(person.name)), escape(_title(s)),
                      f"{rx.start} to {rx.end}" if rx else "-",
                      f"{s.imported_at:%Y-%m-%d}", state(s, _today(settings, person)))
    Console().print(table)


@prescription.command()
@click.option("--person", "name", metavar="NAME",
              help="Whose [default: the store's default person].")
@db_option
@click.pass_obj
def end(settings: Settings, name: str | None) -> None:
    """End a person's prescription now: the configuration's schedule and no program again."""
    with store_of(settings) as store:
        writable(store)
        with clean_errors():
            person = store.people.resolve(name)
            ended = store.prescriptions.end(person)
    click.echo(f"ended prescription {ended.id} for {visible(person.name)} "
               f"({_title(ended)})", err=True)
