"""Programs: the built-in ones, every kind of bad file named at its line, fuzzing, and a run
from the first step to the last."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.core.body import ROUTINES
from tracker.core.program_run import ProgramRun, StepOutcome, StepStatus
from tracker.core.programs import (
    BUILTIN_SOURCE,
    COUNTDOWN_S,
    MAX_STEPS,
    TARGET_S,
    Program,
    ProgramError,
    Step,
    builtin,
    describe,
    load,
    parse,
    user_program_files,
)

BUILTIN_TEXT = (Path(__file__).parent.parent / BUILTIN_SOURCE).read_text(encoding="utf-8")
GOOD = """\
[[program]]
name = "short"
title = "Short"

  [[program.step]]
  area = "upper_back"
  target_s = 60

  [[program.step]]
  stretch = "Open book, left"
  seconds = 30
  how = "Lie on your right side; open the left arm."
"""
KEY_LINE = re.compile(r"\s*(\w+)\s*=")


# -- the built-in programs --------------------------------------------------------------------

def test_builtin_programs_are_short_sessions_of_sensible_steps() -> None:
    programs = builtin()
    assert 3 <= len(programs) <= 4
    for program in programs.values():
        assert 1 <= len(program.steps) <= MAX_STEPS and program.title and program.about
        assert sum(step.seconds for step in program.steps) <= 300
        for step in program.steps:
            if step.kind == "area":
                assert step.area in ROUTINES
                assert TARGET_S[0] <= step.seconds <= TARGET_S[1]
            else:
                assert step.area is None and step.how
                assert COUNTDOWN_S[0] <= step.seconds <= COUNTDOWN_S[1]
        stretches = [step.title for step in program.steps if step.kind == "stretch"]
        assert [t.replace("left", "right") for t in stretches if t.endswith("left")] == [
            t for t in stretches if t.endswith("right")], "each side, left then right"


def test_the_glutes_are_stretched_after_they_are_rolled() -> None:
    steps = builtin()["back-and-hips"].steps
    assert [s.area for s in steps[:2]] == ["upper_back", "glutes"]
    assert [s.title for s in steps[2:]] == ["Seated piriformis stretch, left",
                                            "Seated piriformis stretch, right"]


def test_describe_is_one_line_for_a_terminal() -> None:
    upper, glutes, left, _ = builtin()["back-and-hips"].steps
    assert describe(Step("area", "hamstrings", 60, "Hamstrings")) == "Hamstrings: 60 s of rolling"
    assert describe(upper).startswith("Upper back: 60 s of rolling. Bouts of 30-60 s")
    assert describe(glutes).startswith("Glutes: 90 s of rolling. ")
    assert describe(left).startswith("Seated piriformis stretch, left: 30 s. Sit tall")


# -- files that are not programs: the line and the problem -------------------------------------

def edit(old: str, new: str) -> str:
    assert GOOD.count(old) == 1
    return GOOD.replace(old, new)


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        (edit('"upper_back"', '"lower_back"'), 6, "unknown area 'lower_back', expected one of "
                                                  "upper_back, glutes, hamstrings, calves"),
        (edit("  target_s = 60\n", ""), 5, "the area step has no target_s"),
        (edit("target_s = 60", "target_s = 5"), 7, "target_s must be 10 to 600 seconds, not 5"),
        (edit("target_s = 60", 'target_s = "60"'), 7, "must be a number of seconds, not '60'"),
        (edit("target_s = 60", "target_s = true"), 7, "must be a number of seconds, not True"),
        (edit("seconds = 30", "seconds = nan"), 11, "seconds must be 5 to 300 seconds, not nan"),
        (edit("target_s = 60\n", "target_s = 60\n  seconds = 30\n"), 8,
         "unknown key 'seconds' (area steps take area, target_s, note)"),
        (GOOD + "  reps = 3\n", 13, "unknown key 'reps' (stretch steps take"),
        (edit('  area = "upper_back"\n', ""), 5, "the step has neither area (to roll) nor stretch"),
        (edit("target_s = 60\n", 'target_s = 60\n  stretch = "Cat-cow"\n'), 8, "not both"),
        (edit('name = "short"', 'name = "Short one"'), 2, "name 'Short one' must be words of"),
        (edit('title = "Short"\n', ""), 1, "the program has no title"),
        (edit('"Short"', r'"Short\nand sweet"'), 3, "title must be one line of 1 to 60 characters"),
        (edit('"Short"', f'"{"x" * 61}"'), 3, "title must be one line of 1 to 60 characters"),
        (edit('"Short"', "3"), 3, "title must be text in quotes, not 3"),
        (edit('"Lie on your right side; open the left arm."',
              '"""\n[[program.step]]\narea = "calves"\n"""'), 12,
         "how must be one line"),  # a header inside a string is no header
        ("version = 1\n" + GOOD, 1, "unknown key 'version' (files take program)"),
        (GOOD + "[meta]\nauthor = 'me'\n", 13, "unknown key 'meta'"),
        ("program = 3\n", 1, "program must be [[program]] tables"),
        ('[[program]]\nname = "x"\ntitle = "X"\nstep = []\n', 4, "1 to 20 steps, not 0"),
        ('[[program]]\nname = "x"\ntitle = "X"\n' + "[[program.step]]\narea = 'calves'\n"
         "target_s = 30\n" * 21, 1, "1 to 20 steps, not 21"),
        ('[[program]]\nname = "x"\ntitle = "X"\nstep = [{area = "calves", target_s = 5}]\n', 4,
         "target_s must be 10 to 600"),  # inline steps: the line of the array
        (edit('  area = "upper_back"', '  "area" = "lower_back"'), 5, "unknown area"),  # quoted
        (GOOD + GOOD, 14, "name 'short' is already used by the program on line 2; give this "),
        (edit("target_s = 60", "target_s = 60 s"), 7, "not valid TOML: "),
        (edit('"Open book, left"', '"Open book, left'), 10, "not valid TOML: "),
        (GOOD + "[[program]]\nname = ", 14, "not valid TOML: Invalid value at the end"),
    ],
)
def test_bad_files_name_the_line_and_the_problem(text: str, line: int, problem: str) -> None:
    with pytest.raises(ProgramError) as caught:
        parse(text, "mine.toml")
    assert caught.value.line == line
    assert problem in caught.value.problem
    assert str(caught.value) == f"mine.toml:{line}: {caught.value.problem}"


def test_an_empty_file_defines_no_program() -> None:
    assert parse("# nothing yet\n", "mine.toml") == {}


def key_lines(text: str) -> list[tuple[int, str]]:
    """(line number, key) of each ``key = value`` line."""
    return [(number, found[1]) for number, line in enumerate(text.split("\n"), start=1)
            if (found := KEY_LINE.match(line))]


@pytest.mark.parametrize(("number", "key"), key_lines(BUILTIN_TEXT))
def test_every_value_of_the_builtin_file_is_found_at_its_line(number: int, key: str) -> None:
    lines = BUILTIN_TEXT.split("\n")
    lines[number - 1] = f"{key} = []"  # the wrong type for every key
    with pytest.raises(ProgramError) as caught:
        parse("\n".join(lines), "mine.toml")
    assert caught.value.line == number
    assert key in caught.value.problem


@pytest.mark.parametrize(("number", "key"), key_lines(BUILTIN_TEXT))
def test_a_missing_key_is_reported_at_its_table_header(number: int, key: str) -> None:
    lines = BUILTIN_TEXT.split("\n")
    header = max(i for i, line in enumerate(lines[:number], start=1)
                 if line.lstrip().startswith("[["))
    del lines[number - 1]
    if key in ("about", "note"):  # optional
        parse("\n".join(lines), "mine.toml")
        return
    with pytest.raises(ProgramError) as caught:
        parse("\n".join(lines), "mine.toml")
    assert caught.value.line == header


# -- fuzzing: a ProgramError that names a place in the file, or programs; nothing else ----------

def parses_or_names_a_place(text: str) -> None:
    """Programs, or a ProgramError whose line is in the file; past the TOML syntax, that line
    sets the key the problem names or opens the table (or holds the array) it is about."""
    try:
        programs = parse(text, "fuzz.toml")
    except ProgramError as exc:
        message = str(exc)
        assert "\n" not in message
        if exc.line is None:
            assert message.startswith("fuzz.toml: ")
            return
        assert 1 <= exc.line <= text.count("\n") + 1
        assert message.startswith(f"fuzz.toml:{exc.line}: ")
        line = text.split("\n")[exc.line - 1]
        key = KEY_LINE.match(line)
        assert (exc.problem.startswith("not valid TOML: ") or line.lstrip().startswith("[")
                or (key is not None and key[1] in {"step", *re.findall(r"\w+", exc.problem)}))
    else:
        assert all(isinstance(p, Program) and p.steps for p in programs.values())


@given(st.text())
def test_any_text(text: str) -> None:
    parses_or_names_a_place(text)


VALUES = ['"glutes"', '"x"', '""', "0", "-1", "10", "1e400", "nan", "true", "[]", "{}",
          '"""', "'''", "[[program]]", "[[program.step]]", "[program]", '"a\\nb"', "1979-05-27"]
