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
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

import click

from tracker.cli.errors import clean_errors, fail
from tracker.cli.store import db_option, person_option, store_of, warn_damaged, whose
from tracker.config import Settings
from tracker.core import clock
from tracker.core.formats.roller_analysis import Part
from tracker.core.formats.roller_imu import target
from tracker.core.limits import quote, visible
from tracker.core.pictures.share.content import Listed, Report, build
from tracker.core.schedule import since
from tracker.live import past
from tracker.store import clinician
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
@click.option("--everyone", is_flag=True,
              help="One report for each person, and index.html listing them all, in the "
              "folder -o names (a central store: each gateway's people).")
@click.option("--gateway", metavar="ID",
              help="As --everyone, for the people who came from this gateway only.")
@click.option("--weeks", type=click.IntRange(1, 520), default=12, show_default=True,
              help="How many weeks, this one included.")
@click.option("-o", "--output", required=True, metavar="FILE",
              type=click.Path(allow_dash=True, path_type=Path),
              help="The HTML file to write (readable by you alone), or - for stdout; with "
              "--everyone or --gateway, a folder.")
@click.option("--pdf", is_flag=True,
              help="Write a PDF instead, the page printed by headless Chromium (which must be "
              "installed), with the name, id and period on every page.")
@click.option("--now", "now_text", hidden=True,
              help="Make the report as of this moment (ISO 8601 with its offset): a report "
              "made again as it was, and the tests' fixed clock.")
@db_option
@click.pass_obj
def report(settings: Settings, person: str | None, everyone: bool, gateway: str | None,
           weeks: int, output: Path, pdf: bool, now_text: str | None) -> None:
    """A report to share: the weeks' adherence, lumbar contacts, time per area and every
    session, as one self-contained HTML file with its charts inside (no script, nothing
    fetched), for a physiotherapist to open in any browser."""
    with clean_errors():
        now = clock.parse_moment(now_text) if now_text else clock.now()
    many = everyone or gateway is not None
    if many and person is not None:
        fail("--person is one report; --everyone and --gateway are one for each person")
    to_stdout = str(output) == "-"
    if (pdf or many) and to_stdout:
        fail(f"{'--pdf' if pdf else '--everyone'} writes files: give it -o "
             f"{'FOLDER' if many else 'FILE.pdf'}")
    folder = _folder(output) if many else None  # checked before the work, not after it
    final = None if many or to_stdout else _writable(output)
    browser = _browser() if pdf else None  # missing: said before the work, too
    with store_of(settings) as store:
        if many:
            origins = store.people.origins()
            people = [p for p in store.people.all()
                      if gateway is None or origins.get(p.id) == gateway]
            if not people:
                fail(f"nobody came from gateway {quote(gateway or '')} (gateways: "
                     f"{visible(', '.join(sorted(set(filter(None, origins.values())))))})")
            made = [(_made(store, settings.for_person(p), now, weeks), origins.get(p.id))
                    for p in people]
        else:
            made = [(_made(store, whose(store, settings, person), now, weeks), None)]
    # matplotlib takes half a second to import: only this command pays for it.
    from tracker.core.pictures.share.html import index, page

    suffix = ".pdf" if pdf else ".html"
    files = []
    for one, _ in made:
        text = page(one)
        where = folder / _file_name(one, suffix) if folder else final
        if where is None:
            sys.stdout.write(text)
        else:
            _write(where, _printed(browser, text) if browser else text.encode("utf-8"))
        files.append(where)
        count = len(one.sessions)
        click.echo(f"roller: wrote {where or 'the report to stdout'}: "
                   f"{visible(one.person)}, {count} session{'s' if count != 1 else ''} in "
                   f"{weeks} week{'s' if weeks != 1 else ''} ({one.first:%d %b %Y} to "
                   f"{one.last:%d %b %Y})", err=True)
    if folder is not None:
        listing = index([(one, origin, where.name) for (one, origin), where
                         in zip(made, files, strict=True) if where is not None], now)
        _write(folder / "index.html", listing.encode("utf-8"))
        click.echo(f"roller: wrote {folder / 'index.html'}: {len(made)} "
                   f"{'person' if len(made) == 1 else 'people'}", err=True)


def _made(store: Store, who: Settings, now: datetime, weeks: int) -> Report:
    """One person's report, worked out from the store."""
    assert who.person is not None  # whose() and for_person() always name someone
    rows = past.rows(store, who, now, weeks)
    damaged = dict(store.damaged)
    sessions = [_listed(store, row, damaged) for row in rows]
    warn_damaged(damaged)
    return build(who.person.name, who.person.uid, sessions, now, who.zone, who.rules, weeks,
                 store.first_day(who.person.id),
                 store.prescriptions.followed(who.person),
                 store.comfort.of_person(who.person.id), who.alerts,
                 clinician.last_day_rolled(store, who.person.id,
                                           since(now, who.zone, who.rules, weeks)))


def _file_name(made: Report, suffix: str) -> str:
    """A person's report in a folder of everyone's: their name made safe for any file
    system, and their id (two people may share a name across gateways)."""
    safe = re.sub(r"[^\w.-]+", "-", made.person).strip("-.")
    # At most 64 bytes of it (a name from another gateway may carry its id): file names
    # end at 255 bytes, and the id keeps each one apart.
    safe = safe.encode()[:64].decode(errors="ignore").rstrip("-.") or "person"
    return f"{safe}-{made.person_id}{suffix}"


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
                  row.status == "interrupted", parts, row.id)


def _folder(output: Path) -> Path:
    """The folder the reports go in, made (private) if missing, checked before any work."""
    if output.exists() and not output.is_dir():
        fail(f"{output}: not a folder: --everyone and --gateway write one file per person")
    try:
        output.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"{output}: cannot make the folder: {exc.strerror or exc}")
    if not os.access(output, os.W_OK):
        fail(f"{output}: cannot write: no permission")
    return output


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
            done = subprocess.run(command, capture_output=True, text=True, errors="replace",
                                  timeout=PRINT_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            fail(f"{browser} did not print the report within {PRINT_TIMEOUT_S:.0f} s",
                 ENVIRONMENT)
        except OSError as exc:  # not executable, gone since it was found
            fail(f"{browser}: cannot run it: {exc.strerror or exc}", ENVIRONMENT)
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
