"""``roller`` commands on stored sessions: import, history, show, schedule, reanalyze
(``roller export`` is :mod:`tracker.cli.export`).

What one command alone needs (the charts, the recorder, the estimator and numpy) is imported
when it runs: ``roller history`` starts without them."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tracker.cli.comfort import comfort
from tracker.cli.errors import clean_errors, fail
from tracker.cli.store import db_option, enforce, person_option, store_of, warn_damaged, whose
from tracker.cli.types import COUNT, SESSION_ID
from tracker.config import Settings
from tracker.core import clock
from tracker.core.limits import quote, visible
from tracker.core.pictures.tables import areas, near_lumbar, pace_text, parts_lines, session_time
from tracker.core.schedule import Verdict, score, week_start
from tracker.files import regular_file
from tracker.store.errors import DamagedSession
from tracker.store.rows import SessionRow, SessionStart

if TYPE_CHECKING:
    from tracker.core.formats.roller_imu import Recording

#: ``--gateway ID`` where a central store (``roller ingest``) holds many gateways' sessions.
gateway_option = click.option("--gateway", metavar="ID", help="Only the sessions that came "
                              "from this gateway (its [mqtt] bridge_id), in a central store.")


def _local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--at", "at", help="When the session started (ISO 8601; local time if no "
              "offset) [default: header started_at, else the file's time less its duration].")
@click.option("--override", is_flag=True, help="Store a glute session the schedule refuses.")
@person_option
@db_option
@click.pass_obj
def import_(settings: Settings, files: tuple[Path, ...], at: str | None, override: bool,
            person: str | None) -> None:
    """Store recordings as sessions, each in one transaction (all of it or nothing); a
    recording already stored with the same start is recognised and skipped."""
    from tracker.core.body import Body
    from tracker.core.estimate import SessionEstimator
    from tracker.core.formats.roller_imu import read
    from tracker.live.recorder import store_recording

    with store_of(settings) as store:
        settings = whose(store, settings, person)
        for path in files:
            with clean_errors():
                regular_file(path)  # a FIFO would block the import for good
                recording = read(path)
            started = _start_time(recording, path, at, settings.zone)
            # The same samples from the same moment: a second import of one session.
            digest = f"{recording.fingerprint()}@{started.astimezone(UTC).isoformat()}"
            if (known := store.imported_as(digest)) is not None:
                click.echo(f"{path} is already stored as session {known}; skipped (roller "
                           f"session delete {known} first to store it again)", err=True)
                continue
            verdict = enforce(store, settings, recording.header.routine, started, override)
            h = recording.header
            start = SessionStart(
                routine=h.routine, started_at=started, zone=settings.zone, source="import",
                sample_rate_hz=h.sample_rate_hz, diameter_cm=h.roller_diameter_cm,
                height_cm=h.user_height_cm, clock_start_s=float(recording.t_s[0]),
                override=override and verdict is not Verdict.ALLOWED, verdict=verdict.value,
                person_id=settings.person.id if settings.person else None,
            )
            t0 = float(recording.t_s[0])
            estimator = SessionEstimator(h.routine, Body(h.user_height_cm), h.roller_diameter_cm,
                                         h.sample_rate_hz, settings.estimator,
                                         [replace(p, at_s=t0 + p.at_s) for p in h.parts])
            with clean_errors():
                session_id = store_recording(store, start, estimator, recording, digest,
                                             settings.lifecycle)
            click.echo(f"stored {path} as session {session_id}", err=True)


def _start_time(recording: Recording, path: Path, at: str | None, zone: str) -> datetime:
    """When the recording began; never in the future (a typo would skew every schedule)."""
    text = at or recording.header.extra.get("started_at")
    duration = timedelta(seconds=float(recording.t_s[-1] - recording.t_s[0]))
    if text:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            fail(f"{quote(text)} is not an ISO 8601 time, e.g. 2026-11-22T18:30")
        moment = moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone))
    else:
        moment = datetime.fromtimestamp(path.stat().st_mtime, UTC) - duration
    now = clock.now()
    try:
        if moment + duration > now + timedelta(minutes=5):
            fail(f"{path}: it would end {moment + duration:%Y-%m-%d %H:%M %Z}, in the future; "
                 "give --at when it was rolled")
    except OverflowError:
        fail(f"{path}: {moment} is too far in the future; give --at when it was rolled")
    return moment


@click.command()
@click.option("--week", is_flag=True, help="Only this week.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Only sessions from this day.")
@click.option("--last", type=COUNT, default=30, show_default=True,
              help="Show only the most recent sessions (unless --week, --since or --all).")
@click.option("--all", "every", is_flag=True, help="Every session.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per session, per line.")
@click.option("--person", "person", metavar="NAME", help="Only their sessions [default: "
              "everyone's].")
@gateway_option
@db_option
@click.pass_obj
def history(settings: Settings, week: bool, since: datetime | None, last: int, every: bool,
            as_json: bool, person: str | None, gateway: str | None) -> None:
    """Stored sessions, oldest first."""
    with store_of(settings) as store:
        who = whose(store, settings, person)
        names = {p.id: p.name for p in store.people.all()}
        zone = ZoneInfo(who.zone)
        start: datetime | None = None
        if week:
            today = clock.now().astimezone(zone).date()
            start = datetime.combine(week_start(today, who.rules), datetime.min.time(), zone)
        elif since:
            start = since.replace(tzinfo=zone)
        limit = None if (start or every or as_json) else last
        only = who.person.id if person and who.person else None
        rows = store.sessions(since=start, last=limit, person=only, origin=gateway)
        total = len(store.people.session_ids(who.person)) if only and who.person \
            else store.count()
        warn_damaged(store.damaged)
    if as_json:
        for row in rows:
            click.echo(json.dumps(row_json(row, names), separators=(",", ":")))
        return
    title = f"{len(rows)} sessions" + (f" (the last of {total}; --all for every one)"
                                       if len(rows) < total and limit else "")
    table = Table(title=title, box=box.SIMPLE, padding=(0, 1), pad_edge=False)
    table.caption = "* glute schedule overridden; ! interrupted (saved up to its last checkpoint)"
    several = len(names) > 1 and not only
    gateways = any(r.origin for r in rows) and not gateway  # a central store's

    def whom(row: SessionRow) -> tuple[str, ...]:
        """Whose, and in a central store from which gateway: ``Ada@gym-2``."""
        if not (several or gateways):
            return ()
        name = names.get(row.person_id, "?") if several else ""
        if gateways and row.origin:  # "me (gym-2)", named so beside this store's "me"
            name = re.sub(rf" \({re.escape(row.origin)}( [0-9a-f]+)?\)$", "", name)
        return (escape(visible(name))
                + (f"@{escape(visible(row.origin or 'here'))}" if gateways else ""),)

    shared = several or gateways  # a who column: active time and cadence make room for it
    columns = ("id", "started", *(("who",) if shared else ()), "routine", "time",
               *(() if shared else ("active",)), "strokes", *(() if shared else ("cpm",)),
               "lumbar")
    for name in columns:
        text = name in {"started", "who", "routine"}
        table.add_column(name, justify="left" if text else "right", no_wrap=name != "who")
    for row in rows:
        table.add_row(
            str(row.id), _local(row.started_at, row.zone).strftime("%a %d %b %H:%M"),
            *whom(row), _routine_note(row), session_time(row.duration_s),
            *(() if shared else (session_time(row.active_s),)), str(row.strokes),
            *(() if shared else (f"{row.cadence_cpm:.0f}",)),
            f"[red]{row.lumbar_events}[/red]" if row.lumbar_events else "0",
        )
    Console().print(table)


def _routine_note(row: SessionRow) -> str:
    marks = ("*" if row.override else "") + ("!" if row.status == "interrupted" else "")
    return areas(row.areas) + marks


def row_json(row: SessionRow, names: dict[int, str]) -> dict[str, object]:
    data = asdict(row)
    data["person"] = names.get(row.person_id)
    data["started_at"] = row.started_at.isoformat()
    data["ended_at"] = row.ended_at.isoformat() if row.ended_at else None
    return data


@click.group()
def session() -> None:
    """One stored session."""


session.add_command(comfort)


@session.command("show")
@click.argument("session_id", type=SESSION_ID)
@click.pass_obj
def session_show(settings: Settings, session_id: int) -> None:
    """Summary, segments, lumbar events and a position-over-time chart."""
    from tracker.cli.charts import print_session
    from tracker.core.pictures.session_figure import session_picture
    from tracker.live.shown import shown

    with store_of(settings) as store:
        row = store.session(session_id)
        detail = store.session_detail(session_id)
        program = store.program(session_id)
        settings = settings.for_person(store.people.by_id(row.person_id))
        a, body, tracked = shown(store, row, detail, settings)
    console = Console()
    title = f"session {row.id}: {areas(row.areas)}, " \
            f"{_local(row.started_at, row.zone):%a %Y-%m-%d %H:%M} ({row.status})"
    table = Table(title=title, show_header=False)
    table.add_row("duration", session_time(row.duration_s))
    table.add_row("active", session_time(row.active_s))
    table.add_row("strokes", f"{row.strokes} ({row.cadence_cpm:.0f} cycles/min)")
    table.add_row("segments", ", ".join(
        f"{s.region} {session_time(s.start_s)}-{session_time(s.end_s)}"
        for s in detail.segments[:12])
        + (f", ... {len(detail.segments) - 12} more" if len(detail.segments) > 12 else ""))
    cautions = detail.caution_events if row.caution_events is not None else None
    table.add_row("lower back", "\n".join(near_lumbar(detail.lumbar_events, cautions)))
    if program is not None:
        title, outcomes = program
        table.add_row("program", escape("\n".join([visible(title), *(
            f"{o.index + 1}. {visible(o.title)}: {o.status.replace('_', ' ')}, "
            f"{o.seconds:.0f} s" + (f" ({visible(o.reason)})" if o.reason else "")
            for o in outcomes)])))
    if tracked:
        guide = score(a, settings.rules)
        r = settings.rules
        table.add_row("bouts", f"{len(guide.bouts)}: {guide.bouts_short} under "
                      f"{r.bout_min_s:.0f} s, {guide.bouts_long} over {r.bout_max_s:.0f} s")
        table.add_row("pauses", f"{len(guide.pauses)}: {guide.pauses_in_range} within "
                      f"{r.pause_min_s:.0f}-{r.pause_max_s:.0f} s")
        table.add_row("pace", pace_text(a, r))
        if a.parts:
            table.add_row("parts", "\n".join(parts_lines(a, r)))
    console.print(table)
    print_session(console, session_picture(a, body, settings.rules))


@click.command()
@click.argument("ids", nargs=-1, type=SESSION_ID)
@click.option("--all", "every", is_flag=True, help="Every session with raw samples.")
@db_option
@click.pass_obj
def reanalyze(settings: Settings, ids: tuple[int, ...], every: bool) -> None:
    """Re-run the current estimator on stored raw samples and update the sessions."""
    from tracker.core.estimate import analyze

    if bool(ids) == every:
        fail("give session IDs or --all")
    with store_of(settings) as store:
        targets = [r.id for r in store.sessions()] if every else list(ids)
        damaged = dict(store.damaged)
        done = 0
        with click.progressbar(targets, label="re-analysing", file=sys.stderr) as bar:
            for session_id in bar:
                try:
                    recording = store.recording(session_id)
                except DamagedSession as exc:
                    damaged[session_id] = exc.what
                    continue
                if recording is None:
                    continue
                store.replace_analysis(session_id, analyze(recording, settings.estimator))
                done += 1
        warn_damaged(damaged)
    click.echo(f"re-analysed {done} of {len(targets)} sessions", err=True)
    if damaged:
        sys.exit(1)


@session.command("delete")
@click.argument("session_id", type=SESSION_ID)
@click.option("--yes", is_flag=True, help="Do not ask.")
@click.pass_obj
def session_delete(settings: Settings, session_id: int, yes: bool) -> None:
    """Delete a session with its raw samples, for good."""
    with store_of(settings) as store:
        row = store.session(session_id)
        what = (f"session {row.id} ({row.routine.replace('_', ' ')}, "
                f"{_local(row.started_at, row.zone):%a %Y-%m-%d %H:%M})")
        if not yes:
            if not sys.stdin.isatty():
                fail(f"delete {what}? Give --yes to delete without asking")
            click.confirm(f"Delete {what} and its raw samples for good?", abort=True)
        store.delete_session(session_id)
    click.echo(f"deleted {what}", err=True)


@click.command()
@click.option("--recover", "into", type=click.Path(dir_okay=False, path_type=Path),
              metavar="NEW.db", help="Copy everything that can still be read into a new "
              "store NEW.db (the damaged file is only read).")
@db_option
@click.pass_obj
def check(settings: Settings, into: Path | None) -> None:
    """Check the store: SQLite's integrity check, and every session read back in full."""
    from tracker.store import repair
    from tracker.store.errors import StoreError
    from tracker.store.opening import default_path, open_store

    path = Path(settings.db_path) if settings.db_path else default_path()
    if into is not None:
        _recover(path, into)
        return
    # The check only reads: what a damaged file still holds is not the check's to change.
    problems = repair.integrity(path) if path.exists() else []
    damaged: dict[int, str] = {}
    total = 0
    try:
        store = open_store(path)
    except StoreError as exc:
        problems.append(f"the store cannot be opened: {str(exc).removeprefix(f'{path}: ')}")
    else:
        try:
            total, damaged = store.check()
        finally:
            store.close()
    for problem in problems:
        click.echo(f"integrity: {problem}")
    for session_id, what in damaged.items():
        click.echo(f"session {session_id}: {what}")
    if problems or damaged:
        fail(f"{path}: {len(damaged)} of {total} sessions damaged, {len(problems)} integrity "
             f"problem(s); the others are readable; to copy what can be read into a new "
             f"store: roller --db {path} check --recover NEW.db", 1)
    click.echo(f"{path}: ok, {total} sessions, all readable")


def _recover(path: Path, into: Path) -> None:
    """``check --recover``: every readable row of ``path`` into a new store ``into``."""
    from tracker.store import repair

    if into.exists():
        fail(f"{into} exists: give a new file to recover into (nothing is written over)")
    if into.resolve() == path.resolve():
        fail("recover into a new file, not the damaged one")
    if not path.exists():
        fail(f"{path}: no store there to recover")
    with clean_errors():
        done = repair.recover(path, into)
    for table, copied in done.copied.items():
        lost = done.lost.get(table, 0)
        click.echo(f"{table}: {copied} row(s) copied" + (f", {lost} unreadable" if lost else ""))
    for table in done.unreadable:
        click.echo(f"{table}: could not be read")
    click.echo(f"{into}: {done.copied.get('sessions', 0)} session(s) recovered from {path}; "
               f"use it with roller --db {into}, or move it over {path} once you have "
               "looked (keep the damaged file until then)", err=True)
