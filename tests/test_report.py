"""``roller report``: the real command on six simulated weeks, the file it writes opened in a
real headless browser (Debian's chromium) and read back from what the browser built."""

from __future__ import annotations

import collections
import contextlib
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from tests.test_cli import assert_one_line_error
from tests.weeks import NOW, WEEKS, fill
from tracker.core.formats.roller_analysis import Part
from tracker.core.pictures.share.content import Listed, area_times, build
from tracker.core.pictures.share.html import page
from tracker.core.schedule import Rolled, Rules
from tracker.store.opening import open_store

Run = Callable[..., subprocess.CompletedProcess[str]]
CHROMIUM = shutil.which("chromium")
_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (make test installs it: apt-get "
    "install chromium)")


def needs_browser(test: Callable[..., None]) -> Callable[..., None]:
    """A test that opens the report in headless chromium (skipped where there is none)."""
    return pytest.mark.browser(_chromium(test))  # type: ignore[no-any-return]
FIRST, LAST = date(2026, 10, 12), date(2026, 11, 19)  # Monday of the first week; NOW's day
CLOCK = ("--now", NOW.isoformat())
ENV = {"ROLLER_USER_TIMEZONE": "UTC"}


@pytest.fixture(scope="module")
def weeks_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("weeks") / "r.db"
    fill(path).close()
    return path


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")


def roller_in(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real command, as the ``roller`` fixture runs it, for module-wide fixtures."""
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"), "PATH": "/usr/bin:/bin",
           **ENV}
    return subprocess.run([sys.executable, "-m", "tracker", *args], capture_output=True,
                          text=True, env=env, timeout=120)


def browser(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Headless chromium on a file; nothing of the machine's own profile touched."""
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--no-first-run",
         f"--user-data-dir={home / 'chromium'}", *args],
        capture_output=True, text=True, timeout=60)


def dom(home: Path, page: Path) -> str:
    """The document as the browser built it from the file."""
    shown = browser(home, "--dump-dom", page.as_uri())
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert "<body>" in shown.stdout
    return shown.stdout


def texts(html: str, pattern: str) -> list[str]:
    """The text inside each element ``pattern`` matches, tags removed."""
    return [re.sub(r"<[^>]+>", "", m) for m in re.findall(pattern, html, re.S)]


@pytest.fixture(scope="module")
def report(weeks_db: Path, home: Path) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = home / "report.html"
    made = roller_in(home, "--db", str(weeks_db), "report", "--weeks", str(WEEKS), "-o",
                     str(out), *CLOCK)
    assert made.returncode == 0, made.stderr
    return out, made


def period_rows(db: Path, name: str | None = None) -> list[tuple[int, int]]:
    """(id, lumbar contacts) of the person's sessions in the report's weeks, from the store."""
    store = open_store(db)
    try:
        person = store.people.resolve(name)
        return [(s.id, s.lumbar_events) for s in store.sessions(person=person.id)
                if FIRST <= s.started_at.date() <= LAST]
    finally:
        store.close()


