"""Prescriptions: the example file, every kind of bad file named at its line, fuzzing, and
what a running prescription makes of a person's rules and program."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboards.app import RollerApp
from tests.test_cli import assert_one_line_error
from tracker.config import load
from tracker.core import clock
from tracker.core.prescription import (
    PROGRAM_NAME,
    Dose,
    Prescription,
    PrescriptionError,
    kept_off_contacts,
    parse,
)
from tracker.core.programs import builtin
from tracker.core.schedule import Rolled, Rules
from tracker.live.gateway import Gateway, Next
from tracker.live.source import Source
from tracker.store.opening import open_store

EXAMPLE_PATH = Path(__file__).parent.parent / "config" / "prescription-example.toml"
EXAMPLE = EXAMPLE_PATH.read_text(encoding="utf-8")
GOOD = """\
[prescription]
title = "Calves"
clinician = "Dr Who"
contact = "who@example.org"
start = 2026-12-07
end = 2026-12-20
stroke_s = [2, 4]

[[area]]
area = "glutes"
minutes = 1
per_week = 2

[[keep_off]]
area = "calves"
reason = "strain"
until = 2026-12-14
"""
Run = Callable[..., subprocess.CompletedProcess[str]]
KEY_LINE = re.compile(r"\s*(\w+)\s*=")


def edit(old: str, new: str, text: str = GOOD) -> str:
    assert old in text
    return text.replace(old, new, 1)


# -- the example ------------------------------------------------------------------------------

def test_the_example_file_parses_to_its_program_and_rules() -> None:
    rx = parse(EXAMPLE, str(EXAMPLE_PATH))
    assert [d.area for d in rx.doses] == ["upper_back", "glutes", "hamstrings"]
    assert rx.stroke_s == (2.0, 4.0) and rx.start == date(2026, 12, 7)
    assert rx.keep_off[0].area == "calves" and rx.keep_off[0].until == date(2026, 12, 21)
    program = rx.program()
    assert program.name == PROGRAM_NAME and program.title == rx.title
    assert [(s.area, s.seconds) for s in program.steps] == [
        ("upper_back", 120.0), ("glutes", 60.0), ("hamstrings", 90.0)]  # 20 strokes x 3 s
    assert program.steps[1].how.startswith("20 strokes (about 60 s at 3 s a stroke). ")
    rules = rx.rules(Rules(glute_sessions_per_week=3, glute_rest_days=1, stroke_min_s=1,
                           stroke_max_s=5))
    assert (rules.glute_sessions_per_week, rules.glute_rest_days) == (2, 2)
    assert (rules.stroke_min_s, rules.stroke_max_s) == (2.0, 4.0)


def test_the_documented_example_is_the_shipped_one() -> None:
    docs = (Path(__file__).parent.parent / "docs" / "prescription.md").read_text("utf-8")
    block = docs.split("```toml\n", 1)[1].split("```", 1)[0]
    assert block in EXAMPLE and parse(block, "docs") == parse(EXAMPLE, "example")


def test_running_is_from_the_start_to_the_end_both_included() -> None:
    rx = parse(GOOD, "rx.toml")
    assert [rx.running(date(2026, 12, d)) for d in (6, 7, 20, 21)] == [False, True, True, False]
    assert rx.kept_off_on(date(2026, 12, 14)) == {"calves": rx.keep_off[0]}
    assert rx.kept_off_on(date(2026, 12, 15)) == {} == rx.kept_off_on(date(2026, 12, 6))
    assert rx.keep_off[0].caution() == ("calves kept off until 2026-12-14 by your "
                                        "prescription (strain): roll another area")


def test_kept_off_contacts_are_parts_on_a_kept_off_area_while_it_is() -> None:
    rx = parse(GOOD, "rx.toml")  # calves kept off 2026-12-07 to 2026-12-14

    def rolled(day: int, *areas: str) -> Rolled:
        return Rolled(datetime(2026, 12, day, 18, tzinfo=UTC), "UTC", areas[0], 0.0, areas)

    sessions = [rolled(6, "calves"), rolled(8, "calves", "glutes"), rolled(9, "glutes"),
                rolled(14, "upper_back", "calves"), rolled(15, "calves")]
    assert kept_off_contacts(sessions, [(rx, None)]) == 2
    assert kept_off_contacts(sessions, [(rx, datetime(2026, 12, 10, tzinfo=UTC))]) == 1
    assert kept_off_contacts(sessions, []) == 0


def test_glutes_rest_days_left_out_keep_the_persons_and_no_glutes_keep_the_quota() -> None:
    rules = parse(GOOD, "rx.toml").rules(Rules(glute_rest_days=3))
    assert (rules.glute_sessions_per_week, rules.glute_rest_days) == (2, 3)
    no_glutes = parse(edit('area = "glutes"', 'area = "upper_back"'), "rx.toml")
    assert no_glutes.rules(Rules(glute_sessions_per_week=3)).glute_sessions_per_week == 3


def test_a_dose_in_strokes_is_timed_at_the_middle_of_the_pace() -> None:
    dose = Dose("calves", 3, strokes=10)
    assert dose.seconds((1.0, 3.0)) == 20.0
    assert dose.describe((1.0, 3.0)) == "10 strokes (about 20 s at 2 s a stroke)"


# -- bad files --------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        (edit("minutes = 1", "minutes = 1\nstrokes = 20"), 12, "minutes or strokes, exactly one"),
        (edit("minutes = 1\n", ""), 9, "minutes or strokes, exactly one"),
        (edit("minutes = 1", "minutes = 11"), 11, "minutes must be 0.5 to 10 minutes"),
        (edit("minutes = 1", "strokes = 2.5"), 11, "strokes must be a whole number"),
        (edit("minutes = 1", "strokes = 300"), 11, "300 strokes at 3 s a stroke take 900 s"),
        (edit("per_week = 2", "per_week = 8"), 12, "per_week must be 1 to 7"),
        (edit("per_week = 2", "per_week = 4\nrest_days = 2"), 13, "does not fit in a week"),
        (edit('area = "glutes"', 'area = "lumbar"'), 10, "unknown area 'lumbar'"),
        (edit('area = "calves"', 'area = "glutes"'), 14, "glutes is both prescribed and kept"),
        (GOOD + '[[area]]\narea = "glutes"\nminutes = 2\nper_week = 1\n', 9,
         "glutes is prescribed twice"),
        (edit("end = 2026-12-20", "end = 2026-12-01"), 6, "end (2026-12-01) is before start"),
        (edit("start = 2026-12-07", 'start = "2026-12-07"'), 5, "start must be a date"),
        (edit("start = 2026-12-07", "start = 2026-12-07T10:00:00"), 5, "start must be a date"),
        (edit("until = 2026-12-14", "until = 2026-12-01"), 17, "before the prescription's"),
        (edit("stroke_s = [2, 4]", "stroke_s = [4, 2]"), 7, "stroke_s must be [fastest, "),
        (edit("stroke_s = [2, 4]", "stroke_s = [2, nan]"), 7, "stroke_s must be [fastest, "),
        (edit('clinician = "Dr Who"\n', ""), 1, "the [prescription] table has no clinician"),
        (edit('reason = "strain"', 'reason = ""'), 16, "reason must be one line of 1 to 200"),
        (edit('contact = "who@example.org"', 'email = "who@example.org"'), 4, "unknown key"),
        (edit("[[keep_off]]", "[[keep_of]]"), 14, "unknown key 'keep_of'"),
        (edit("[prescription]", "[[prescription]]"), 1, "prescription must be a [prescription]"),
        (edit("[[area]]", "[area]"), 9, "area must be [[area]] tables"),
        ('area = [{area = "calves", minutes = 1, per_week = 9}]\n' + GOOD.split("[[area]]")[0],
         1, "per_week must be 1 to 7"),  # an inline table: the line of the array
        (edit("per_week = 2", "per_week = 2 a week"), 12, "not valid TOML: "),
    ],
)
def test_bad_files_name_the_line_and_the_problem(text: str, line: int, problem: str) -> None:
    with pytest.raises(PrescriptionError) as caught:
        parse(text, "rx.toml")
    assert caught.value.line == line
    assert problem in caught.value.problem
    assert str(caught.value) == f"rx.toml:{line}: {caught.value.problem}"


def test_a_file_without_the_prescription_table_says_so() -> None:
    with pytest.raises(PrescriptionError, match=r"^rx.toml: the file has no prescription$"):
        parse("", "rx.toml")


def key_lines(text: str) -> list[tuple[int, str]]:
    return [(number, found[1]) for number, line in enumerate(text.split("\n"), start=1)
            if (found := KEY_LINE.match(line))]


@pytest.mark.parametrize(("number", "key"), key_lines(EXAMPLE))
def test_every_value_of_the_example_is_found_at_its_line(number: int, key: str) -> None:
    lines = EXAMPLE.split("\n")
    lines[number - 1] = f"{key} = {{}}"  # the wrong type for every key
    with pytest.raises(PrescriptionError) as caught:
        parse("\n".join(lines), "rx.toml")
    assert caught.value.line == number
    assert key in caught.value.problem


# -- fuzzing: a PrescriptionError that names a place in the file, or a prescription ---------

def parses_or_names_a_place(text: str) -> None:
    """A Prescription, or a one-line PrescriptionError whose line is in the file; past the
    TOML syntax, that line sets the key the problem names or opens a table."""
    try:
        rx = parse(text, "fuzz.toml")
    except PrescriptionError as exc:
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
                or (key is not None and key[1] in {"area", "keep_off", "prescription",
                                                   *re.findall(r"\w+", exc.problem)}))
    else:
        assert isinstance(rx, Prescription) and rx.doses and rx.start <= rx.end
        assert all(10 <= s.seconds <= 600 for s in rx.program().steps)
        rx.rules(Rules())  # in the schedule's ranges


@given(st.text())
def test_any_text(text: str) -> None:
    parses_or_names_a_place(text)


VALUES = ['"glutes"', '"calves"', '"x"', '""', "0", "-1", "1", "2", "7", "20", "1.5", "1e400",
          "nan", "true", "[]", "{}", "[2, 4]", "[4, 2]", '"""', "'''", "[[area]]",
          "[[keep_off]]", "[prescription]", '"a\\nb"', "2026-12-07", "1979-05-27",
          "2026-12-07T10:00:00"]
