"""``roller programs``: the built-in programs and your own, and what each step asks."""

from __future__ import annotations

import click
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tracker.cli.errors import clean_errors, fail
from tracker.config import programs as known_programs
from tracker.config import user_config_path
from tracker.core.limits import visible
from tracker.core.programs import describe


@click.group("programs", invoke_without_command=True)
@click.pass_context
def programs(ctx: click.Context) -> None:
    """Programs: areas and stretches in a guided order (roller track --program NAME). Add
    your own as *.toml files in the programs folder beside your configuration."""
    if ctx.invoked_subcommand is not None:
        return
    with clean_errors():
        known = known_programs()
    table = Table(box=box.SIMPLE, padding=(0, 1), pad_edge=False,
                  caption=f"your own: {user_config_path().parent / 'programs'}/*.toml")
    for name in ("name", "title", "steps"):
        table.add_column(name)
    for program in known.values():
        table.add_row(Text(visible(program.name)), Text(visible(program.title)),
                      Text(visible(", ".join(f"{s.title} {s.seconds:g} s" for s in program.steps))))
    Console().print(table)


@programs.command("show")
@click.argument("name")
def show(name: str) -> None:
    """Each step of one program, as the dashboard and roller track say it."""
    with clean_errors():
        known = known_programs()
    if name not in known:
        fail(f"no program {name!r} (programs: {', '.join(sorted(known))})")
    program = known[name]
    click.echo(f"{program.title}: {program.about}".rstrip(": "))
    for i, step in enumerate(program.steps, 1):
        click.echo(f"{i}. {describe(step)}")