Edit = tuple[str, int, int]  # what, line, another line or value


@given(st.lists(st.tuples(st.sampled_from(["delete", "duplicate", "swap", "value"]),
                          st.integers(0, 10_000), st.integers(0, 10_000)), max_size=6))
def test_mutated_builtin_files(edits: list[Edit]) -> None:
    lines = BUILTIN_TEXT.split("\n")
    for what, a, b in edits:
        i, j = a % len(lines), b % len(lines)
        if what == "delete" and len(lines) > 1:
            del lines[i]
        elif what == "duplicate":
            lines.insert(i, lines[j])
        elif what == "swap":  # the values of two lines
            (key_i, _, value_i), (key_j, _, value_j) = (lines[i].partition("="),
                                                         lines[j].partition("="))
            if value_i and value_j:
                lines[i], lines[j] = f"{key_i}={value_j}", f"{key_j}={value_i}"
        elif what == "value":
            key, sep, _ = lines[i].partition("=")
            lines[i] = f"{key}= {VALUES[b % len(VALUES)]}" if sep else VALUES[b % len(VALUES)]
    parses_or_names_a_place("\n".join(lines))


# -- the built-ins and a person's own files ------------------------------------------------------

def test_a_persons_files_add_to_the_builtin_programs(tmp_path: Path) -> None:
    (tmp_path / "programs").mkdir()
    (tmp_path / "programs" / "b.toml").write_text(GOOD)
    (tmp_path / "programs" / "a.toml").write_text("")
    (tmp_path / "programs" / "notes.txt").write_text("not a program")
    files = user_program_files(tmp_path)
    assert files == [tmp_path / "programs" / "a.toml", tmp_path / "programs" / "b.toml"]
    programs = load(files)
    assert list(programs) == [*builtin(), "short"]
    assert programs["short"].steps[1].how == "Lie on your right side; open the left arm."
    assert user_program_files(tmp_path / "nowhere") == []