Edit = tuple[str, int, int]


@given(st.lists(st.tuples(st.sampled_from(["delete", "duplicate", "swap", "value"]),
                          st.integers(0, 10_000), st.integers(0, 10_000)), max_size=6))
def test_mutated_example_files(edits: list[Edit]) -> None:
    lines = EXAMPLE.split("\n")
    for what, a, b in edits:
        i, j = a % len(lines), b % len(lines)
        if what == "delete" and len(lines) > 1:
            del lines[i]
        elif what == "duplicate":
            lines.insert(i, lines[j])
        elif what == "swap":
            (key_i, _, value_i), (key_j, _, value_j) = (lines[i].partition("="),
                                                         lines[j].partition("="))
            if value_i and value_j:
                lines[i], lines[j] = f"{key_i}={value_j}", f"{key_j}={value_i}"
        elif what == "value":
            key, sep, _ = lines[i].partition("=")
            lines[i] = f"{key}= {VALUES[b % len(VALUES)]}" if sep else VALUES[b % len(VALUES)]
    parses_or_names_a_place("\n".join(lines))


# -- roller prescription: import, show, list, end, and what a running one changes ------------

NOW = {"ROLLER_NOW": "2026-12-10T12:00:00+00:00"}  # a Thursday inside GOOD's dates


