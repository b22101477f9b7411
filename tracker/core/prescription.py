"""A clinician's prescription: the areas to roll, in order, each dosed in minutes or strokes,
sessions a week and rest days for each, the pace, areas to keep off until a date, and who
prescribed it, from when to when.

A clinician writes it as one TOML file (``docs/prescription.md`` documents every key;
``config/prescription-example.toml`` is an example) and the person imports it. While it runs
it is the person's program (:meth:`Prescription.program`) and its glutes' sessions a week and
rest days, and its pace, are the person's schedule rules (:meth:`Prescription.rules`).
Parsing is pure (:func:`parse` takes text) and every problem is one
:class:`PrescriptionError` naming the file, the line and what is wrong, read with the
programs' machinery (:mod:`tracker.core.tomlfile`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Final

from tracker.core import tomlfile
from tracker.core.body import ROUTINES
from tracker.core.limits import FileProblem, quote, visible
from tracker.core.programs import TARGET_S, Program, Step
from tracker.core.schedule import Rolled, Rules
from tracker.core.tomlfile import Fields

#: Minutes of active rolling one area may be prescribed: a program step's bounds (10-600 s).
MINUTES: Final = (0.5, TARGET_S[1] / 60)
#: Strokes one area may be prescribed, before the pace bounds them to a step's seconds.
STROKES: Final = (1, 300)
#: Seconds a one-way stroke may take, as ``[schedule] stroke_min_s``/``stroke_max_s`` allow.
STROKE_S: Final = (0.2, 30.0)
#: The longest each text may be: it is one line on a terminal.
_MAX_CHARS: Final = {"title": 60, "clinician": 60, "contact": 120, "note": 200, "reason": 200}
#: The name of the program a prescription becomes (a program's name, never a file's).
PROGRAM_NAME: Final = "prescription"


class PrescriptionError(FileProblem):
    """A prescription file that cannot be used, with the place of the first problem."""


@dataclass(frozen=True)
class Dose:
    """One area as prescribed: ``minutes`` or ``strokes`` (exactly one) of active rolling
    each session, ``per_week`` sessions, and ``rest_days`` between two (None: the person's
    own rule, or the configuration's)."""

    area: str
    per_week: int
    minutes: float | None = None
    strokes: int | None = None
    rest_days: int | None = None
    note: str = ""

    def seconds(self, stroke_s: tuple[float, float]) -> float:
        """Seconds of active rolling a session gives the area: a dose in strokes is that many
        strokes at the middle of the pace (the step a program follows is timed)."""
        if self.minutes is not None:
            return self.minutes * 60
        return (self.strokes or 0) * sum(stroke_s) / 2

    def describe(self, stroke_s: tuple[float, float]) -> str:
        """The dose in the clinician's unit, for a step's line."""
        if self.strokes is None:
            return self.note
        dose = (f"{self.strokes} strokes (about {self.seconds(stroke_s):g} s at "
                f"{sum(stroke_s) / 2:g} s a stroke)")
        return f"{dose}. {self.note}" if self.note else dose


@dataclass(frozen=True)
class KeepOff:
    """An area not to roll until the end of ``until``, and why."""

    area: str
    reason: str
    until: date

    def caution(self) -> str:
        """What a person rolling the area is told, in one line (the reason is the
        clinician's text: shown as a terminal may show it)."""
        return (f"{self.area.replace('_', ' ')} kept off until {self.until} by your "
                f"prescription ({visible(self.reason)}): roll another area")


@dataclass(frozen=True)
class Prescription:
    title: str
    clinician: str
    contact: str
    start: date
    end: date  # the last day it runs
    stroke_s: tuple[float, float]  # the pace: seconds a one-way stroke, slowest last
    doses: tuple[Dose, ...]  # in the order to roll them
    keep_off: tuple[KeepOff, ...] = ()

    def running(self, day: date) -> bool:
        """Whether it runs on ``day``: from its start to its end, both included."""
        return self.start <= day <= self.end

    def rules(self, rules: Rules) -> Rules:
        """``rules`` as the prescription has them: its pace, and its glutes' sessions a week
        and rest days (the glute quota) when it prescribes glutes."""
        glutes = next((d for d in self.doses if d.area == "glutes"), None)
        quota = {} if glutes is None else {
            "glute_sessions_per_week": glutes.per_week,
            "glute_rest_days": rules.glute_rest_days if glutes.rest_days is None
            else glutes.rest_days}
        return replace(rules, stroke_min_s=self.stroke_s[0], stroke_max_s=self.stroke_s[1],
                       **quota)

    def program(self) -> Program:
        """The program it becomes: one area step per dose, in order."""
        steps = tuple(Step("area", d.area, d.seconds(self.stroke_s),
                           d.area.replace("_", " ").capitalize(), d.describe(self.stroke_s))
                      for d in self.doses)
        return Program(PROGRAM_NAME, self.title,
                       f"Prescribed by {self.clinician}, {self.start} to {self.end}", steps)

    def kept_off_on(self, day: date) -> dict[str, KeepOff]:
        """The areas kept off on ``day`` (while it runs, to each one's ``until``), by area."""
        return {k.area: k for k in self.keep_off if self.running(day) and day <= k.until}


def kept_off_in(session: Rolled,
                prescriptions: Sequence[tuple[Prescription, datetime | None]]) -> list[KeepOff]:
    """The session's parts rolled on an area kept off that day by a prescription not yet
    ended when the session started (each prescription with when it was ended, None: not
    ended), as each was kept off, in the parts' order."""
    day = session.local_day()
    found = []
    for area in session.areas or (session.routine,):
        kept = next((k for rx, ended in prescriptions
                     if (k := rx.kept_off_on(day).get(area)) is not None
                     and (ended is None or session.started_at < ended)), None)
        if kept is not None:
            found.append(kept)
    return found


def kept_off_contacts(sessions: Iterable[Rolled],
                      prescriptions: Sequence[tuple[Prescription, datetime | None]]) -> int:
    """What a clinician counts as contacts with a kept-off area: the parts
    :func:`kept_off_in` finds."""
    return sum(len(kept_off_in(s, prescriptions)) for s in sessions)


def parse(text: str, source: str) -> Prescription:
    """The prescription a file's text writes; :class:`PrescriptionError` on the first
    problem."""
    data = tomlfile.load(text, source, PrescriptionError)
    root = Fields(data, tomlfile.layout(text), source, "file", PrescriptionError, _MAX_CHARS)
    root.only(("prescription", "area", "keep_off"))
    head = root.within("prescription", [root.table_of("prescription", "[prescription]")],
                       "[prescription] table")[0]
    head.only(("title", "clinician", "contact", "start", "end", "stroke_s"))
    start, end = head.date("start"), head.date("end")
    if end < start:
        head.fail("end", f"end ({end}) is before start ({start})")
    stroke_s = _pace(head)
    doses = tuple(_dose(fields, stroke_s) for fields in
                  root.within("area", root.tables("area", "[[area]]"), "[[area]] table"))
    if not doses:
        root.fail("area", "a prescription names at least one area ([[area]])")
    _once(root, "area", [d.area for d in doses], "is prescribed twice")
    entries = root.tables("keep_off", "[[keep_off]]") if "keep_off" in data else []
    keep_off = tuple(_keep_off(fields, start) for fields in
                     root.within("keep_off", entries, "[[keep_off]] table"))
    _once(root, "keep_off", [k.area for k in keep_off], "is kept off twice")
    both = [k for k in keep_off if k.area in {d.area for d in doses}]
    if both:
        root.fail("keep_off", f"{both[0].area} is both prescribed and kept off")
    return Prescription(head.text("title"), head.text("clinician"), head.text("contact"),
                        start, end, stroke_s, doses, keep_off)


def _once(root: Fields, key: str, areas: list[str], problem: str) -> None:
    twice = next((a for i, a in enumerate(areas) if a in areas[:i]), None)
    if twice is not None:
        root.fail(key, f"{twice} {problem}: say each area once")


def _pace(fields: Fields) -> tuple[float, float]:
    """``stroke_s = [fastest, slowest]``: seconds a one-way stroke."""
    value = fields.get("stroke_s")
    low, high = STROKE_S
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool)
                       and low <= v <= high for v in value)  # also refuses nan
            or value[0] > value[1]):
        fields.fail("stroke_s", f"stroke_s must be [fastest, slowest] seconds a one-way "
                                f"stroke, each {low:g} to {high:g}, not {quote(value)}")
    return float(value[0]), float(value[1])


