"""``roller track`` and ``roller dashboard`` as a person sees them: the real command on a
real terminal (a pty) of an ordinary width, read through a terminal emulator."""

from __future__ import annotations

import contextlib
import re
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.terminal import Screenful, terminal
from tracker.core.guidance import ALERT, ALERT_SHORT, CAUTION, CAUTION_SHORT
from tracker.store.opening import open_store

#: The alert and the caution, in each form the frame may choose for a width.
ALERTS = {ALERT, ALERT_SHORT}
CAUTIONS = {CAUTION, CAUTION_SHORT.capitalize()}
#: The frame's line of where the roller is: "thoracic  51.0 ±2.5 cm  13 strokes  80 cpm".
WHERE = re.compile(r"^\w+  \d+\.\d ±\d+\.\d cm  \d+ strokes")


def first_frame_line(rows: list[str], wanted: set[str]) -> int | None:
    """The row of ``wanted`` when a frame shows it whole, alone on its row and ahead of
    everything else the frame says (the row above is not the frame's, the row below is
    where the roller is); else None."""
    for i, row in enumerate(rows[1:-1], start=1):
        if row in wanted and rows[i - 1] == "" and WHERE.match(rows[i + 1]):
            return i
    return None


#: What ``roller track`` asks at a terminal once its session is stored.
COMFORT = "Comfort, upper back (0 none, 10 worst; Enter skips):"


def stray(tmp_path: Path, columns: int) -> Screenful:
    """A session of the simulator's person who strays into the lumbar band (seed 17 does, at
    0:11.1, with a caution before): real time times 8. Asked how the upper back felt, the
    person says 3."""
    with terminal(tmp_path, "--db", str(tmp_path / "r.db"), "track", "--sim", "--scenario",
                  "stray", "--seed", "17", "--seconds", "40", "--speed", "8",
                  columns=columns) as term:
        term.until(lambda rows: COMFORT in rows, 120)
        term.press(b"3\r")
        return term.wait(30)


@pytest.mark.cli
@pytest.mark.parametrize("columns", [60, 80, 100, 120])
def test_the_alert_is_seen_whole_first_and_rung_once_then_the_frame_is_cleared(
        tmp_path: Path, columns: int) -> None:
    seen = stray(tmp_path, columns)
    assert seen.returncode == 0, "\n".join(seen.last)
    assert any(first_frame_line(rows, ALERTS) for rows in seen.screens), \
        "the alert was never shown whole on its own first line"
    assert any(first_frame_line(rows, CAUTIONS) for rows in seen.screens), \
        "the caution was never shown whole on its own first line"
    assert all(len(row) < columns for rows in seen.screens for row in rows)  # nothing wraps
    (session,) = open_store(tmp_path / "r.db").sessions()
    assert session.lumbar_events >= 1 and seen.bells == session.lumbar_events  # one an alert
    # Once the session has ended, the summary alone: no banner, no stale frame above it.
    summary = next(i for i, row in enumerate(seen.last) if row.startswith("session 1 ("))
    assert not any(row in ALERTS | CAUTIONS or WHERE.match(row) or row.startswith("live  loss")
                   for row in seen.last)
    assert seen.last[summary - 1] == "" and seen.last[summary - 2].endswith("on your left.")
    # then the question, answered: the score kept for the session's part
    assert any(row.startswith("comfort 3 of 10 kept for the upper back") for row in seen.last)
    assert open_store(tmp_path / "r.db").comfort.of_session(session.id) == {0: 3}


def under_the_title(rows: list[str]) -> str:
    """The text of the dashboard's three rows under its title bar, as one paragraph."""
    return " ".join(" ".join(row.split()) for row in rows[1:4]).strip()


