"""``roller export``: sessions as a table (CSV, JSON lines), and each session in a format other
software reads: its raw samples (``roller-imu v1``), a Garmin FIT activity, an HL7 FHIR Bundle.

A format's library is imported when that format is asked for (``fit-tool`` for FIT): ``roller
export`` as a table, and ``roller --help``, load none of them. The builders are pure
(:mod:`tracker.core.formats.fit`, :mod:`tracker.core.formats.fhir`); this module reads the
store and writes the files.

Many sessions (``--all``, ``--since``, ``--person``, several IDs) in a per-session format go
one file each into a directory, named ``YYYY-MM-DDTHHMM-ID.EXT`` on the session's own clock so
that a listing sorts by date; FHIR to a file puts them all in one Bundle. Every file is its
owner's alone (0600: :func:`tracker.cli.main.private_by_default`).
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

import click

from tracker.cli.errors import clean_errors, fail
from tracker.cli.sessions import gateway_option, row_json
from tracker.cli.store import db_option, store_of, warn_damaged, whose
from tracker.cli.types import SESSION_ID
from tracker.config import Settings
from tracker.core import clock
from tracker.core.formats.activity import Activity, areas_rolled
from tracker.core.formats.fhir import Subject, bundle
from tracker.core.formats.roller_imu import format_recording
from tracker.core.people import Person
from tracker.store.database import Store
from tracker.store.errors import DamagedSession
from tracker.store.rows import SessionRow

#: The formats of one session each, and the extension of each one's file.
PER_SESSION: Final[dict[str, str]] = {"imu-csv": "csv", "fit": "fit", "fhir": "json"}
#: The formats of many sessions in one table.
TABLES: Final = ("csv", "json")


class NoSamples(Exception):
    """The session kept no raw samples: it has no ``imu-csv``."""


@dataclass(frozen=True)
class Target:
    """Where the export goes: stdout (``path`` None), one file, or a directory of files."""

    path: Path | None
    directory: bool


@click.command()
@click.argument("ids", nargs=-1, type=SESSION_ID)
@click.option("--format", "fmt", type=click.Choice([*TABLES, *PER_SESSION]), default="csv",
              show_default=True, help="csv, json: a table of sessions; imu-csv: raw samples "
              "(roller-imu v1); fit: a Garmin FIT activity; fhir: an HL7 FHIR R4 Bundle "
              "(docs/clinician.md).")
@click.option("-o", "--output", type=click.Path(), metavar="PATH",
              help="A file; or a directory (one that exists, a path ending in /, or any "
              "path for many sessions of imu-csv, fit, or fhir --all), which gets one file "
              "per session, made if missing [default: stdout].")
@click.option("--all", "every", is_flag=True, help="Every session (of --person and "
              "--gateway, when given).")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Only sessions from this "
              "day on.")
@click.option("--person", "person", metavar="NAME", help="Only their sessions [default: "
              "everyone's].")
@gateway_option
@db_option
@click.pass_obj
def export(settings: Settings, ids: tuple[int, ...], fmt: str, output: str | None,
           every: bool, since: datetime | None, person: str | None,
           gateway: str | None) -> None:
    """Sessions as a table, or each in a format other software reads (FIT, FHIR, raw
    samples).

    CSV or JSON lines: all sessions, the given IDs, or those of --since, --person and
    --gateway. imu-csv, fit and fhir: one session by its ID; or many (several IDs, --all,
    --since, --person, --gateway), a file each into the directory -o DIR, named
    YYYY-MM-DDTHHMM-ID.EXT so that they sort by date; fhir without --all puts them in one
    Bundle (-o FILE, or stdout). Every file is yours alone (0600)."""
    chosen = every or since is not None or person is not None or gateway is not None
    if ids and chosen:
        fail("give session IDs, or --all, --since, --person and --gateway, not both")
    if fmt in PER_SESSION and not ids and not chosen:
        fail(f"--format {fmt}: give session IDs, or --all (with --person, --since or "
             "--gateway for some)")
    with store_of(settings) as store:
        who = whose(store, settings, person)
        people = {p.id: p for p in store.people.all()}
        if ids:
            rows = [store.session(i) for i in ids]
        else:
            start = since.replace(tzinfo=ZoneInfo(who.zone)) if since else None
            only = who.person.id if person and who.person else None
            rows = store.sessions(since=start, person=only, origin=gateway)
        damaged = dict(store.damaged) if not ids else {}
        if fmt in TABLES:
            warn_damaged(damaged)
            _table(fmt, [row_json(r, {i: p.name for i, p in people.items()}) for r in rows],
                   _target(output, fmt, many=False, one_bundle=True))
            return
        target = _target(output, fmt, many=len(ids) > 1 or chosen,
                         one_bundle=fmt == "fhir" and not every)
        if fmt == "fhir" and not target.directory:
            _fhir_bundle(store, rows, people, target, damaged)
        else:
            _one_each(store, rows, people, fmt, target, damaged)
    warn_damaged(damaged)
    if damaged:
        sys.exit(1)


def _target(output: str | None, fmt: str, many: bool, one_bundle: bool) -> Target:
    """Where ``-o`` sends ``fmt``: stdout when it is not given; a directory when it is one,
    when it ends in a slash, or when ``many`` sessions go one file each (every format of
    one session a file, but FHIR in ``one_bundle``); else a file."""
    if output is None:
        if many and not one_bundle:
            fail(f"--format {fmt} writes a file per session: give -o DIR")
        if fmt == "fit" and sys.stdout.isatty():
            fail("a FIT file is binary: give -o FILE, or send it to a file or a pipe")
        return Target(None, directory=False)
    path = Path(output)
    directory = path.is_dir() or output.endswith(("/", "\\")) or (many and not one_bundle)
    if directory and fmt in TABLES:
        fail(f"{output}: a directory; --format {fmt} writes one table: give -o FILE")
    if directory and path.exists() and not path.is_dir():
        fail(f"{output}: a file, not a directory: several sessions go one file each into a "
             "directory")
    return Target(path, directory)


def _write(path: Path | None, data: bytes | str) -> None:
    """``data`` to ``path`` (made 0600 by the process's umask), or to stdout."""
    raw = data.encode() if isinstance(data, str) else data
    with clean_errors():
        if path is None:
            sys.stdout.flush()
            sys.stdout.buffer.write(raw)
            sys.stdout.buffer.flush()
        else:
            path.write_bytes(raw)


def _table(fmt: str, records: list[dict[str, object]], target: Target) -> None:
    """The sessions' summary rows, as CSV (a header and a row each) or JSON lines."""
    text = io.StringIO()
    if fmt == "json":
        for record in records:
            text.write(json.dumps(record) + "\n")
    elif records:
        writer = csv.DictWriter(text, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows({k: "+".join(v) if isinstance(v, tuple) else v for k, v in r.items()}
                         for r in records)
    _write(target.path, text.getvalue())


def file_name(row: SessionRow, fmt: str) -> str:
    """``YYYY-MM-DDTHHMM-ID.EXT``, the start on the session's own clock: sorts by date."""
    local = row.started_at.astimezone(ZoneInfo(row.zone))
    return f"{local:%Y-%m-%dT%H%M}-{row.id}.{PER_SESSION[fmt]}"


def _activity(store: Store, row: SessionRow) -> Activity:
    """The session as the FIT and FHIR builders take it."""
    analysis = store.session_detail(row.id).analysis(row)
    return Activity(session_id=row.id, started_at=row.started_at, zone=row.zone,
                    duration_s=row.duration_s, active_s=row.active_s, strokes=row.strokes,
                    lumbar_contacts=row.lumbar_events, parts=areas_rolled(analysis))


def _subject(people: dict[int, Person], row: SessionRow) -> Subject:
    """Whose session, as FHIR's Patient names them (a person since removed: by number)."""
    person = people.get(row.person_id)
    return Subject(person.uid, person.name) if person else \
        Subject(f"person-{row.person_id}", f"person {row.person_id}")


def _bundle_json(sessions: list[tuple[Subject, Activity]]) -> str:
    """One Bundle of ``sessions``, as indented JSON, stamped now."""
    return json.dumps(bundle(sessions, clock.now()), indent=1, ensure_ascii=False) + "\n"


def _encoder(store: Store, fmt: str,
             people: dict[int, Person]) -> Callable[[SessionRow], bytes | str]:
    """How one session becomes its file's contents in ``fmt``; the format's library is
    imported here, once that format is asked for."""
    if fmt == "imu-csv":
        def raw(row: SessionRow) -> str:
            recording = store.recording(row.id)
            if recording is None:
                raise NoSamples
            return format_recording(recording.header, recording.samples)

        return raw
    if fmt == "fit":
        from tracker.core.formats.fit import activity_file

        return lambda row: activity_file(_activity(store, row))
    return lambda row: _bundle_json([(_subject(people, row), _activity(store, row))])


def _fhir_bundle(store: Store, rows: list[SessionRow], people: dict[int, Person],
                 target: Target, damaged: dict[int, str]) -> None:
    """Every session in one Bundle (``--since``, ``--person``, several IDs, to a file); a
    damaged one is left out and named."""
    sessions = []
    for row in rows:
        try:
            sessions.append((_subject(people, row), _activity(store, row)))
        except DamagedSession as exc:
            damaged[exc.session_id] = exc.what
    _write(target.path, _bundle_json(sessions))
    if target.path is not None:
        click.echo(f"wrote {len(sessions)} session(s) in one FHIR Bundle to {target.path}",
                   err=True)


def _one_each(store: Store, rows: list[SessionRow], people: dict[int, Person], fmt: str,
              target: Target, damaged: dict[int, str]) -> None:
    """Each session in its own file (or the one session to its file or stdout); a damaged
    one, or one without raw samples for ``imu-csv``, is skipped and named."""
    encode = _encoder(store, fmt, people)
    if target.directory:
        assert target.path is not None
        with clean_errors():
            target.path.mkdir(parents=True, exist_ok=True)
    without: list[int] = []
    written = 0
    progress: AbstractContextManager[Iterable[SessionRow]] = click.progressbar(
        rows, label=f"exporting {len(rows)} session(s) as {fmt}", file=sys.stderr) \
        if target.directory else nullcontext(rows)
    with progress as each:
        for row in each:
            try:
                data = encode(row)
            except DamagedSession as exc:
                damaged[exc.session_id] = exc.what
                continue
            except NoSamples:
                if not target.directory:
                    fail(f"session {row.id} has no raw samples (was [session] keep_raw off?)")
                without.append(row.id)
                continue
            _write(target.path / file_name(row, fmt) if target.directory and target.path
                   else target.path, data)
            written += 1
    if without:
        click.echo(f"roller: warning: no raw samples kept, so no {fmt} of session(s) "
                   f"{', '.join(map(str, without))}", err=True)
    if target.directory:
        click.echo(f"wrote {written} file(s) to {target.path}", err=True)
