"""The store as every command opens it (``--db``, migrated, sessions left live by a crash
closed, errors in one line), and the schedule's refusal of a glute session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import click

from tracker.cli.errors import clean_errors, fail
from tracker.config import Settings
from tracker.live.admission import check_start
from tracker.schedule import Verdict
from tracker.store.database import Store, open_store


def _use_db(ctx: click.Context, _: click.Parameter, path: Path | None) -> None:
    if path is not None:
        ctx.obj = replace(ctx.obj, db_path=str(path))


#: ``--db`` after a command too (``roller track --db x.db``), same as ``roller --db x.db``.
db_option = click.option("--db", type=click.Path(dir_okay=False, path_type=Path),
                         expose_value=False, callback=_use_db,
                         help="Session database (as roller --db).")


@contextmanager
def store_of(settings: Settings) -> Iterator[Store]:
    with clean_errors():
        store = open_store(Path(settings.db_path) if settings.db_path else None)
        try:
            store.close_interrupted()
            yield store
        finally:
            store.close()


def warn_damaged(damaged: dict[int, str]) -> None:
    """Damaged sessions a command skipped, one line each; the others were shown."""
    for session_id, what in damaged.items():
        click.echo(f"roller: warning: session {session_id} is damaged: {what} (roller check)",
                   err=True)


def enforce(store: Store, settings: Settings, routine: str, at: datetime,
            override: bool) -> Verdict:
    """Refuse a glute session that is too soon or over quota, unless overridden."""
    verdict, allowed, why = check_start(store, settings.rules, settings.zone, routine, at)
    if verdict is not Verdict.ALLOWED and not override:
        store.outbox.record_refusal(routine, verdict.value, allowed.isoformat(), at)
        fail(f"glute session refused ({why}); next allowed {allowed:%a %Y-%m-%d}; "
             "use --override to store it anyway")
    return verdict
