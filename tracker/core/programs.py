"""Programs: named, ordered steps for one session, each rolling an area or holding a stretch.

The built-in programs ship in ``config/programs.toml`` (inside the package), whose opening
comment documents the format; a person's own are ``*.toml`` files in the same format, in
the ``programs`` folder of roller's configuration directory. Parsing is pure (:func:`parse`
takes text) and every problem is a :class:`ProgramError` naming the file, the line and what
is wrong; only :func:`builtin`, :func:`user_program_files` and :func:`load` touch files.

``tomllib`` says where a syntax error is but not where a value is, so the lines of the
tables and their keys are found in the text itself (:func:`_layout`).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Final, Literal, NoReturn

from tracker.core.body import ROUTINES
from tracker.core.limits import FileProblem, quote

#: Seconds of active rolling an area step may ask for: a short bout to ten minutes.
TARGET_S: Final = (10.0, 600.0)
#: Seconds a stretch's countdown may last.
COUNTDOWN_S: Final = (5.0, 300.0)
#: The most steps a program has: one session, not a day's plan.
MAX_STEPS: Final = 20
#: A program's name: what a person types to pick it.
_NAME: Final = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
#: The longest each text may be: it is one line on a terminal.
_MAX_CHARS: Final[Mapping[str, int]] = {
    "name": 32, "title": 60, "about": 120, "stretch": 60, "note": 200, "how": 200,
}
BUILTIN_SOURCE: Final = "config/programs.toml"


class ProgramError(FileProblem):
    """A programs file that cannot be used, with the place of the first problem."""


@dataclass(frozen=True)
class Step:
    """Roll ``area`` until ``seconds`` of active rolling, or hold the stretch ``title`` for a
    countdown of ``seconds``. ``how`` is the stretch's instructions, or an area step's note."""

    kind: Literal["area", "stretch"]
    area: str | None  # one of ROUTINES for an area step, None for a stretch
    seconds: float
    title: str  # "Upper back", or the stretch's name
    how: str = ""


@dataclass(frozen=True)
class Program:
    name: str
    title: str
    about: str
    steps: tuple[Step, ...]

    def first_area(self, skip_glutes: bool = False) -> str | None:
        """The area a session following it starts with (glutes left for later on a day
        the schedule refuses them); None for a program of stretches only."""
        return next((s.area for s in self.steps if s.area
                     and not (skip_glutes and s.area == "glutes")), None)


def describe(step: Step) -> str:
    """The step as one line for a terminal."""
    if step.kind == "stretch":
        return f"{step.title}: {step.seconds:g} s. {step.how}"
    note = f". {step.how}" if step.how else ""
    return f"{step.title}: {step.seconds:g} s of rolling{note}"


def parse(text: str, source: str, taken: Mapping[str, str] | None = None) -> dict[str, Program]:
    """The programs a file's text defines, by name; :class:`ProgramError` on the first problem.

    ``taken`` maps the names of programs defined elsewhere to which they are (a phrase such
    as "a built-in program"): this file may not define them again.
    """
    data = _toml(text, source)
    layout = _layout(text)
    root = _Fields(data, layout.root, source, "file")
    root.only(("program",))
    entries = root.tables("program", "[[program]]") if "program" in data else []
    places = layout.programs if len(layout.programs) == len(entries) else (
        [(_Table(root.line_of("program")), [])] * len(entries))  # see _layout
    where = dict(taken or {})
    programs: dict[str, Program] = {}
    for values, (table, step_tables) in zip(entries, places, strict=True):
        fields = _Fields(values, table, source, "program")
        program = _program(fields, step_tables)
        if program.name in where:
            fields.fail("name", f"name {quote(program.name)} is already used by "
                                f"{where[program.name]}; give this program another")
        line = fields.line_of("name")
        where[program.name] = f"the program on line {line}" if line else "another program"
        programs[program.name] = program
    return programs


def builtin() -> dict[str, Program]:
    """The programs that ship with roller (from the wheel, or from the source tree)."""
    packaged = resources.files("tracker") / "programs.toml"
    path = packaged if packaged.is_file() else Path(__file__).parents[2] / BUILTIN_SOURCE
    return parse(path.read_text(encoding="utf-8"), BUILTIN_SOURCE)


def user_program_files(config_dir: Path) -> list[Path]:
    """A person's program files: ``programs/*.toml`` in roller's configuration directory
    (``platformdirs.user_config_path("roller")``), in a stable order."""
    return sorted((config_dir / "programs").glob("*.toml"))


def load(paths: Iterable[Path], read: Callable[[Path], str] | None = None
         ) -> dict[str, Program]:
    """The built-in programs, then those of each file; a name is defined once, so a file
    cannot silently replace a built-in program or another file's. ``read`` gives a file's
    text: the commands pass ``tracker.files``' bounded reader (regular files, 1 MiB)."""
    read = read or _read
    programs = builtin()
    where = dict.fromkeys(programs, "a built-in program")
    for path in paths:
        found = parse(read(path), str(path), where)
        programs |= found
        where |= dict.fromkeys(found, f"a program in {path}")
    return programs


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ProgramError(str(path), None, "not UTF-8 text (TOML files are UTF-8)") from None
    except OSError as exc:
        raise ProgramError(str(path), None, exc.strerror or str(exc)) from None


