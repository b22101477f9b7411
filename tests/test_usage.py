"""Every usage error is one line, ``roller: error: ...``, exit 2, in every command: click's
usage text only on ``--help``. Walked with click's own introspection, so an option added
tomorrow is covered the day it is written."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from tracker.cli.main import COMMANDS, main

Run = Callable[..., subprocess.CompletedProcess[str]]


def _commands() -> Iterator[tuple[list[str], click.Command]]:
    """Every command and subcommand, by the words that name it."""
    ctx = click.Context(main)
    for name in sorted({*COMMANDS, "config-path"}):
        command = main.get_command(ctx, name)
        assert command is not None, name
        yield [name], command
        if isinstance(command, click.Group):
            for sub in sorted(command.commands):
                yield [name, sub], command.commands[sub]


def _bad(option: click.Option) -> str | None:
    """A value the option's type refuses, or None for a type with none to try."""
    kind = option.type
    if isinstance(kind, click.Choice):
        return "not-one-of-them"
    if isinstance(kind, click.IntRange | click.FloatRange):
        if kind.min is not None:
            return str(kind.min - 1)
        if kind.max is not None:
            return str(kind.max + 1)
        return "x"
    if isinstance(kind, click.types.IntParamType | click.types.FloatParamType):
        return "x"
    return None


def _cases() -> list[tuple[list[str], str, str]]:
    cases = []
    for words, command in _commands():
        for param in command.params:
            if isinstance(param, click.Option) and not param.is_flag and not param.hidden:
                bad = _bad(param)
                if bad is not None:
                    cases.append((words, param.opts[0], bad))
    return cases


CASES = _cases()


def test_the_walk_finds_options() -> None:
    assert len(CASES) >= 20
    assert {tuple(w) for w, _, _ in CASES} >= {("history",), ("simulate",), ("track",)}


@pytest.mark.parametrize(("words", "option", "bad"), CASES,
                         ids=[" ".join([*w, o]) for w, o, _ in CASES])
def test_every_bad_option_value_is_one_line(words: list[str], option: str, bad: str,
                                            tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, [*words, option, bad],
                           env={"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "c"),
                                "ROLLER_DB": str(tmp_path / "roller.db")})
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("roller: error: "), lines[0]
    assert option in lines[0] or "Usage:" not in result.stderr


@pytest.mark.parametrize("args", [
    ["history", "--nonsense"], ["nosuch"], ["simulate", "--seconds", "-5"],
    ["people", "add"], ["--config"], ["people", "add", "Ada", "--height-cm", "x"],
])
def test_usage_errors_as_a_process(roller: Run, args: list[str]) -> None:
    result = roller(*args)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("roller: error: "), \
        result.stderr
    assert "Usage:" not in result.stderr and "Try '" not in result.stderr


def test_help_still_shows_the_usage(roller: Run) -> None:
    result = roller("history", "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("Usage: ")