@pytest.fixture
def rx_file(tmp_path: Path) -> Path:
    path = tmp_path / "rx.toml"
    # TOML refuses C0 controls, but not C1's CSI (ESC [ to a terminal) in a comment
    path.write_text(GOOD + "# \x9b2J a comment a terminal must not obey\n", encoding="utf-8")
    return path


def test_import_show_list_end(tmp_path: Path, rx_file: Path, roller: Run) -> None:
    db = str(tmp_path / "roller.db")
    assert roller("--db", db, "people", "add", "Ben").returncode == 0
    first = roller("--db", db, "prescription", "import", str(rx_file), "--person", "ben",
                   env=NOW)
    assert first.returncode == 0, first.stderr
    assert first.stderr.startswith('prescription 1 for Ben: "Calves" by Dr Who, 2026-12-07 '
                                   "to 2026-12-20; running until 2026-12-20")
    again = roller("--db", db, "prescription", "import", str(EXAMPLE_PATH), "--person", "Ben",
                   env=NOW)
    assert again.returncode == 0, again.stderr
    assert "it ends prescription 1 (\"Calves\" by Dr Who), imported 2026-12-10: Ben has one " \
           "at a time" in again.stderr
    shown = roller("--db", db, "prescription", "show", "--person", "Ben", env=NOW)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[0] == (
        "# prescription 2 for Ben, from prescription-example.toml, imported 2026-12-10 12:00 "
        "UTC: running until 2027-01-31")
    assert shown.stdout.splitlines()[1:] == EXAMPLE.splitlines()
    people = roller("--db", db, "people", "list", env=NOW)
    assert "glutes 2x a week (prescribed)" in " ".join(people.stdout.split()), \
        people.stdout  # the example's (its cell may wrap, at a long zone's name)
    listed = roller("--db", db, "prescription", "list", env=NOW)
    assert listed.returncode == 0, listed.stderr
    assert "ended" in listed.stdout and "running" in listed.stdout
    ended = roller("--db", db, "prescription", "end", "--person", "Ben", env=NOW)
    assert ended.returncode == 0 and "ended prescription 2 for Ben" in ended.stderr
    assert_one_line_error(roller("--db", db, "prescription", "end", "--person", "Ben"),
                          "'Ben' has no prescription")
    # the first one's text, kept as imported; a control character shown, not obeyed
    with closing(open_store(Path(db))) as store:
        assert store.prescriptions.by_id(1).text == rx_file.read_text(encoding="utf-8")
        store.prescriptions.add(store.people.named("Ben"), "rx.toml", store.prescriptions.
                                by_id(1).text)
    shown = roller("--db", db, "prescription", "show", "--person", "Ben", env=NOW)
    assert "\x9b" not in shown.stdout and "# \\x9b2J a comment" in shown.stdout
    # a person removed takes their prescriptions with them
    assert roller("--db", db, "people", "remove", "Ben").returncode == 0
    with closing(open_store(Path(db))) as store:
        assert store.prescriptions.all() == []


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, rx_file: Path, roller: Run) -> None:
    db = str(tmp_path / "roller.db")
    bad = tmp_path / "bad.toml"
    bad.write_text(edit("per_week = 2", "per_week = 9"), encoding="utf-8")
    assert_one_line_error(roller("--db", db, "prescription", "import", str(bad), "--person",
                                 "me"), f"{bad}:12: per_week must be 1 to 7")
    assert_one_line_error(roller("--db", db, "prescription", "import", str(tmp_path / "no"),
                                 "--person", "me"), "No such file or directory")
    assert_one_line_error(roller("--db", db, "prescription", "import", str(tmp_path),
                                 "--person", "me"), "is a directory")
    assert_one_line_error(roller("--db", db, "prescription", "import", str(rx_file),
                                 "--person", "Zed"), "nobody called 'Zed'")
    assert_one_line_error(roller("--db", db, "prescription", "import", str(rx_file)),
                          "--person")
    assert_one_line_error(roller("--db", db, "prescription", "show"), "'me' has no "
                          "prescription")
    assert_one_line_error(roller("--db", db, "prescription", "end"), "'me' has no prescription")
    with closing(open_store(Path(db))) as store:
        assert store.prescriptions.all() == []


