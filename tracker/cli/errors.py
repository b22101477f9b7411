"""How every expected failure of a command ends: one line on stderr and an exit status
(2 for bad input or usage, 1 for a failure of the machine or the environment)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import click

from tracker.core.errors import InputError, RollerError

BAD_INPUT = InputError.exit_status


def fail(message: str, status: int = BAD_INPUT) -> NoReturn:
    """One line on stderr and a non-zero exit: how every expected failure ends."""
    click.echo(f"roller: error: {message}", err=True)
    sys.exit(status)


@contextmanager
def clean_errors() -> Iterator[None]:
    """Turn the errors a user can cause into one line each, never a traceback."""
    try:
        yield
    except RollerError as exc:
        fail(str(exc), exc.exit_status)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        fail(f"{where}{exc.strerror or exc}", 1)


@contextmanager
def one_line_usage() -> Iterator[None]:
    """A usage error (an unknown option, a value out of range, a missing argument) said as
    ``roller: error: ...`` in one line, exit 2, in every command and subcommand: click's own
    three lines (``Usage:``, ``Try``, ``Error:``) bury the one that matters, and scripts
    reading stderr expect one line for every bad input. ``--help`` (and a group given no
    command, which click answers with its help) still shows the usage text."""
    try:
        yield
    except click.exceptions.NoArgsIsHelpError:
        raise
    except click.UsageError as exc:
        fail(" ".join(exc.format_message().split()), exc.exit_code)
