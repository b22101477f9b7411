"""The Program screen: every step of the program followed, what became of each, what is
under way and what comes next."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label

from tracker.core.limits import visible
from tracker.core.program_run import StepOutcome, StepStatus
from tracker.core.programs import Program

#: What the screen shows: the program (None: none chosen), and each step's outcome so far.
Progress = Callable[[], tuple[Program | None, list[StepOutcome]]]
STATUS = {StepStatus.DONE: "done", StepStatus.CUT_SHORT: "cut short",
          StepStatus.SKIPPED: "skipped", StepStatus.CURRENT: "now",
          StepStatus.NOT_REACHED: ""}


class ProgramScreen(Screen[None]):
    """Refreshed twice a second while shown, from ``progress``."""

    def __init__(self, progress: Progress) -> None:
        super().__init__(id="program")
        self.progress = progress

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label(id="program-title")
        yield DataTable(id="steps", cursor_type="none")
        yield Label("] next step   o roll glutes anyway   a switch area   l live",
                    id="program-keys")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("", "step", "for", "", "so far", "why")
        self.set_interval(0.5, self.show)

    def on_screen_resume(self) -> None:
        self.show()

    def show(self) -> None:
        if not self.is_current:
            return
        program, outcomes = self.progress()
        title = self.query_one("#program-title", Label)
        table = self.query_one(DataTable)
        table.clear()
        if program is None:
            title.update("No program: choose one with Follow a program (ctrl+p), or "
                         "roller dashboard --program NAME")
            return
        title.update(Content(visible(f"{program.title}: {program.about}".rstrip(": "))))
        for step, outcome in zip(program.steps, outcomes, strict=True):
            target = f"{step.seconds:g} s" + (" rolling" if step.kind == "area" else "")
            table.add_row(str(outcome.index + 1), Text(visible(step.title)), target,
                          STATUS[outcome.status],
                          f"{outcome.seconds:.0f} s" if outcome.seconds else "",
                          Text(visible(outcome.reason)))