def _program(fields: _Fields, step_tables: Sequence[_Table]) -> Program:
    fields.only(("name", "title", "about", "step"))
    name = fields.text("name")
    if not _NAME.fullmatch(name):
        fields.fail("name", f"name {quote(name)} must be words of lowercase letters and "
                            "digits joined by '-', e.g. 'back-and-hips'")
    entries = fields.tables("step", "[[program.step]]")
    if not 1 <= len(entries) <= MAX_STEPS:
        fields.fail("step", f"a program has 1 to {MAX_STEPS} steps, not {len(entries)}")
    if len(step_tables) != len(entries):  # see _layout
        step_tables = [_Table(fields.line_of("step"))] * len(entries)
    steps = tuple(_step(values, table, fields.source)
                  for values, table in zip(entries, step_tables, strict=True))
    return Program(name, fields.text("title"), fields.text("about", default=""), steps)


def _step(values: dict[str, Any], table: _Table, source: str) -> Step:
    kinds = [kind for kind in ("area", "stretch") if kind in values]
    fields = _Fields(values, table, source, f"{kinds[0]} step" if len(kinds) == 1 else "step")
    if not kinds:
        fields.fail(None, "the step has neither area (to roll) nor stretch (to hold)")
    if len(kinds) > 1:
        fields.fail("stretch", "a step has either area (to roll) or stretch (to hold), not both")
    if kinds == ["stretch"]:
        fields.only(("stretch", "seconds", "how"))
        return Step("stretch", None, fields.seconds("seconds", COUNTDOWN_S),
                    fields.text("stretch"), fields.text("how"))
    fields.only(("area", "target_s", "note"))
    area = fields.get("area")
    if area not in ROUTINES:
        fields.fail("area", f"unknown area {quote(area)}, expected one of {', '.join(ROUTINES)}")
    return Step("area", area, fields.seconds("target_s", TARGET_S),
                area.replace("_", " ").capitalize(), fields.text("note", default=""))


