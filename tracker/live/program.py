"""A program followed over a live session: the area each step rolls, its stretches, its end.

An area step switches the session to its area (the person lifts the roller and puts it down
at the landmark) unless the session already rolls it; its progress is the rolling done on it
since the step began. A stretch happens off the roller: the part under way ends at once and
the session waits for the next area step's (so the stretch counts as neither rolling nor a
pause), the lifecycle is told the roller lies still on purpose, and the countdown runs on the
sensor's clock. When the last step is done the session ends. The area is always the
session's own (``area``), so a switch made by hand or from Home Assistant is followed too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tracker.core.estimate import LiveState
from tracker.core.program_run import ProgramRun, ProgramView
from tracker.core.programs import Program

#: ``switch(area, off, override)``: as :meth:`tracker.live.session.LiveSession.switch`.
Switcher = Callable[[str, bool, bool], Any]


class Follow:
    """Keeps a :class:`ProgramRun` in step with a live session; :meth:`tick` with every
    status. ``end`` ends the session, ``excuse`` tells it the roller is meant to lie still
    until a moment (a stretch), ``area`` is the area the session rolls or was asked for."""

    def __init__(self, program: Program, glutes_refusal: str | None, switch: Switcher,
                 end: Callable[[], Any], excuse: Callable[[float], Any],
                 area: Callable[[], str]) -> None:
        self.run = ProgramRun(program, glutes_refusal)
        self._switch, self._end, self._excuse, self._area = switch, end, excuse, area
        self._base: tuple[int, float] = (-1, 0.0)  # (part, its active s) at the step's start
        self._started = False
        self._ended = False

    def rolled_s(self, state: LiveState) -> float:
        """Rolling on the current step's area since the step began."""
        step = self.run.step
        if step is None or step.kind != "area" or state.placing or self._area() != step.area:
            return 0.0
        part, active = self._base
        return state.part_active_s - active if state.part == part else state.part_active_s

    def view(self, state: LiveState) -> ProgramView:
        return self.run.view(self.rolled_s(state), state.t_s)

    def tick(self, state: LiveState) -> bool:
        """Follow the program to ``state``; whether the step changed."""
        if not self._started:
            self._started = True
            self._enter(state)
        step = self.run.step
        if step is not None and step.area is not None and self.run.refusal is None:
            self._go(step.area)  # also once a refused glute step is overridden
        moved = self.run.update(self.rolled_s(state), state.t_s)
        if moved:
            self._enter(state)
        return moved

    def advance(self, state: LiveState) -> None:
        """The person moves on (a key): the step is cut short, or skipped if refused."""
        self.run.advance(self.rolled_s(state), state.t_s)
        self._enter(state)

    def override(self) -> None:
        """Roll the glutes today although the schedule says not (kept on the session)."""
        self.run.override()

    def _enter(self, state: LiveState) -> None:
        """What the new current step asks of the session."""
        step = self.run.step
        if step is None:
            if not self._ended:
                self._ended = True
                self._end()
            return
        self._base = (state.part, state.part_active_s)
        if step.kind == "stretch":
            self._excuse(state.t_s + step.seconds)
            self._switch(self._next_area() or self._area(), True, self.run.overridden)
        elif step.area is not None and self.run.refusal is None:
            self._go(step.area)

    def _next_area(self) -> str | None:
        """The area of the next step to roll (a refused glute step, unless overridden,
        is not one)."""
        refused = self.run.glutes_refusal is not None and not self.run.overridden
        for step in self.run.program.steps[self.run.index:]:
            if step.area and not (refused and step.area == "glutes"):
                return step.area
        return None

    def _go(self, area: str) -> None:
        if area != self._area():
            self._switch(area, False, self.run.overridden)