def test_a_running_prescription_is_the_persons_program_and_quota(tmp_path: Path) -> None:
    settings = load(env={})
    with closing(open_store(tmp_path / "roller.db")) as store:
        store.people.add("Ben", rules={"glute_sessions_per_week": 3})
        ben = store.people.named("Ben")
        store.prescriptions.add(ben, "rx.toml", GOOD)
        ben = store.people.named("Ben")
        for day, running in ((6, False), (7, True), (20, True), (21, False)):
            clock.set_now(datetime(2026, 12, day, 12, tzinfo=UTC))
            mine = settings.for_person(ben)
            assert (mine.program is not None) is running
            assert mine.rules.glute_sessions_per_week == (2 if running else 3)
        clock.set_now(datetime(2026, 12, 10, 12, tzinfo=UTC))
        program = settings.for_person(ben).program
        assert program is not None and [s.area for s in program.steps] == ["glutes"]
        store.prescriptions.end(ben)
        assert settings.for_person(store.people.named("Ben")).program is None


TWO_AREAS = edit('area = "glutes"\nminutes = 1\nper_week = 2',
                 'area = "upper_back"\nminutes = 0.5\nper_week = 5\n\n'
                 '[[area]]\narea = "hamstrings"\nstrokes = 5\nper_week = 3')  # 30 s, 15 s