@dataclass(frozen=True)
class _Fields:
    """One table's values, read so that each problem names the line it is on: the key's, or
    the table header's when the key is missing."""

    values: dict[str, Any]
    table: _Table
    source: str
    what: str  # the table, as a message names it

    def fail(self, key: str | None, problem: str) -> NoReturn:
        raise ProgramError(self.source, self.line_of(key), problem)

    def line_of(self, key: str | None) -> int | None:
        return self.table.keys.get(key, self.table.line) if key else self.table.line

    def get(self, key: str) -> Any:
        if key not in self.values:
            self.fail(None, f"the {self.what} has no {key}")
        return self.values[key]

    def only(self, known: Sequence[str]) -> None:
        for key in self.values:
            if key not in known:
                self.fail(key, f"unknown key {quote(key)} ({self.what}s take "
                               f"{', '.join(known)})")

    def text(self, key: str, default: str | None = None) -> str:
        if default is not None and key not in self.values:
            return default
        value, longest = self.get(key), _MAX_CHARS[key]
        if not isinstance(value, str):
            self.fail(key, f"{key} must be text in quotes, not {quote(value)}")
        if not value.strip() or not value.isprintable() or len(value) > longest:
            self.fail(key, f"{key} must be one line of 1 to {longest} characters, "
                           f"not {quote(value)}")
        return value

    def seconds(self, key: str, bounds: tuple[float, float]) -> float:
        value, (low, high) = self.get(key), bounds
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(key, f"{key} must be a number of seconds, not {quote(value)}")
        if not low <= value <= high:  # also refuses nan
            self.fail(key, f"{key} must be {low:g} to {high:g} seconds, not {quote(value)}")
        return float(value)

    def tables(self, key: str, header: str) -> list[dict[str, Any]]:
        value = self.get(key)
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.fail(key, f"{key} must be {header} tables")
        return value


def _toml(text: str, source: str) -> dict[str, Any]:
    """The TOML document; a syntax error names the line tomllib gives."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # "Invalid value (at line 3, column 9)" or "... (at end of document)" (Python 3.11+)
        found = re.fullmatch(r"(.*) \(at (?:line (\d+), column (\d+)|end of document)\)",
                             str(exc))
        if found is None:
            raise ProgramError(source, None, f"not valid TOML: {exc}") from None
        what, line, column = found.groups()
        if line is None:
            raise ProgramError(source, text.rstrip().count("\n") + 1,
                               f"not valid TOML: {what} at the end") from None
        raise ProgramError(source, int(line),
                           f"not valid TOML: {what} (column {column})") from None
    except RecursionError:
        raise ProgramError(source, None, "not valid TOML: nested too deeply") from None
    except ValueError:  # int() past Python's digit limit, which tomllib lets through
        raise ProgramError(source, None, "not valid TOML: a number has too many digits") \
            from None


@dataclass(frozen=True)
class _Table:
    """Where one table is in the text: its header's line (None for the top level) and the
    first line of each key it sets."""

    line: int | None
    keys: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Layout:
    root: _Table
    programs: list[tuple[_Table, list[_Table]]] = field(default_factory=list)


#: What may hold any text in TOML: strings (multi-line ones first) and comments. Blanked out,
#: they leave the structure, whose lines can then be read one by one.
_OPAQUE: Final = re.compile(r'"""(?:[^\\]|\\[\s\S])*?"{3,5}|\'\'\'[\s\S]*?\'{3,5}'
                            r'|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'|#[^\n]*')
_BARE: Final = r"[A-Za-z0-9_-]+"
_HEADER: Final = re.compile(rf"\s*(\[\[?)\s*({_BARE}(?:\s*\.\s*{_BARE})*)\s*\]\]?\s*")
_KEY: Final = re.compile(rf"\s*({_BARE})\s*[.=]")


def _layout(text: str) -> _Layout:
    """The lines of the tables and keys of valid TOML: the top level, each ``[[program]]`` and
    its ``[[program.step]]`` tables, in order. What is spelled in quotes is not found, nor
    are tables without a header (an inline array of them): a problem there is reported on
    the line of what holds it, the table's header or the array's key."""
    structure = _OPAQUE.sub(lambda m: re.sub(r"[^\n]", " ", m[0]), text)
    layout = _Layout(_Table(None))
    table = layout.root
    for number, line in enumerate(structure.split("\n"), start=1):
        if header := _HEADER.fullmatch(line):
            path = re.sub(r"\s", "", header[2])
            layout.root.keys.setdefault(path.partition(".")[0], number)
            table = _Table(number)
            if header[1] == "[[" and path == "program":
                layout.programs.append((table, []))
            elif header[1] == "[[" and path == "program.step" and layout.programs:
                layout.programs[-1][1].append(table)
        elif key := _KEY.match(line):
            table.keys.setdefault(key[1], number)
    return layout