@needs_browser
def test_the_browser_shows_the_weeks_the_charts_and_every_session(
        report: tuple[Path, subprocess.CompletedProcess[str]], weeks_db: Path,
        home: Path) -> None:
    out, made = report
    rows = period_rows(weeks_db)
    lumbar = sum(count for _, count in rows)
    assert lumbar > 0  # the weeks stray onto the lumbar spine early on
    assert made.stderr.strip().splitlines() == [
        f"roller: wrote {out}: me, {len(rows)} sessions in 6 weeks (12 Oct 2026 to 19 Nov 2026)"]
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # health data
    html = dom(home, out)
    assert texts(html, r'<h1 id="person">(.*?)</h1>') == ["Foam rolling: me"]
    assert texts(html, r'<p class="meta" id="period">(.*?)</p>') == [
        f"Mon 12 Oct 2026 to Thu 19 Nov 2026: 6 weeks, {len(rows)} sessions."]
    assert "Made Thu 19 Nov 2026 18:00 UTC" in html
    assert texts(html, r"<h2[^>]*>(.*?)</h2>") == [
        "Alerts", "Adherence", "Days rolled", "Rolling time each week",
        "Glute sessions each week", "Lumbar contacts each week", "Comfort", "Time per area",
        "Sessions"]  # no prescription: no section of it
    assert texts(html, r'<p id="no-alerts">(.*?)</p>') == ["No alerts in these weeks."]
    assert texts(html, r'<h2 id="comfort">.*?<p class="empty">(.*?)</p>') == [
        "No comfort scores in these weeks."]
    # Five charts, their text kept as text; the heat map a cell for each of the 42 days.
    assert len(re.findall(r"<svg\b", html)) == 5
    days = re.findall(r'<g id="heat-day-(\d{4}-\d\d-\d\d)"', html)
    assert len(days) == 7 * WEEKS and days[0] == "2026-10-12" and days[-1] == "2026-11-22"
    assert ">quota 3<" in html and ">goal: none<" in html
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert [i for i, n in collections.Counter(ids).items() if n > 1] == []
    # One row a session, their lumbar contacts the store's; the weeks add up to the same.
    sessions = re.findall(r'<tr class="session">(.*?)</tr>', html, re.S)
    assert len(sessions) == len(rows)
    cells = [texts(row, r"<td[^>]*>(.*?)</td>") for row in sessions]
    assert [int(c[6]) for c in cells] == [count for _, count in rows]
    weeks = [texts(row, r"<td[^>]*>(.*?)</td>") for row in
             re.findall(r'<tr class="week">(.*?)</tr>', html, re.S)]
    assert len(weeks) == WEEKS and sum(int(w[4]) for w in weeks) == lumbar
    adherence = texts(html, r"<li>(.*?)</li>")
    assert f"{lumbar} lumbar contacts, none in the last 3 weeks." in adherence
    assert "Glutes never rolled on consecutive days." in adherence
    assert any(c[2] == "upper back + glutes" for c in cells)  # a session of two areas
    assert ">upper back<" in html and ">glutes<" in html  # the time-per-area bars


@needs_browser
def test_the_page_looks_like_something(report: tuple[Path, subprocess.CompletedProcess[str]],
                                       home: Path) -> None:
    out, _ = report
    shot = home / "report.png"
    taken = browser(home, "--window-size=1200,2000", f"--screenshot={shot}", out.as_uri())
    assert taken.returncode == 0, taken.stderr[-2000:]
    with Image.open(shot) as image:
        assert image.size == (1200, 2000)
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50  # text, charts: not one blank colour


def test_the_file_stands_alone_and_comes_out_the_same_twice(
        report: tuple[Path, subprocess.CompletedProcess[str]], weeks_db: Path,
        home: Path) -> None:
    out, _ = report
    html = out.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert "<script" not in html.lower() and "<link" not in html.lower()
    assert "@import" not in html and "url(http" not in html
    again = roller_in(home, "--db", str(weeks_db), "report", "--weeks", str(WEEKS), "-o", "-",
                      *CLOCK)
    assert again.returncode == 0 and again.stdout == html
    assert again.stderr.startswith("roller: wrote the report to stdout: me, ")