def test_track_follows_the_running_prescription(tmp_path: Path, roller: Run) -> None:
    db = str(tmp_path / "r.db")
    rx = tmp_path / "rx.toml"
    rx.write_text(TWO_AREAS, encoding="utf-8")
    assert roller("--db", db, "prescription", "import", str(rx), "--person", "me",
                  env=NOW).returncode == 0
    tracked = roller("--db", db, "track", "--sim", "--speed", "20", "--scenario", "clean",
                     "--json", env=NOW)
    assert tracked.returncode == 0, tracked.stderr
    assert [p["routine"] for p in json.loads(tracked.stdout)["parts"]] == [
        "upper_back", "hamstrings"]
    assert "step 2 of 2: Hamstrings: 15 s of rolling. 5 strokes (about 15 s at 3 s a " \
           "stroke)" in tracked.stderr
    after = {"ROLLER_NOW": "2026-12-21T12:00:00+00:00"}  # the day after its end: no program
    tracked = roller("--db", db, "track", "--sim", "--speed", "20", "--scenario", "clean",
                     "--seconds", "20", "--json", env=after)
    assert tracked.returncode == 0, tracked.stderr
    assert [p["routine"] for p in json.loads(tracked.stdout)["parts"]] == ["upper_back"]
    assert "step 1" not in tracked.stderr


def test_the_gateway_follows_the_rollers_persons_prescription(tmp_path: Path) -> None:
    """Asked as each session starts: the program (and so the first area) is the person's
    prescription's while it runs, and none once it has ended."""
    settings = load(env={})
    clock.set_now(datetime(2026, 12, 10, 12, tzinfo=UTC))
    with closing(open_store(tmp_path / "r.db")) as store:
        gateway = Gateway(settings, store, [], "upper_back")
        address = "C0:FF:EE:00:00:01"
        gateway.plans[address] = Next("upper_back")
        live = SimpleNamespace(program=None, glutes_refusal=None)
        gateway.lives[address] = live
        store.prescriptions.add(store.people.default(), "rx.toml", GOOD)  # glutes first
        admitted = gateway._admit(address)
        assert admitted is not None and admitted.routine == "glutes"
        assert live.program is not None and live.program.name == PROGRAM_NAME
        assert live.glutes_refusal is None
        store.prescriptions.end(store.people.default())
        admitted = gateway._admit(address)
        assert admitted is not None and admitted.routine == "upper_back"
        assert live.program is None