def test_a_persons_program_may_not_shadow_a_builtin_one(tmp_path: Path) -> None:
    mine = tmp_path / "mine.toml"
    mine.write_text(GOOD.replace('"short"', '"legs"'))
    with pytest.raises(ProgramError) as caught:
        load([mine])
    assert str(caught.value) == (f"{mine}:2: name 'legs' is already used by a built-in "
                                 "program; give this program another")


def test_two_files_may_not_define_one_name(tmp_path: Path) -> None:
    first, second = tmp_path / "a.toml", tmp_path / "b.toml"
    first.write_text(GOOD)
    second.write_text("# mine\n" + GOOD)
    with pytest.raises(ProgramError, match=rf"^{re.escape(f'{second}:3: ')}.* used by a program "
                                           rf"in {re.escape(str(first))};"):
        load([first, second])


@pytest.mark.parametrize(("content", "problem"), [
    (b"\xff\xfe[[program]]", "not UTF-8 text (TOML files are UTF-8)"),
    (None, "No such file or directory"),
])
def test_files_that_cannot_be_read_are_named_without_a_line(tmp_path: Path, content: bytes | None,
                                                            problem: str) -> None:
    path = tmp_path / "mine.toml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ProgramError) as caught:
        load([path])
    assert caught.value.line is None
    assert str(caught.value) == f"{path}: {problem}"


# -- a run ---------------------------------------------------------------------------------------

UPPER = Step("area", "upper_back", 60.0, "Upper back")
OPEN_BOOK = Step("stretch", None, 30.0, "Open book, left", "Lie on your right side.")
GLUTES = Step("area", "glutes", 90.0, "Glutes")
PROGRAM = Program("p", "P", "", (UPPER, OPEN_BOOK, GLUTES))
TOO_SOON = "a glute session yesterday or today"


def statuses(run: ProgramRun) -> list[str]:
    return [outcome.status for outcome in run.outcomes()]


def test_steps_move_on_when_their_targets_are_met() -> None:
    run = ProgramRun(PROGRAM)
    assert (run.step, run.next_step, run.index) == (UPPER, OPEN_BOOK, 0)
    assert not run.update(20.0, 100.0) and run.left_s(20.0, 100.0) == 40.0
    assert run.update(60.0, 150.0)
    assert run.step == OPEN_BOOK and run.left_s(0.0, 150.0) == 30.0  # the countdown begins
    assert not run.update(0.0, 170.0) and run.left_s(0.0, 170.0) == 10.0
    assert run.update(0.0, 180.0)
    assert run.step == GLUTES and run.next_step is None
    assert run.update(91.0, 300.0)
    assert run.finished and run.step is None and run.left_s(0.0, 301.0) == 0.0
    assert not run.update(0.0, 302.0)
    assert [(o.status, o.seconds) for o in run.outcomes()] == [
        ("done", 60.0), ("done", 30.0), ("done", 91.0)]


