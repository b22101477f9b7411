"""Modal screens: safety first, a choice (who, which area, which program), the schedule's
refusal, and the card after a session."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, OptionList, Static
from textual.widgets.option_list import Option

from tracker.core.formats.roller_analysis import Analysis
from tracker.core.pictures.tables import areas, pace_text, parts_lines, session_time
from tracker.core.schedule import Rules

SAFETY = """Before you roll your back

Do not foam-roll your back without a clinician's advice if you have:
  - a spinal fracture, or an acute disc injury
  - severe osteoporosis
  - had back surgery recently
  - an inflammatory back condition, such as ankylosing spondylitis

Roll the upper and mid back, never the lower back: it has no ribs to support it.
For low-back tightness, roll the glutes and hips instead."""

AFTER = {
    "glutes": "Finish with a seated piriformis stretch: sit tall, cross one ankle over the "
              "other knee, lean forward from the hips until you feel the buttock, hold 30 s "
              "a side.",
    "upper_back": "Low-back tightness often eases with hip and ankle mobility too: a few "
                  "slow hip-flexor lunges and ankle rocks against a wall.",
}


class SafetyScreen(ModalScreen[bool]):
    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(SAFETY)
            yield Button("I understand", id="ack", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(True)


class ChoiceScreen(ModalScreen[str]):
    """One of a few choices (who is rolling, which area next, which program); dismisses
    with the chosen one's id, or None on escape."""

    BINDINGS = [("escape", "dismiss(None)", "Cancel")]

    def __init__(self, question: str, choices: list[tuple[str, str]],
                 current: str | None = None) -> None:
        super().__init__()
        self.question, self.choices, self.current = question, choices, current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question)
            yield OptionList(*(Option(label, id=key) for key, label in self.choices),
                             id="choices")

    def on_mount(self) -> None:
        keys = [key for key, _ in self.choices]
        options = self.query_one(OptionList)
        options.highlighted = keys.index(self.current) if self.current in keys else 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        assert event.option.id is not None
        self.dismiss(event.option.id)


class RefusalScreen(ModalScreen[bool]):
    """Why a glute session is refused, and when it is allowed; dismisses True to override."""

    def __init__(self, why: str, next_day: str) -> None:
        super().__init__()
        self.why, self.next_day = why, next_day

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Not glutes today: {self.why}.")
            yield Label(f"Next glute session: {self.next_day}.")
            with Horizontal():
                yield Button("Roll something else", id="cancel", variant="primary")
                yield Button("Override", id="override", variant="error")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "override")


class SummaryScreen(ModalScreen[None]):
    """The card after a session: its figures, each part's with its pace, the lower back,
    and what to do next."""

    def __init__(self, analysis: Analysis, rules: Rules | None = None) -> None:
        super().__init__()
        self.analysis, self.rules = analysis, rules or Rules()

    def compose(self) -> ComposeResult:
        a = self.analysis
        with Vertical(classes="dialog"):
            yield Label(f"{areas(p.routine for p in a.areas)}: {session_time(a.duration_s)}, "
                        f"active {session_time(a.active_s)}, {a.strokes} strokes, "
                        f"{a.cadence_cpm:.0f} cycles/min")
            yield Label(f"pace {pace_text(a, self.rules)}", id="pace")
            if a.parts:
                yield Static("\n".join(parts_lines(a, self.rules)), id="parts")
            yield Label(f"lumbar contact: {len(a.lumbar_events)} time(s)" if a.lumbar_events
                        else "no lumbar contact: well done")
            if a.caution_events:
                yield Label(f"nearing the lower back: {len(a.caution_events)} time(s), "
                            "the roller may have been a few cm lower than shown")
            yield Static(AFTER.get(a.areas[-1].routine, ""))
            yield Button("Close", id="close", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)