def test_the_dashboard_follows_the_prescription_of_whoever_is_rolling(tmp_path: Path) -> None:
    """Choosing who rolls: their prescription is followed from the next session; a program
    chosen by hand is kept."""
    clock.set_now(datetime(2026, 12, 10, 12, tzinfo=UTC))
    (tmp_path / "ack").write_text("yes")
    app = RollerApp(load(env={"ROLLER_USER_TIMEZONE": "UTC"}), open_store(tmp_path / "r.db"),
                    "upper_back", lambda: Source("none"), acknowledged=tmp_path / "ack",
                    autostart=False)
    ben = app.store.people.add("Ben")
    app.store.prescriptions.add(ben, "rx.toml", GOOD)
    me = app.store.people.named("me")

    async def main() -> None:
        async with app.run_test(size=(100, 32)) as pilot:
            for who, program in ((ben, PROGRAM_NAME), (me, None), (ben, PROGRAM_NAME)):
                app.ask_who()
                await pilot.pause()
                app.screen.dismiss(str(who.id))
                await pilot.pause()
                assert (app.program.name if app.program else None) == program
            app.program = builtin()["legs"]  # chosen by hand
            app.ask_who()
            await pilot.pause()
            app.screen.dismiss(str(me.id))
            await pilot.pause()
            assert app.program is not None and app.program.name == "legs"

    asyncio.run(main())
    app.store.close()


def test_a_kept_off_area_is_a_caution_an_alert_event_and_a_count(tmp_path: Path,
                                                                   roller: Run) -> None:
    """Rolled while the prescription keeps it off: the caution as it starts (with the
    session's warnings), a kept_off_contact event for MQTT, and a count in the report."""
    db = str(tmp_path / "r.db")
    rx = tmp_path / "rx.toml"
    rx.write_text(GOOD, encoding="utf-8")  # calves kept off until 2026-12-14
    assert roller("--db", db, "prescription", "import", str(rx), "--person", "me",
                  env=NOW).returncode == 0
    folder = tmp_path / "config" / "roller" / "programs"
    folder.mkdir(parents=True)
    (folder / "calves.toml").write_text('[[program]]\nname = "calves"\ntitle = "Calves"\n\n'
                                        '[[program.step]]\narea = "calves"\ntarget_s = 15\n',
                                        encoding="utf-8")
    tracked = roller("--db", db, "track", "--sim", "--program", "calves", "--speed", "20",
                     "--scenario", "clean", "--json", env=NOW)
    assert tracked.returncode == 0, tracked.stderr
    caution = ("calves kept off until 2026-12-14 by your prescription (strain): roll another "
               "area")
    assert caution in json.loads(tracked.stdout)["warnings"]
    with closing(open_store(Path(db))) as store:
        events = [json.loads(r["payload"]) for r in store.db.query(
            "SELECT payload FROM outbox WHERE kind = 'kept_off_contact'")]
    assert [(e["area"], e["reason"], e["until"]) for e in events] == [
        ("calves", "strain", "2026-12-14")]
    made = roller("--db", db, "report", "-o", "-", "--now", NOW["ROLLER_NOW"], env=NOW)
    assert made.returncode == 0, made.stderr
    assert "1 contact with an area a prescription keeps off." in made.stdout
    later = {"ROLLER_NOW": "2026-12-11T12:00:00+00:00"}
    assert roller("--db", db, "prescription", "end", env=later).returncode == 0
    made = roller("--db", db, "report", "-o", "-", "--now", later["ROLLER_NOW"], env=later)
    assert "1 contact with an area a prescription keeps off." in made.stdout  # it was then