@pytest.mark.cli
def test_the_dashboard_shows_the_alert_whole_first_in_a_real_terminal(tmp_path: Path) -> None:
    """The real ``roller dashboard`` at 80x24: the safety notes, then the session; the alert
    is whole in the lines right under the title, the bell rung once for it, and q ends the
    session stored."""
    with terminal(tmp_path, "--db", str(tmp_path / "r.db"), "dashboard", "--sim",
                  "--scenario", "stray", "--seed", "17", "--seconds", "40", "--speed", "8",
                  columns=80, lines=24) as term:
        term.until(lambda rows: any("I understand" in row for row in rows), 60)
        term.press(b"\r")
        rows = term.until(lambda rows: under_the_title(rows) == ALERT, 60)
        assert "roller" in rows[0]
        term.press(b"q")
        seen = term.wait(60)
    (session,) = open_store(tmp_path / "r.db").sessions()
    assert seen.returncode == 0 and session.lumbar_events >= 1
    assert seen.bells == session.lumbar_events  # one an alert


def stored(db: Path) -> list[tuple[str, str | None]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        try:
            return conn.execute("SELECT status, end_reason FROM sessions").fetchall()
        except sqlite3.OperationalError:  # not made yet
            return []


@pytest.mark.cli
@pytest.mark.parametrize("command", ["dashboard", "track"])
@pytest.mark.parametrize("how", ["SIGHUP", "SIGTERM", "stalled"])
def test_a_session_ends_stored_when_its_terminal_is_gone_and_it_is_told_to(
        tmp_path: Path, command: str, how: str) -> None:
    """The terminal closes under a running session (a closed tmux pane), or stays open but
    takes nothing more (an SSH link dropped without a word: sshd holds the terminal and
    reads no more of it), then the command is told to end: it ends within 5 s, its
    session stored."""
    db = tmp_path / "r.db"
    with terminal(tmp_path, "--db", str(db), command, "--sim", "--seconds", "600",
                  "--speed", "1", columns=100, lines=32) as term:
        if command == "dashboard":
            term.until(lambda rows: any("I understand" in row for row in rows), 60)
            term.press(b"\r")
        deadline = time.monotonic() + 60
        while not (db.exists() and stored(db)) and time.monotonic() < deadline:
            term.read(0.2)
        time.sleep(2.0)  # a few seconds of session, the screen redrawn all the while
        if how == "stalled":  # nobody reads: the terminal's buffer is full
            term.fill()  # (the dashboard, drawing 15 KB a second, may have filled it already)
            time.sleep(3.0)  # and stays full while the command writes on
        else:
            term.hang_up()  # the terminal goes away
            time.sleep(1.0)
        term.proc.send_signal(getattr(signal, how, signal.SIGTERM))
        try:
            term.proc.wait(5)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{command} was still running 5 s after {how}") from None
    assert stored(db) == [("complete", "stopped")]


@pytest.mark.cli
def test_the_dashboard_draws_the_whole_screen_again_once_its_terminal_reads_again(
        tmp_path: Path) -> None:
    """A stall (the terminal read nothing for a while) drops frames; once it reads again,
    the whole screen is drawn again: nothing stale or foreign is left on it."""
    db = tmp_path / "r.db"
    with terminal(tmp_path, "--db", str(db), "dashboard", "--sim", "--seconds", "600",
                  "--speed", "1", columns=100, lines=32) as term:
        term.until(lambda rows: any("I understand" in row for row in rows), 60)
        term.press(b"\r")
        deadline = time.monotonic() + 60
        while not (db.exists() and stored(db)) and time.monotonic() < deadline:
            term.read(0.2)
        term.fill()  # foreign bytes, and a terminal that takes nothing more
        time.sleep(3.0)
        term.until(lambda rows: "." * 100 not in rows and any("roller" in r for r in rows[:2]),
                   20)
        rows = term.rows()
        assert not any(set(row) == {"."} for row in rows), "\n".join(rows)
        term.proc.send_signal(signal.SIGTERM)
        term.proc.wait(10)
    assert stored(db) == [("complete", "stopped")]
