"""Programs: named, ordered steps for one session, each rolling an area or holding a stretch.

The built-in programs ship in ``config/programs.toml`` (inside the package), whose opening
comment documents the format; a person's own are ``*.toml`` files in the same format, in
the ``programs`` folder of roller's configuration directory. Parsing is pure (:func:`parse`
takes text) and every problem is a :class:`ProgramError` naming the file, the line and what
is wrong; only :func:`builtin`, :func:`user_program_files` and :func:`load` touch files.

Where each value is in the text is found by :mod:`tracker.core.tomlfile`, which a
prescription's file shares.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Final, Literal

from tracker.core import tomlfile
from tracker.core.body import ROUTINES
from tracker.core.limits import FileProblem, quote
from tracker.core.tomlfile import Fields

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
    data = tomlfile.load(text, source, ProgramError)
    root = Fields(data, tomlfile.layout(text), source, "file", ProgramError, _MAX_CHARS)
    root.only(("program",))
    entries = root.tables("program", "[[program]]") if "program" in data else []
    where = dict(taken or {})
    programs: dict[str, Program] = {}
    for fields in root.within("program", entries, "program"):
        program = _program(fields)
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


def _program(fields: Fields) -> Program:
    fields.only(("name", "title", "about", "step"))
    name = fields.text("name")
    if not _NAME.fullmatch(name):
        fields.fail("name", f"name {quote(name)} must be words of lowercase letters and "
                            "digits joined by '-', e.g. 'back-and-hips'")
    entries = fields.tables("step", "[[program.step]]")
    if not 1 <= len(entries) <= MAX_STEPS:
        fields.fail("step", f"a program has 1 to {MAX_STEPS} steps, not {len(entries)}")
    steps = tuple(_step(step) for step in fields.within("step", entries, "step"))
    return Program(name, fields.text("title"), fields.text("about", default=""), steps)


def _step(fields: Fields) -> Step:
    kinds = [kind for kind in ("area", "stretch") if kind in fields.values]
    if len(kinds) == 1:
        fields = replace(fields, what=f"{kinds[0]} step")
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