@needs_browser
def test_someone_with_no_sessions_gets_a_report_that_says_so(
        roller: Run, weeks_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    shutil.copy(weeks_db, db)
    assert roller("--db", str(db), "people", "add", "Cy", env=ENV).returncode == 0
    out = tmp_path / "cy.html"
    made = roller("--db", str(db), "report", "--person", "Cy", "-o", str(out), *CLOCK, env=ENV)
    assert made.returncode == 0, made.stderr
    assert "Cy, 0 sessions in 12 weeks" in made.stderr
    html = dom(tmp_path, out)
    assert "<h1" in html and "Foam rolling: Cy" in html
    assert "No sessions in these weeks." in html and "Nothing rolled in these weeks." in html
    assert len(re.findall(r"<svg\b", html)) == 4  # no bars of time per area
    assert len(re.findall(r'<g id="heat-day-', html)) == 7 * 12
    assert re.findall(r'<tr class="session">', html) == []
    assert "No sessions yet." in html  # no weeks missed before a first session


def test_bad_input_one_line_and_the_store_unchanged(roller: Run, weeks_db: Path,
                                                    tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    shutil.copy(weeks_db, db)
    before = dump(db)
    out = tmp_path / "out.html"

    def report(*args: str) -> subprocess.CompletedProcess[str]:
        return roller("--db", str(db), "report", *args, env=ENV)

    assert_one_line_error(report("--person", "Zed", "-o", str(out)), "nobody called 'Zed'")
    weeks = report("--weeks", "0", "-o", str(out))
    assert weeks.returncode == 2 and "1<=x<=520" in weeks.stderr
    assert "Traceback" not in weeks.stderr
    # A path that cannot be written is the user's to correct, as for simulate -o: exit 2.
    assert_one_line_error(report("-o", str(tmp_path / "no" / "such" / "r.html")),
                          "cannot write: no such directory")
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)  # writing would never end
    assert_one_line_error(report("-o", str(pipe)), "not a regular file")
    assert_one_line_error(report("-o", str(out), "--now", "2026-11-19"), "needs its offset")
    assert_one_line_error(report("-o", str(out), "--now", "Thursday"), "not an ISO 8601 time")
    assert not out.exists()
    assert list(tmp_path.glob(".*partial")) == []
    assert dump(db) == before


@pytest.mark.cli
def test_other_commands_do_not_load_matplotlib() -> None:
    """matplotlib takes half a second to import: only ``roller report`` pays for it, when it
    writes a report (every command loaded here)."""
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, click; from tracker.cli.main import main; "
         "[main.get_command(click.Context(main), name) for name in main.list_commands(None)]; "
         "print(sorted(m for m in sys.modules if m.startswith('matplotlib')))"],
        capture_output=True, text=True, timeout=60)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "[]"


