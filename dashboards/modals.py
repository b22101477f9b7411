"""Modal screens: safety first, who is rolling, the schedule's refusal, and the card after a
session."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, OptionList, Static
from textual.widgets.option_list import Option

from tracker.analysis import Analysis
from tracker.people import Person
from tracker.report import clock

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


class PersonScreen(ModalScreen[int]):
    """Who is rolling? The household's people; dismisses with the chosen one's id."""

    def __init__(self, people: list[Person], current: int | None = None) -> None:
        super().__init__()
        self.people, self.current = people, current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Who is rolling?")
            yield OptionList(*(Option(p.name, id=str(p.id)) for p in self.people),
                             id="people")

    def on_mount(self) -> None:
        ids = [p.id for p in self.people]
        options = self.query_one(OptionList)
        options.highlighted = ids.index(self.current) if self.current in ids else 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        assert event.option.id is not None
        self.dismiss(int(event.option.id))


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
    def __init__(self, analysis: Analysis) -> None:
        super().__init__()
        self.analysis = analysis

    def compose(self) -> ComposeResult:
        a = self.analysis
        with Vertical(classes="dialog"):
            yield Label(f"{a.routine.replace('_', ' ')}: {clock(a.duration_s)}, active "
                        f"{clock(a.active_s)}, {a.strokes} strokes, "
                        f"{a.cadence_cpm:.0f} cycles/min")
            yield Label(f"lumbar contact: {len(a.lumbar_events)} time(s)" if a.lumbar_events
                        else "no lumbar contact: well done")
            if a.caution_events:
                yield Label(f"nearing the lower back: {len(a.caution_events)} time(s), "
                            "the roller may have been a few cm lower than shown")
            yield Static(AFTER.get(a.routine, ""))
            yield Button("Close", id="close", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)
