"""Modal screens: safety first, a choice (who, which area, which program), the schedule's
refusal, and the card after a session."""

from __future__ import annotations

from typing import TypeVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Label, OptionList, Static
from textual.widgets.option_list import Option

from tracker.core.formats.roller_analysis import Analysis
from tracker.core.limits import visible
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


_R = TypeVar("_R")


class Card(ModalScreen[_R]):
    """A card over the app: the app's own keys wait while it is up (Textual leaves them
    out under a modal screen), and one pressed says what to do first instead of nothing."""

    #: What to do before the app's keys act again.
    FIRST = "close this card first"

    def on_key(self, event: events.Key) -> None:
        keys = {b.key if isinstance(b, Binding) else b[0] for b in self.app.BINDINGS}
        if event.key in keys:
            event.stop()
            self.notify(self.FIRST, severity="warning")


class SafetyScreen(Card[bool]):
    FIRST = "read the safety notes first: I understand (Enter) closes them"

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(SAFETY)
            yield Button("I understand", id="ack", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(True)


class ChoiceScreen(Card[str]):
    """One of a few choices (who is rolling, which area next, which program); dismisses
    with the chosen one's id, or None on escape."""

    BINDINGS = [("escape", "dismiss(None)", "Cancel")]
    FIRST = "choose one first (Enter), or Escape to cancel"

    def __init__(self, question: str, choices: list[tuple[str, str]],
                 current: str | None = None) -> None:
        super().__init__()
        self.question, self.choices, self.current = question, choices, current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question)
            yield OptionList(*(Option(Content(visible(label)), id=key)  # never markup
                               for key, label in self.choices), id="choices")

    def on_mount(self) -> None:
        keys = [key for key, _ in self.choices]
        options = self.query_one(OptionList)
        options.highlighted = keys.index(self.current) if self.current in keys else 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        assert event.option.id is not None
        self.dismiss(event.option.id)


class RefusalScreen(Card[bool]):
    """Why a glute session is refused, and when it is allowed; dismisses True to override."""

    FIRST = "answer first: roll something else, or override"

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


def times(count: int) -> str:
    """``once``, ``twice``, ``3 times``: how often, as said in a sentence."""
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def summary_sentences(analysis: Analysis, rules: Rules) -> list[str]:
    """The card's text, a sentence (or a line of figures ending as one) a paragraph: each
    is wrapped whole on the card, never cut at its edge."""
    a = analysis
    lines = [f"{areas(p.routine for p in a.areas).capitalize()}: {session_time(a.duration_s)}, "
             f"active {session_time(a.active_s)}, {a.strokes} strokes, "
             f"{a.cadence_cpm:.0f} cycles/min.",
             f"Pace {pace_text(a, rules)}."]
    if a.parts:
        lines += [f"{line}." for line in parts_lines(a, rules)]
    lines.append(f"Lumbar contact: {times(len(a.lumbar_events))}."
                 if a.lumbar_events else "No lumbar contact: well done.")
    if a.caution_events:
        lines.append(f"Nearing the lower back {times(len(a.caution_events))}: the roller may "
                     "have been a few cm lower than shown.")
    if after := AFTER.get(a.areas[-1].routine):
        lines.append(after)
    return lines


class SummaryScreen(Card[None]):
    """The card after a session: its figures, each part's with its pace, the lower back,
    and what to do next. Every text wraps (a Label would cut a long one at the card's
    edge), and the card scrolls rather than run off a small terminal."""

    BINDINGS = [("escape", "dismiss(None)", "Close")]
    FIRST = "close the session's card first (Enter)"
    AUTO_FOCUS = "#close"  # Enter closes it (the card scrolls, and would take the focus)

    def __init__(self, analysis: Analysis, rules: Rules | None = None) -> None:
        super().__init__()
        self.analysis, self.rules = analysis, rules or Rules()

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="summary"):
            for line in summary_sentences(self.analysis, self.rules):
                yield Static(line, classes="sentence", markup=False)
            yield Button("Close", id="close", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)