def _area(fields: Fields) -> str:
    area = fields.get("area")
    if area not in ROUTINES:
        fields.fail("area", f"unknown area {quote(area)}, expected one of {', '.join(ROUTINES)}")
    return str(area)


def _dose(fields: Fields, stroke_s: tuple[float, float]) -> Dose:
    fields.only(("area", "minutes", "strokes", "per_week", "rest_days", "note"))
    area = _area(fields)
    units = [unit for unit in ("minutes", "strokes") if unit in fields.values]
    if len(units) != 1:
        fields.fail(units[1] if units else None,
                    f"the dose of {area} is minutes or strokes, exactly one")
    per_week = fields.whole("per_week", (1, 7), "sessions a week")
    rest_days = fields.whole("rest_days", (0, 6), "days") if "rest_days" in fields.values \
        else None
    if rest_days is not None and per_week + (per_week - 1) * rest_days > 7:
        fields.fail("rest_days", f"rest_days = {rest_days} between per_week = {per_week} "
                                 "sessions does not fit in a week")
    note = fields.text("note", default="")
    if units == ["minutes"]:
        return Dose(area, per_week, minutes=fields.number("minutes", MINUTES, "minutes"),
                    rest_days=rest_days, note=note)
    dose = Dose(area, per_week, strokes=fields.whole("strokes", STROKES, "strokes"),
                rest_days=rest_days, note=note)
    low, high = TARGET_S
    if not low <= dose.seconds(stroke_s) <= high:
        fields.fail("strokes", f"{dose.strokes} strokes at {sum(stroke_s) / 2:g} s a stroke "
                               f"take {dose.seconds(stroke_s):g} s; a session gives an area "
                               f"{low:g} to {high:g} s")
    return dose


def _keep_off(fields: Fields, start: date) -> KeepOff:
    fields.only(("area", "reason", "until"))
    area, until = _area(fields), fields.date("until")
    if until < start:
        fields.fail("until", f"until ({until}) is before the prescription's start ({start})")
    return KeepOff(area, fields.text("reason"), until)
