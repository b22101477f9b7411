"""``roller report``: a person's last weeks as one HTML file to share with a physiotherapist.

The command does the I/O: the store, the clock, the file. What the report says and how it
looks are :mod:`tracker.core.pictures.share`'s, pure.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

import click

from tracker.cli.errors import clean_errors, fail
from tracker.cli.store import db_option, person_option, store_of, warn_damaged, whose
from tracker.config import Settings
from tracker.core import clock
from tracker.core.formats.roller_analysis import Part
from tracker.core.formats.roller_imu import target
from tracker.core.limits import visible
from tracker.core.pictures.share.content import Listed, build
from tracker.live import past
from tracker.store.database import Store
from tracker.store.errors import DamagedSession
from tracker.store.rows import SessionRow

#: Environment failures while writing (exit 1); a path that cannot be written is bad input.
ENVIRONMENT = 1


@click.command("report")
@person_option
@click.option("--weeks", type=click.IntRange(1, 520), default=12, show_default=True,
              help="How many weeks, this one included.")
@click.option("-o", "--output", required=True, metavar="FILE",
              type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
              help="The HTML file to write (readable by you alone), or - for stdout.")
@click.option("--now", "now_text", hidden=True,
              help="Make the report as of this moment (ISO 8601 with its offset): a report "
              "made again as it was, and the tests' fixed clock.")
@db_option
@click.pass_obj
def report(settings: Settings, person: str | None, weeks: int, output: Path,
           now_text: str | None) -> None:
    """A report to share: the weeks' adherence, lumbar contacts, time per area and every
    session, as one self-contained HTML file with its charts inside (no script, nothing
    fetched), for a physiotherapist to open in any browser."""
    with clean_errors():
        now = clock.parse_moment(now_text) if now_text else clock.now()
    to_stdout = str(output) == "-"
    final = None if to_stdout else _writable(output)  # before the work, not after it
    with store_of(settings) as store:
        who = whose(store, settings, person)
        assert who.person is not None  # whose() always names someone
        rows = past.rows(store, who, now, weeks)
        damaged = dict(store.damaged)
        sessions = [_listed(store, row, damaged) for row in rows]
        started = store.first_day(who.person.id, who.zone)
    warn_damaged(damaged)
    # matplotlib takes half a second to import: only this command pays for it.
    from tracker.core.pictures.share.html import page

    made = build(who.person.name, who.person.uid, sessions, now, who.zone, who.rules, weeks,
                 started)
    text = page(made)
    if final is None:
        sys.stdout.write(text)
    else:
        _write(final, text)
    count = len(made.sessions)
    click.echo(f"roller: wrote {'the report to stdout' if to_stdout else output}: "
               f"{visible(who.person.name)}, {count} session{'s' if count != 1 else ''} in {weeks} "
               f"week{'s' if weeks != 1 else ''} ({made.first:%d %b %Y} to "
               f"{made.last:%d %b %Y})", err=True)


def _listed(store: Store, row: SessionRow, damaged: dict[int, str]) -> Listed:
    """A session as the report needs it; the parts only of a session of several areas (its
    rolling time is shared among them by their spans). A session whose parts are damaged is
    still listed, its time shared equally, and named among the damaged."""
    parts: tuple[Part, ...] = ()
    if len(row.areas) > 1:
        try:
            parts = tuple(store.session_detail(row.id).parts)
        except DamagedSession as exc:
            damaged[exc.session_id] = exc.what
    return Listed(row.rolled(), row.duration_s, row.strokes, row.override, row.verdict,
                  row.status == "interrupted", parts)


def _writable(output: Path) -> Path:
    """Where the report will land (through a symbolic link), checked before any work: a
    path that cannot be written is the user's to correct (exit 2), like ``simulate -o``."""
    with clean_errors():
        final = target(output)  # a directory, device or pipe is refused
    if not final.parent.is_dir() or not os.access(final.parent, os.W_OK):
        fail(f"{output}: cannot write: no such directory, or no permission")
    return final


def _write(final: Path, text: str) -> None:
    """The report at ``final`` at once or not at all (a temporary file beside it, renamed
    over it), readable by its owner only: sessions are health data. A failure now (a full
    disk) is the machine's: exit 1."""
    partial: str | None = None
    try:
        fd, partial = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.",
                                       suffix=".partial")  # created 0600
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(partial, final)
    except OSError as exc:
        if partial is not None:
            with contextlib.suppress(OSError):
                os.unlink(partial)
        fail(f"{final}: cannot write: {exc.strerror or exc}", ENVIRONMENT)
