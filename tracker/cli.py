"""The ``roller`` command. It owns the terminal: library code only logs."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

import click

from tracker import __version__
from tracker.body import ROUTINES
from tracker.config import ConfigError, Settings, load, user_config_path
from tracker.recording import RecordingError
from tracker.store import StoreError, UnknownSession

BAD_INPUT = 2
log = logging.getLogger("roller")


def fail(message: str, status: int = BAD_INPUT) -> NoReturn:
    """One line on stderr and a non-zero exit: how every expected failure ends."""
    click.echo(f"roller: error: {message}", err=True)
    sys.exit(status)


@contextmanager
def clean_errors() -> Iterator[None]:
    """Turn the errors a user can cause into one line each, never a traceback."""
    try:
        yield
    except (ConfigError, RecordingError, UnknownSession) as exc:
        fail(str(exc))
    except StoreError as exc:
        fail(str(exc), 1)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        fail(f"{where}{exc.strerror or exc}", 1)


def _use_db(ctx: click.Context, _: click.Parameter, path: Path | None) -> None:
    if path is not None:
        ctx.obj = replace(ctx.obj, db_path=str(path))


#: ``--db`` after a command too (``roller track --db x.db``), same as ``roller --db x.db``.
db_option = click.option("--db", type=click.Path(dir_okay=False, path_type=Path),
                         expose_value=False, callback=_use_db,
                         help="Session database (as roller --db).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help=f"Configuration file [default: {user_config_path()}].")
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Session database [default: [store] path, ROLLER_DB, or the data dir].")
@click.option("-v", "--verbose", count=True, help="Log more (-v info, -vv debug).")
@click.version_option(__version__, prog_name="roller")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None, db_path: Path | None,
         verbose: int) -> None:
    """Track a smart foam roller: where it is on your body, how you roll, when to stop."""
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)],
        format="%(levelname)s %(name)s: %(message)s",
    )
    with clean_errors():
        settings = load(config_path)
    if db_path is not None:
        settings = replace(settings, db_path=str(db_path))
    ctx.obj = settings


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One roller-analysis/1 object per line.")
@click.pass_obj
def analyze(settings: Settings, files: tuple[Path, ...], as_json: bool) -> None:
    """Analyse roller-imu v1 recordings: position, regions, strokes, pauses, lumbar contact."""
    from tracker.estimate import analyze as run
    from tracker.recording import read

    failed = False
    for path in files:
        try:
            analysis = run(read(path), settings.estimator)
        except RecordingError as exc:
            click.echo(f"roller: error: {exc}", err=True)
            failed = True
            continue
        if as_json:
            click.echo(json.dumps(analysis.to_json(), separators=(",", ":")))
        else:
            from tracker.report import print_summary

            print_summary(analysis, title=str(path))
    if failed:
        sys.exit(BAD_INPUT)


@main.command()
@click.option("--routine", type=click.Choice(ROUTINES), default="upper_back", show_default=True)
@click.option("--scenario", type=click.Choice(["clean", "stray", "lumbar"]), default="clean",
              show_default=True, help="stray: some strokes slide into the lumbar band.")
@click.option("--seconds", type=click.FloatRange(10, 4 * 3600), default=120.0, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--rate", "rate_hz", type=click.Choice(["25", "50", "100", "200"]),
              help="Sample rate (Hz) [default: random with the seed].")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Recording to write; the ground truth goes beside it as NAME.truth.json.")
@click.pass_obj
def simulate(settings: Settings, routine: str, scenario: str, seconds: float, seed: int,
             rate_hz: str | None, output: Path) -> None:
    """Simulate a session on the virtual roller and write it as a recording."""
    from tracker.simulation import write_simulation

    with clean_errors():
        truth_path = write_simulation(
            output, routine, scenario, seconds, seed,
            float(rate_hz) if rate_hz else None, settings.body.height_cm,
        )
    click.echo(f"wrote {output} and {truth_path}", err=True)


@main.command()
@click.option("--routine", type=click.Choice(ROUTINES), default="upper_back", show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.pass_obj
def demo(settings: Settings, routine: str, seed: int) -> None:
    """Simulate a session that strays into the lumbar band, and show its analysis."""
    from tracker.estimate import analyze as run
    from tracker.report import print_summary
    from tracker.simulation import simulate_recording

    recording = simulate_recording(routine, "stray", 150.0, seed, None, settings.body.height_cm)
    print_summary(run(recording, settings.estimator), title=f"simulated {routine} session")


@main.command("config-path")
def config_path_command() -> None:
    """Print where your configuration file is read from."""
    click.echo(user_config_path())


def _register() -> None:
    from tracker import cli_live, cli_mqtt, cli_sessions

    for command in [*cli_sessions.COMMANDS, *cli_live.COMMANDS, *cli_mqtt.COMMANDS]:
        main.add_command(command)


_register()