def test_a_countdown_begins_with_the_first_update_of_its_step() -> None:
    run = ProgramRun(Program("s", "S", "", (OPEN_BOOK,)))
    assert run.left_s(0.0, 1000.0) == 30.0
    run.update(0.0, 1000.0)
    assert run.left_s(0.0, 1012.5) == 17.5


def test_advance_cuts_a_step_short() -> None:
    run = ProgramRun(PROGRAM)
    run.update(20.0, 0.0)
    run.advance(25.0, 5.0)
    run.update(0.0, 6.0)
    run.advance(0.0, 16.0)
    assert statuses(run) == ["cut_short", "cut_short", "current"]
    assert [o.seconds for o in run.outcomes()] == [25.0, 11.0, 0.0]  # from the move at 5
    run.advance(90.0, 20.0)  # met, though not yet updated
    assert run.finished and statuses(run)[-1] == "done"
    run.advance(0.0, 30.0)
    assert len(run.outcomes()) == 3


def test_a_refused_glute_step_waits_until_skipped() -> None:
    run = ProgramRun(Program("g", "G", "", (GLUTES, UPPER)), glutes_refusal=TOO_SOON)
    assert run.step == GLUTES and run.refusal == TOO_SOON
    assert not run.update(120.0, 10.0)  # never met while refused
    assert run.outcomes()[0].reason == TOO_SOON
    run.advance(0.0, 11.0)
    assert run.step == UPPER and run.refusal is None
    assert run.outcomes()[0] == StepOutcome(0, "Glutes", StepStatus.SKIPPED, 0.0, TOO_SOON)


def test_override_brings_the_glutes_back() -> None:
    run = ProgramRun(Program("g", "G", "", (UPPER, GLUTES, GLUTES)), glutes_refusal=TOO_SOON)
    run.update(60.0, 0.0)
    assert run.refusal == TOO_SOON
    run.override()
    assert run.refusal is None
    assert run.update(90.0, 100.0)
    assert run.refusal is None, "the person insisted on glutes today: for the whole run"
    assert run.outcomes()[1].reason == f"overridden ({TOO_SOON})"
    assert statuses(run) == ["done", "done", "current"]


def test_no_refusal_when_the_schedule_gives_an_empty_reason() -> None:
    assert ProgramRun(Program("g", "G", "", (GLUTES,)), glutes_refusal="").refusal is None


def test_to_json_keeps_the_program_its_steps_and_how_far_one_got() -> None:
    run = ProgramRun(PROGRAM, glutes_refusal=TOO_SOON)
    run.update(60.0, 0.0)
    run.update(0.0, 12.3456)
    data = run.to_json()
    assert json.loads(json.dumps(data)) == data
    assert data["format"] == "roller-program-run/1"
    assert (data["program"], data["title"]) == ("p", "P")
    assert data["steps"][1] == {"kind": "stretch", "area": None, "seconds": 30.0,
                                "title": "Open book, left", "how": "Lie on your right side."}
    assert data["outcomes"] == [
        {"index": 0, "title": "Upper back", "status": "done", "seconds": 60.0, "reason": ""},
        {"index": 1, "title": "Open book, left", "status": "current", "seconds": 12.346,
         "reason": ""},
        {"index": 2, "title": "Glutes", "status": "not_reached", "seconds": 0.0,
         "reason": ""},
    ]


def test_a_malformed_program_file_is_one_line_at_every_command(
        tmp_path: Path, roller: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    folder = tmp_path / "config" / "roller" / "programs"
    folder.mkdir(parents=True)
    (folder / "mine.toml").write_text('[[program]]\nname = "mine"\ntitle = "Mine"\n\n'
                                      '  [[program.step]]\n  area = "lower_back"\n'
                                      '  target_s = 60\n', encoding="utf-8")
    for args in (("programs",), ("track", "--sim", "--program", "mine")):
        result = roller("--db", str(tmp_path / "r.db"), *args)
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
        assert "mine.toml:6: unknown area 'lower_back'" in result.stderr
    (folder / "mine.toml").write_text('[[program]]\nname = "mine"\ntitle = "Mine"\n\n'
                                      '  [[program.step]]\n  area = "glutes"\n'
                                      '  target_s = 60\n', encoding="utf-8")
    listed = roller("programs")
    assert listed.returncode == 0 and "mine" in listed.stdout
    unknown = roller("--db", str(tmp_path / "r.db"), "track", "--sim", "--program", "nope")
    assert unknown.returncode == 2 and "no program 'nope'" in unknown.stderr
