"""``roller report``: a person's last weeks as one HTML file (or its PDF) to share with a
physiotherapist.

The command does the I/O: the store, the clock, the file, the browser that prints the PDF.
What the report says and how it looks are :mod:`tracker.core.pictures.share`'s, pure.

The PDF is the HTML page printed by headless Chromium: the page a person opens and the one a
clinician files are drawn by one engine, CSS page margin boxes put the name, id and period on
every page, and Chromium is what the tests open the report in already. WeasyPrint would be a
second renderer to keep in agreement, with Pango and Cairo beneath it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
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
#: The browsers that can print the PDF, by the names Debian, Ubuntu and Google give them.
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
#: How long the browser may take to print (s): a report of years prints in a few seconds.
PRINT_TIMEOUT_S = 120.0


@click.command("report")
@person_option
@click.option("--weeks", type=click.IntRange(1, 520), default=12, show_default=True,
              help="How many weeks, this one included.")
@click.option("-o", "--output", required=True, metavar="FILE",
              type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
              help="The HTML file to write (readable by you alone), or - for stdout.")
@click.option("--pdf", is_flag=True,
              help="Write a PDF instead, the page printed by headless Chromium (which must be "
              "installed), with the name, id and period on every page.")
@click.option("--now", "now_text", hidden=True,
              help="Make the report as of this moment (ISO 8601 with its offset): a report "
              "made again as it was, and the tests' fixed clock.")
@db_option
@click.pass_obj
def report(settings: Settings, person: str | None, weeks: int, output: Path, pdf: bool,
           now_text: str | None) -> None:
    """A report to share: the weeks' adherence, lumbar contacts, time per area and every
    session, as one self-contained HTML file with its charts inside (no script, nothing
    fetched), for a physiotherapist to open in any browser."""
    with clean_errors():
        now = clock.parse_moment(now_text) if now_text else clock.now()
    to_stdout = str(output) == "-"
    if pdf and to_stdout:
        fail("--pdf writes a file: give it -o FILE.pdf")
    final = None if to_stdout else _writable(output)  # before the work, not after it
    browser = _browser() if pdf else None  # missing: said before the work, too
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
    elif browser is not None:
        _write(final, _printed(browser, text))
    else:
        _write(final, text.encode("utf-8"))
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


def _browser() -> str:
    """The Chromium that prints the PDF; its absence is the machine's to fix (exit 1)."""
    found = next(filter(None, map(shutil.which, BROWSERS)), None)
    if found is None:
        fail("--pdf needs Chromium to print the report (apt-get install chromium); the HTML "
             "report needs nothing", ENVIRONMENT)
    return found


def _printed(browser: str, text: str) -> bytes:
    """The page printed to PDF by headless Chromium, in a private folder of its own (its
    profile too: nothing of the person's browser is touched), offline: the page fetches
    nothing. A browser that fails or hangs is the machine's failure (exit 1)."""
    with tempfile.TemporaryDirectory(prefix="roller-report-") as folder:
        page, printed = Path(folder, "report.html"), Path(folder, "report.pdf")
        page.write_text(text, encoding="utf-8")
        command = [browser, "--headless", "--disable-gpu", "--disable-dev-shm-usage",
                   "--disable-background-networking", "--no-first-run",
                   "--no-pdf-header-footer", f"--user-data-dir={Path(folder, 'profile')}",
                   f"--print-to-pdf={printed}", page.as_uri()]
        if os.geteuid() == 0:  # Chromium refuses root without it
            command.insert(2, "--no-sandbox")
        try:
            done = subprocess.run(command, capture_output=True, text=True,
                                  timeout=PRINT_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            fail(f"{browser} did not print the report within {PRINT_TIMEOUT_S:.0f} s",
                 ENVIRONMENT)
        if done.returncode != 0 or not printed.is_file():
            why = (done.stderr.strip().splitlines() or ["no PDF"])[-1]
            fail(f"{browser} could not print the report: {why}", ENVIRONMENT)
        return printed.read_bytes()


def _write(final: Path, data: bytes) -> None:
    """The report at ``final`` at once or not at all (a temporary file beside it, renamed
    over it), readable by its owner only: sessions are health data. A failure now (a full
    disk) is the machine's: exit 1."""
    partial: str | None = None
    try:
        fd, partial = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.",
                                       suffix=".partial")  # created 0600
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(partial, final)
    except OSError as exc:
        if partial is not None:
            with contextlib.suppress(OSError):
                os.unlink(partial)
        fail(f"{final}: cannot write: {exc.strerror or exc}", ENVIRONMENT)
