"""The ``roller`` command. It owns the terminal: library code only logs."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import click
from click.core import ParameterSource

from tracker import __version__
from tracker.cli import (
    devices,
    gateway,
    ingest,
    mqtt,
    people,
    pictures,
    programs,
    recordings,
    report,
    sessions,
    track,
)
from tracker.cli.errors import clean_errors
from tracker.config import load, user_config_path
from tracker.core import clock


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help=f"Configuration file [default: {user_config_path()}].")
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Session database [default: [store] path, ROLLER_DB, or the data dir].")
@click.option("-v", "--verbose", count=True, help="Log more (-v info, -vv debug).")
@click.option("--now", "now_text", hidden=True, envvar=clock.ENV,
              help="Start the clock at this moment (ISO 8601 with its offset): a command run "
              "as of another day, and the tests' clock.")
@click.version_option(__version__, prog_name="roller")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None, db_path: Path | None,
         verbose: int, now_text: str | None) -> None:
    """Track a smart foam roller: where it is on your body, how you roll, when to stop."""
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)],
        format="%(levelname)s %(name)s: %(message)s",
    )
    with clean_errors():
        if now_text:
            from_env = ctx.get_parameter_source("now_text") is ParameterSource.ENVIRONMENT
            clock.set_now(clock.parse_moment(now_text, clock.ENV if from_env else "--now"))
        settings = load(config_path)
    if db_path is not None:
        settings = replace(settings, db_path=str(db_path))
    ctx.obj = settings


@main.command("config-path")
def config_path_command() -> None:
    """Print where your configuration file is read from."""
    click.echo(user_config_path())


for command in [*recordings.COMMANDS, *sessions.COMMANDS, *track.COMMANDS, *devices.COMMANDS,
                *mqtt.COMMANDS, *gateway.COMMANDS, *people.COMMANDS,
                *programs.COMMANDS, *ingest.COMMANDS, *pictures.COMMANDS,
                *report.COMMANDS]:
    main.add_command(command)
