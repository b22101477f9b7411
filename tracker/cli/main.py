"""The ``roller`` command. It owns the terminal: library code only logs.

A command's module is imported when that command runs, never before (:class:`LazyGroup`):
``roller history`` loads no Bluetooth, MQTT, charts or Textual, and ``roller --help`` not even
numpy (``python -m bench.startup`` times them).
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Final

import click
from click.core import ParameterSource

from tracker import __version__
from tracker.cli import logs
from tracker.cli.errors import clean_errors, fail, one_line_usage
from tracker.config import load, log_level, user_config_path
from tracker.core import clock

#: Every command but ``config-path``: where it is defined, and the first sentence of its help,
#: which ``roller --help`` lists without importing it (a test keeps each sentence its
#: command's).
COMMANDS: Final[dict[str, tuple[str, str]]] = {
    "analyze": ("tracker.cli.recordings:analyze", "Analyse roller-imu v1 recordings: "
                "position, regions, strokes, pauses, lumbar contact."),
    "calibrate": ("tracker.cli.devices:calibrate", "Learn how the sensor sits in its roller: "
                  "keep it still, roll it away and back."),
    "check": ("tracker.cli.sessions:check", "Check the store: SQLite's integrity check, and "
              "every session read back in full."),
    "dashboard": ("tracker.cli.track:dashboard", "The live terminal dashboard: body map, "
                  "lumbar alerts, schedule, history."),
    "demo": ("tracker.cli.recordings:demo", "Simulate a session that strays into the lumbar "
             "band, and show its analysis."),
    "devices": ("tracker.cli.devices:devices", "Rollers this computer knows; ``devices forget "
                "ADDRESS`` unpairs one."),
    "doctor": ("tracker.cli.devices:doctor", "Check Bluetooth, permissions, the paired roller "
               "and its protocol; say what is wrong."),
    "export": ("tracker.cli.export:export", "Sessions as a table, or each in a format other "
               "software reads (FIT, FHIR, raw samples)."),
    "gateway": ("tracker.cli.gateway:gateway", "Watch every paired roller, track each "
                "session by itself, keep Home Assistant current."),
    "history": ("tracker.cli.sessions:history", "Stored sessions, oldest first."),
    "import": ("tracker.cli.sessions:import_", "Store recordings as sessions, each in one "
               "transaction (all of it or nothing); a recording already stored with the same "
               "start is recognised and skipped."),
    "ingest": ("tracker.cli.ingest:ingest", "Keep every gateway's finished sessions in this "
               "store, each exactly once, until stopped (SIGTERM or Ctrl-C)."),
    "mqtt": ("tracker.cli.mqtt:mqtt", "The MQTT bridge to Home Assistant and friends ([mqtt] "
             "in the configuration)."),
    "pair": ("tracker.cli.devices:pair", "Choose the roller to use (the only one in range, or "
             "the one you pick)."),
    "people": ("tracker.cli.people:people", "The people who share a roller: sessions, "
               "schedules and Home Assistant entities are each person's own."),
    "prescription": ("tracker.cli.prescription:prescription", "A clinician's prescription "
                     "(import, show, list, end): while it runs, the person's program and "
                     "schedule."),
    "programs": ("tracker.cli.programs:programs", "Programs: areas and stretches in a guided "
                 "order (roller track --program NAME)."),
    "reanalyze": ("tracker.cli.sessions:reanalyze", "Re-run the current estimator on stored "
                  "raw samples and update the sessions."),
    "report": ("tracker.cli.report:report", "A report to share: the weeks' adherence, lumbar "
               "contacts, time per area and every session, as one self-contained HTML file "
               "with its charts inside (no script, nothing fetched), for a physiotherapist to "
               "open in any browser."),
    "scan": ("tracker.cli.devices:scan_command", "List sensors in range: address, signal "
             "strength, name, and what kind each is."),
    "schedule": ("tracker.cli.pictures:schedule", "This week at a glance: what was rolled "
                 "each day, the glute quota, the next glute day."),
    "session": ("tracker.cli.sessions:session", "One stored session."),
    "simulate": ("tracker.cli.recordings:simulate", "Simulate a session on the virtual roller "
                 "and write it as a recording."),
    "track": ("tracker.cli.track:track", "Stream from the roller, analyse live, store the "
              "session, print its summary."),
    "weeks": ("tracker.cli.pictures:weeks", "The last weeks: a heat map of rolling time a day, "
              "glute days and lumbar contacts, and each week's rolling time, glute sessions "
              "against the quota, and lumbar contacts."),
}


class LazyGroup(click.Group):
    """click's lazy group: a command of :data:`COMMANDS` is imported when it is looked up.
    ``--help`` lists them all, importing none; a name roller does not know loads them all, so
    that click can say which one was meant."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            module, _, name = COMMANDS[cmd_name][0].partition(":")
            self.add_command(getattr(importlib.import_module(module), name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        """Every command, its usage errors in one line, and with the last word on a store
        whose pages are damaged: a read that meets one where no command expected it ends in
        one line, never a traceback. A command that never imported :mod:`sqlite3` (``roller
        analyze``) cannot raise its error, and is spared its import."""
        try:
            with one_line_usage():
                return super().invoke(ctx)
        except Exception as exc:
            sqlite3 = sys.modules.get("sqlite3")
            if sqlite3 is None or not isinstance(exc, sqlite3.DatabaseError):
                raise
            from tracker.store.errors import explain

            db = getattr(ctx.obj, "db_path", None) or "the store"
            fail(f"{db}: {explain(exc)}", 1)

    def resolve_command(self, ctx: click.Context,
                        args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        if args[0] not in self.list_commands(ctx):
            for name in COMMANDS:
                self.get_command(ctx, name)
        return super().resolve_command(ctx, args)

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        with one_line_usage():
            return super().make_context(info_name, args, parent, **extra)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands as click lists them, each told by its sentence in :data:`COMMANDS`
        until it is loaded."""
        told = [click.Command(name, help=text) for name, (_, text) in COMMANDS.items()
                if name not in self.commands]
        click.Group(commands=[*self.commands.values(), *told]).format_commands(ctx, formatter)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help=f"Configuration file [default: {user_config_path()}].")
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Session database [default: [store] path, ROLLER_DB, or the data dir].")
@click.option("-v", "--verbose", count=True, help="Log more (-v info, -vv debug).")
@click.option("--log-level", "log_level_text", metavar="[debug|info|warning|error]",
              help="Log this much on stderr [default: [log] level, ROLLER_LOG_LEVEL, else "
              "warning; info for roller gateway].")
@click.option("--now", "now_text", hidden=True, envvar=clock.ENV,
              help="Start the clock at this moment (ISO 8601 with its offset): a command run "
              "as of another day, and the tests' clock.")
@click.version_option(__version__, prog_name="roller")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None, db_path: Path | None,
         verbose: int, log_level_text: str | None, now_text: str | None) -> None:
    """Track a smart foam roller: where it is on your body, how you roll, when to stop."""
    private_by_default()
    logs.configure("debug" if verbose > 1 else "info" if verbose else "warning")
    with clean_errors():
        if now_text:
            from_env = ctx.get_parameter_source("now_text") is ParameterSource.ENVIRONMENT
            clock.set_now(clock.parse_moment(now_text, clock.ENV if from_env else "--now"))
        chosen = log_level(log_level_text, "--log-level") if log_level_text is not None else ""
        settings = load(config_path)
    # The first of --log-level, -v, [log] level (ROLLER_LOG_LEVEL); else the command's own.
    chosen = chosen or ("debug" if verbose > 1 else "info" if verbose else settings.log_level)
    logs.configure(chosen or "warning")
    settings = replace(settings, log_level=chosen)
    if db_path is not None:
        settings = replace(settings, db_path=str(db_path))
    ctx.obj = settings


def private_by_default() -> None:
    """Every file and folder a command creates is its owner's alone (0600, 0700): recordings
    (``--record``, ``simulate -o``), exports, reports and the store hold health data. One
    umask for the whole process, added to the user's own, covers every writer, the ones
    written tomorrow too; sharing a file is a ``chmod`` (README)."""
    os.umask(os.umask(0o077) | 0o077)


@main.command("config-path")
def config_path_command() -> None:
    """Print where your configuration file is read from."""
    click.echo(user_config_path())