def dump(db: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return list(conn.iterdump())


def listed(day: int, areas: tuple[str, ...], active_s: float, glutes_s: float = 0.0,
           parts: tuple[Part, ...] = (), lumbar: int = 0) -> Listed:
    """A session on ``day`` November 2026 at 19:00 in Berlin."""
    at = datetime(2026, 11, day, 19, tzinfo=ZoneInfo("Europe/Berlin"))
    return Listed(Rolled(at, "Europe/Berlin", areas[0], glutes_s, areas, active_s, lumbar),
                  duration_s=active_s + 30, strokes=40, override=False, verdict=None,
                  interrupted=False, parts=parts)


def test_a_sessions_rolling_time_is_shared_among_its_areas_by_their_spans() -> None:
    both = listed(16, ("upper_back", "glutes"), 90.0, 30.0,
                  (Part("upper_back", 0, 0, 100, 30), Part("glutes", 110, 120, 170, 20)))
    alone = listed(17, ("upper_back",), 60.0)
    unknown = listed(18, ("upper_back", "calves"), 40.0)  # its parts damaged: equal shares
    assert area_times([both, alone, unknown]) == pytest.approx(
        {"upper_back": 60.0 + 60.0 + 20.0, "glutes": 30.0, "calves": 20.0})
    assert list(area_times([both, alone, unknown])) == ["upper_back", "glutes", "calves"]


def test_adherence_in_words_counts_glute_days_too_close_and_lumbar_weeks() -> None:
    now = datetime(2026, 11, 19, 20, tzinfo=UTC)
    sessions = [listed(d, ("glutes",), 60.0, 60.0) for d in (2, 3, 5, 9, 11, 13, 16, 17)]
    sessions.append(listed(4, ("upper_back",), 60.0, lumbar=2))
    made = build("Ada", ADA, sessions, now, "Europe/Berlin", Rules(), 3, date(2026, 10, 1))
    assert made.first == date(2026, 11, 2) and made.last == date(2026, 11, 19)
    assert made.adherence == [
        "Rolled on 9 of the last 18 days.",  # the report's 18 days: fewer than 30
        "Glute quota (3 a week) met in 2 of the 2 full weeks before this one; this week so far "
        "2 of 3.",
        "Glutes rolled on consecutive days 2 times.",
        "2 lumbar contacts, none in the last 2 weeks."]
    assert "19:00 CET" not in page(made)  # her own zone: no zone said
    travelled = build("Ada", ADA, sessions, now, "UTC", Rules(), 3, date(2026, 10, 1))
    assert "19:00 CET" in page(travelled)


ADA = "0a1b2c3d"


def test_adherence_counts_from_the_first_session_in_the_person_s_own_quota() -> None:
    """A person who began three weeks into a six-week report, with a quota of two: her
    weeks are counted from her start, against her own quota, in the chart's words too."""
    now = datetime(2026, 11, 19, 20, tzinfo=UTC)  # a Thursday; the report starts 12 Oct
    days = (2, 4, 9, 11, 16)  # November: two glute days in each full week, one this week
    sessions = [listed(d, ("glutes",), 60.0, 60.0) for d in days]
    rules = Rules(glute_sessions_per_week=2, glute_rest_days=1)
    made = build("Ben", ADA, sessions, now, "UTC", rules, 6, date(2026, 10, 28))
    assert made.adherence[:2] == [
        "Rolled on 5 of the last 23 days since the first session (28 Oct 2026).",
        "Glute quota (2 a week) met in 2 of the 3 full weeks since the first session "
        "(28 Oct 2026) before this one; this week so far 1 of 2."]
    text = page(made)
    assert "2 a week, 1 rest day after each" in text and "about three" not in text
    assert build("Ben", ADA, [], now, "UTC", rules, 6, None).adherence == ["No sessions yet."]
    long_ago = build("Ben", ADA, sessions, now, "UTC", rules, 6, date(2026, 9, 1))
    assert long_ago.adherence[0] == "Rolled on 5 of the last 30 days."


@needs_browser
def test_every_printed_page_says_whose_report_and_which_weeks(
        report: tuple[Path, subprocess.CompletedProcess[str]], weeks_db: Path,
        home: Path) -> None:
    """Printed as a clinician prints it (Chromium's own PDF): each page carries the name, the
    person's id and the period, and its number."""
    from pypdf import PdfReader

    out, _ = report
    pdf = home / "report.pdf"
    printed = browser(home, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", out.as_uri())
    assert printed.returncode == 0, printed.stderr[-2000:]
    store = open_store(weeks_db)
    try:
        uid = store.people.resolve(None).uid
    finally:
        store.close()
    pages = [page.extract_text() for page in PdfReader(pdf).pages]
    assert len(pages) > 1
    for number, text in enumerate(pages, 1):
        assert f"me (id {uid}), 12 Oct 2026 to 19 Nov 2026" in text, text
        assert f"page {number} of {len(pages)}" in text, text


@needs_browser
def test_the_pdf_carries_the_name_on_every_page_and_is_private(weeks_db: Path,
                                                              home: Path) -> None:
    out = home / "report.pdf"
    made = roller_in(home, "--db", str(weeks_db), "report", "--weeks", str(WEEKS), "--pdf",
                     "-o", str(out), *CLOCK)
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # health data
    from pypdf import PdfReader

    pages = [page.extract_text() for page in PdfReader(out).pages]
    assert len(pages) > 1 and all("me (id " in text for text in pages)
    assert "Adherence" in pages[0] and "Glute quota (3 a week) met in" in "".join(pages)


def test_a_pdf_without_chromium_is_one_line_and_writes_nothing(weeks_db: Path,
                                                              tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    env = {"HOME": str(tmp_path), "PATH": str(tmp_path / "bin"), **ENV}  # no browser there
    made = subprocess.run([sys.executable, "-m", "tracker", "--db", str(weeks_db), "report",
                           "--pdf", "-o", str(out), *CLOCK], capture_output=True, text=True,
                          env=env, timeout=60)
    assert made.returncode == 1 and not out.exists()
    assert made.stderr.splitlines() == [
        "roller: error: --pdf needs Chromium to print the report (apt-get install chromium); "
        "the HTML report needs nothing"]
    to_stdout = subprocess.run([sys.executable, "-m", "tracker", "--db", str(weeks_db),
                                "report", "--pdf", "-o", "-"], capture_output=True, text=True,
                               env=env, timeout=60)
    assert to_stdout.returncode == 2 and len(to_stdout.stderr.splitlines()) == 1


def central_store(tmp_path: Path) -> Path:
    """A central store holding a session of Ada's from gym-1 and of gym-2's "me"."""
    import json
    import uuid

    from tests.test_ingest_trust import good_record
    from tracker.core.formats.roller_session import parse
    from tracker.store import exchange

    template = good_record(tmp_path)
    db = tmp_path / "central.db"
    store = open_store(db)
    try:
        for gateway, name in (("gym-1", "Ada"), ("gym-2", "me")):
            record = {**template, "uid": uuid.uuid4().hex, "gateway": gateway,
                      "person": {**template["person"], "uid": uuid.uuid4().hex[:8],
                                 "name": name}}
            exchange.take(store, parse(json.dumps(record).encode()))
    finally:
        store.close()
    return db


@pytest.mark.cli
def test_everyone_on_a_central_store_a_report_each_and_an_index(roller: Run,
                                                               tmp_path: Path) -> None:
    db = central_store(tmp_path)
    folder = tmp_path / "reports"
    made = roller("--db", str(db), "report", "--everyone", "-o", str(folder), env=ENV)
    assert made.returncode == 0, made.stderr
    store = open_store(db)
    try:
        people = {p.name: p.uid for p in store.people.all()}
    finally:
        store.close()
    assert set(people) == {"me", "Ada", "me (gym-2)"}  # the central store's own, and two
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(["index.html", f"me-{people['me']}.html",
                            f"Ada-{people['Ada']}.html",
                            f"me-gym-2-{people['me (gym-2)']}.html"])
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in folder.iterdir())
    listing = (folder / "index.html").read_text()
    assert listing.count('<tr class="person">') == 3
    assert f'href="Ada-{people["Ada"]}.html"' in listing and "<td>gym-1</td>" in listing
    only = tmp_path / "gym-2"
    made = roller("--db", str(db), "report", "--gateway", "gym-2", "-o", str(only), env=ENV)
    assert made.returncode == 0, made.stderr
    assert sorted(p.name for p in only.iterdir()) == [
        "index.html", f"me-gym-2-{people['me (gym-2)']}.html"]

    def report(*args: str) -> subprocess.CompletedProcess[str]:
        return roller("--db", str(db), "report", *args, env=ENV)

    assert_one_line_error(report("--gateway", "gym-9", "-o", str(tmp_path / "x")),
                          "nobody came from gateway 'gym-9' (gateways: gym-1, gym-2)")
    assert_one_line_error(report("--everyone", "-o", str(folder / "index.html")), "not a folder")
    assert_one_line_error(report("--everyone", "--person", "Ada", "-o", str(tmp_path / "y")),
                          "--person is one report")
    assert_one_line_error(report("--everyone", "-o", "-"), "writes files")
    listed = roller("--db", str(db), "history", env=ENV).stdout
    assert "me@gym-2" in listed and "(gym-2)@" not in listed and "Ada@gym-1" in listed


def test_a_long_name_from_another_gateway_still_makes_a_file_name() -> None:
    """32 letters of four bytes each, and a gateway id of 64: the file name stays short."""
    from tracker.cli.report import _file_name

    name = "\U0001d538" * 32 + " (" + "g" * 64 + " 0123abcd)"
    made = build(name, ADA, [], datetime(2026, 11, 19, tzinfo=UTC), "UTC", Rules(), 2, None)
    file = _file_name(made, ".html")
    assert len(file.encode()) <= 64 + len(f"-{ADA}.html") and file.endswith(f"-{ADA}.html")
    assert file.startswith("\U0001d538")
