"""Comfort scores from the command line: ``roller session comfort ID SCORE`` for any stored
session, and the question ``roller track`` asks after each area once its session is stored.

The question is asked only of a person at a terminal (standard input and output both one):
a script, a pipe or a service gets the summary and nothing waits for an answer. Enter skips
an area; the end of input (ctrl+d, a terminal closed) skips the rest.
"""

from __future__ import annotations

import click

from tracker.cli.errors import clean_errors
from tracker.cli.store import store_of
from tracker.cli.types import SESSION_ID
from tracker.config import Settings
from tracker.core import clock
from tracker.core.comfort import SCALE, ComfortError, Score, parse_score
from tracker.store.database import Store

#: What the scale means, said with every question (which fits 60 columns: it is not the
#: only thing on a small terminal).
SCALE_TEXT = f"{SCALE[0]} none, {SCALE[1]} worst"


@click.command("comfort")
@click.argument("session_id", type=SESSION_ID)
@click.argument("score")
@click.option("--part", type=click.IntRange(1, 10_000), metavar="N",
              help="Which part of the session (1 the first)  [default: its last]")
@click.pass_obj
def comfort(settings: Settings, session_id: int, score: str, part: int | None) -> None:
    """How an area felt after rolling it: SCORE from 0 (none) to 10 (the worst), kept with
    the session's part (given again, it replaces the one before)."""
    with clean_errors():
        value = parse_score(score)
    with store_of(settings) as store, clean_errors():
        row = store.session(session_id)
        who = settings.for_person(store.people.by_id(row.person_id))
        given = store.comfort.give(session_id, value, clock.now(), who.alerts,
                                   seq=None if part is None else part - 1)
    click.echo(f"session {session_id}: {_said(given)}", err=True)


def ask(store: Store, settings: Settings, session_id: int, areas: list[str]) -> None:
    """Ask for a score after each of the session's ``areas`` (its parts, in order) and keep
    each one given. A wrong answer is said and asked again."""
    for seq, area in enumerate(areas):
        while True:
            try:
                text = click.prompt(f"Comfort, {area.replace('_', ' ')} ({SCALE_TEXT}; Enter "
                                    "skips)", default="", show_default=False, err=True)
            except click.Abort:  # the end of input: nobody answers any more
                click.echo("", err=True)
                return
            if not text.strip():
                break
            try:
                score = parse_score(text)
            except ComfortError as exc:
                click.echo(f"roller: {exc}", err=True)
                continue
            given = store.comfort.give(session_id, score, clock.now(), settings.alerts,
                                       seq=seq)
            click.echo(_said(given), err=True)
            break


def _said(given: Score) -> str:
    return f"comfort {given.score} of 10 kept for the {given.label} (part {given.seq + 1})"
