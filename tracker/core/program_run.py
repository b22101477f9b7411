"""A program as it is followed: which step is current, when it is done, how far one got.

Pure: the caller brings the rolling and the clock (:meth:`ProgramRun.update`, every tick)
and the person's keys (:meth:`~ProgramRun.advance`, :meth:`~ProgramRun.override`); the run
says what is current, and at the end what became of each step, as JSON for the store.

``rolled_s`` is the active rolling (pauses not counted) on the current step's area since
the step began, e.g. the ``active_s`` of the session started for it; stretch steps ignore it
and count down on ``now_s`` (any clock in seconds) from the moment the run moved to them, or
from the first update when a program opens with one.

On a day the schedule refuses glutes, the run *waits* on each glute step, and
:attr:`~ProgramRun.refusal` says why, until the person skips it (:meth:`~ProgramRun.advance`:
recorded as skipped, with the reason) or insists (:meth:`~ProgramRun.override`: glutes are
rolled for the rest of the run, each such step recorded with the refusal it overrode). It
waits rather than skipping at once so the choice is the person's, as with ``--override``.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass
from typing import Any, Final

from tracker.core.programs import Program, Step

FORMAT: Final = "roller-program-run/1"


class StepStatus(enum.StrEnum):
    DONE = "done"  # its target met
    CUT_SHORT = "cut_short"  # the person moved on before the target
    SKIPPED = "skipped"  # glutes refused today, and the person moved on
    CURRENT = "current"
    NOT_REACHED = "not_reached"


@dataclass(frozen=True)
class StepOutcome:
    index: int
    title: str
    status: StepStatus
    seconds: float  # rolled (area step) or spent (stretch step)
    reason: str = ""  # the schedule's refusal the step was skipped for, waits on or overrode


@dataclass(frozen=True)
class ProgramView:
    """The run at a glance, for whoever shows it: the step, its time left, what is next."""

    program: str  # the title
    index: int
    count: int
    step: Step | None  # None: finished
    left_s: float
    next_step: Step | None
    refusal: str | None  # why the run waits on this (glute) step


def read_outcomes(run: object) -> tuple[str, list[StepOutcome]]:
    """A stored run's title and outcomes (what :meth:`ProgramRun.to_json` wrote);
    :class:`ValueError` naming what is not as written."""
    if not isinstance(run, dict) or run.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} object")
    try:
        outcomes = [StepOutcome(int(o["index"]), str(o["title"]), StepStatus(o["status"]),
                                float(o["seconds"]), str(o.get("reason", "")))
                    for o in run["outcomes"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"an outcome is not as written ({exc})") from None
    return str(run.get("title", "")), outcomes


class ProgramRun:
    """One person following one program, step by step."""

    def __init__(self, program: Program, glutes_refusal: str | None = None) -> None:
        """``glutes_refusal`` is the schedule's reason when glutes are refused today (None
        or empty when they are allowed, as the admission check gives it)."""
        self.program = program
        self.glutes_refusal = glutes_refusal or None
        self.overridden = False
        self.index = 0
        self._outcomes: list[StepOutcome] = []
        self._began_s: float | None = None  # the current step's start on the caller's clock
        self._spent_s = 0.0  # the current step's progress at the latest update

    @property
    def step(self) -> Step | None:
        """The current step; None once the run is finished."""
        return self._at(self.index)

    @property
    def next_step(self) -> Step | None:
        """The step after the current one, to say what comes next."""
        return self._at(self.index + 1)

    @property
    def finished(self) -> bool:
        return self.index >= len(self.program.steps)

    @property
    def refusal(self) -> str | None:
        """Why the run waits on the current step (a refused glute step); None when it does
        not wait."""
        step = self.step
        if step is None or step.area != "glutes" or self.overridden:
            return None
        return self.glutes_refusal

    def left_s(self, rolled_s: float, now_s: float) -> float:
        """Seconds left of the current step's target or countdown (0 once finished)."""
        step = self.step
        return 0.0 if step is None else max(0.0, step.seconds - self._spent(rolled_s, now_s))

    def update(self, rolled_s: float, now_s: float) -> bool:
        """Note the progress; move on when the current step's target is met. True when the
        run moved on. A step the run waits on is never met."""
        if self.finished or self.refusal is not None:
            return False
        if self._began_s is None:
            self._began_s = now_s
        self._spent_s = self._spent(rolled_s, now_s)
        if self.left_s(rolled_s, now_s) > 0:
            return False
        self._move_on(StepStatus.DONE, rolled_s, now_s)
        return True

    def advance(self, rolled_s: float, now_s: float) -> None:
        """The person moves on now: the step is cut short if its target is not met, skipped
        if the run waited on it."""
        if self.finished:
            return
        if self.refusal is not None:
            status = StepStatus.SKIPPED
        elif self.left_s(rolled_s, now_s) > 0:
            status = StepStatus.CUT_SHORT
        else:
            status = StepStatus.DONE
        self._move_on(status, rolled_s, now_s)

    def override(self) -> None:
        """The person insists on glutes today: no glute step of this run waits any more."""
        self.overridden = True

    def view(self, rolled_s: float, now_s: float) -> ProgramView:
        return ProgramView(self.program.title, self.index, len(self.program.steps), self.step,
                           self.left_s(rolled_s, now_s), self.next_step, self.refusal)

    def outcomes(self) -> list[StepOutcome]:
        """Every step's outcome, in order: those passed, the current one (its progress at the
        latest update), those not reached."""
        current = [] if self.finished else [self._outcome(StepStatus.CURRENT, self._spent_s)]
        later = [StepOutcome(i, step.title, StepStatus.NOT_REACHED, 0.0)
                 for i, step in enumerate(self.program.steps) if i > self.index]
        return [*self._outcomes, *current, *later]

    def to_json(self) -> dict[str, Any]:
        """The program, its steps as they were defined, and how far the person got."""
        return {
            "format": FORMAT,
            "program": self.program.name,
            "title": self.program.title,
            "steps": [asdict(step) for step in self.program.steps],
            "outcomes": [{**asdict(o), "status": o.status.value, "seconds": round(o.seconds, 3)}
                         for o in self.outcomes()],
        }

    def _at(self, index: int) -> Step | None:
        return self.program.steps[index] if index < len(self.program.steps) else None

    def _spent(self, rolled_s: float, now_s: float) -> float:
        """Progress on the current step: its rolling, or the time since its countdown began."""
        if self.step is None or self.step.kind == "area":
            return rolled_s
        return max(0.0, now_s - (now_s if self._began_s is None else self._began_s))

    def _outcome(self, status: StepStatus, spent_s: float) -> StepOutcome:
        step = self.program.steps[self.index]
        reason = ""
        if step.area == "glutes" and self.glutes_refusal is not None:
            reason = (f"overridden ({self.glutes_refusal})" if self.overridden
                      else self.glutes_refusal)
        return StepOutcome(self.index, step.title, status, spent_s, reason)

    def _move_on(self, status: StepStatus, rolled_s: float, now_s: float) -> None:
        self._outcomes.append(self._outcome(status, self._spent(rolled_s, now_s)))
        self.index += 1
        self._began_s, self._spent_s = now_s, 0.0
