"""The Live screen: body map, session figures, bout and pause guides, trace, link and MQTT."""

from __future__ import annotations

from collections import deque

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, Sparkline, Static

from dashboards.body_map import BodyMap
from tracker.core.body import Body
from tracker.core.guidance import ALERT, CAUTION, PLACEMENT
from tracker.core.pictures.tables import session_time
from tracker.core.program_run import ProgramView
from tracker.core.schedule import Rules
from tracker.core.status import Status


class AlertBanner(Static):
    """Full width, red, impossible to miss; hidden while the contact is off the lumbar band."""

    def __init__(self) -> None:
        super().__init__(ALERT, id="alert")


class CautionBanner(Static):
    """Yellow, one line: the contact is possibly in the lumbar band (its uncertainty reaches
    it); hidden while it is clear, and while the alert says more."""

    def __init__(self) -> None:
        super().__init__(CAUTION, id="caution")


class Guide(Label):
    """A timer against a guide range: the colour says too short, in range, too long."""

    seconds: reactive[float] = reactive(0.0)

    def __init__(self, name: str, low_s: float, high_s: float, digits: int = 0,
                 **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.title, self.low_s, self.high_s, self.digits = name, low_s, high_s, digits

    def watch_seconds(self, seconds: float) -> None:
        self.update(f"{self.title} {seconds:4.{self.digits}f} s  (guide {self.low_s:g}-"
                    f"{self.high_s:g} s)")
        self.set_class(seconds < self.low_s, "short")
        self.set_class(self.low_s <= seconds <= self.high_s, "good")
        self.set_class(seconds > self.high_s, "long")


class LiveScreen(Screen[None]):
    """Redrawn by the app's timer from the latest status: never a message per sample."""

    TRACE_S = 30.0

    def __init__(self, body: Body, routine: str, redraw_hz: float,
                 rules: Rules | None = None) -> None:
        super().__init__(id="live")
        self.body, self.routine, self.rules = body, routine, rules or Rules()
        self.trace: deque[float] = deque(maxlen=int(self.TRACE_S * redraw_hz))

    def compose(self) -> ComposeResult:
        yield Header()
        yield AlertBanner()
        yield CautionBanner()
        with Horizontal():
            yield BodyMap(self.body, id="map")
            with Vertical(id="figures"):
                yield Label(f"routine {self.routine.replace('_', ' ')}", id="routine")
                yield Label(PLACEMENT[self.routine], id="placement")
                yield Label("region -", id="region")
                yield Label("session 0:00.0   active 0:00.0   paused 0:00.0", id="clock")
                yield Label("strokes 0   cadence 0 cycles/min", id="strokes")
                yield Label("", id="program")
                yield Guide("bout ", self.rules.bout_min_s, self.rules.bout_max_s, id="bout")
                yield Guide("pause", self.rules.pause_min_s, self.rules.pause_max_s,
                            id="pause")
                yield Guide("stroke", self.rules.stroke_min_s, self.rules.stroke_max_s, 1,
                            id="pace")
                yield Label("position over the last 30 s", classes="caption")
                yield Sparkline([], id="trace")
                yield Label("link: connecting", id="link")
                yield Label("mqtt: off", id="mqtt")
        yield Footer()

    def use_person(self, body: Body, rules: Rules) -> None:
        """Another person: the map's regions and lumbar band move with their height, and
        the guides are their schedule's."""
        self.body, self.rules = body, rules
        self.query_one(BodyMap).body = body
        self.query_one(BodyMap).refresh()
        for guide, (low_s, high_s) in {"#bout": (rules.bout_min_s, rules.bout_max_s),
                                       "#pause": (rules.pause_min_s, rules.pause_max_s),
                                       "#pace": (rules.stroke_min_s, rules.stroke_max_s)
                                       }.items():
            widget = self.query_one(guide, Guide)
            widget.low_s, widget.high_s = low_s, high_s

    def show(self, status: Status, mqtt: str) -> None:
        self.query_one("#link", Label).update(
            f"link: {status.link}" + (f" #{status.attempt}" if status.link == "reconnecting"
                                      else "")
            + f"   loss {status.loss_pct:.1f} %   battery "
            + (f"{status.battery_pct} %" if status.battery_pct is not None else "-")
            + (f"\nwarning: {status.warning}" if status.warning else ""))
        self.query_one("#mqtt", Label).update(f"mqtt: {mqtt}")
        s = status.state
        if s is None:
            return
        self.query_one(BodyMap).move(s.s_cm, s.s_sd_cm)
        area = status.routine or self.routine
        placement = self.query_one("#placement", Label)
        placement.display = s.strokes == 0 or s.placing  # until rolling begins
        if s.placing:
            placement.update(f"Lift the roller to your {area.replace('_', ' ')}: "
                             f"{PLACEMENT[area]}")
        self.query_one("#routine", Label).update(f"routine {area.replace('_', ' ')}"
                                                 + (f" (part {s.part + 1})" if s.part else ""))
        self.show_program(status.program)
        self.query_one(CautionBanner).display = s.caution and not s.lumbar
        self.query_one("#region", Label).update(
            f"region {s.region}  ({s.s_cm:.1f} ± {s.s_sd_cm:.1f} cm)")
        elapsed = s.active_s + s.paused_s
        self.query_one("#clock", Label).update(
            f"session {session_time(elapsed)}   active {session_time(s.active_s)}   "
            f"paused {session_time(s.paused_s)}")
        self.query_one("#strokes", Label).update(
            f"strokes {s.strokes}   cadence {s.cadence_cpm:.0f} cycles/min")
        self.trace.append(-s.s_cm)  # head at the top
        self.query_one(Sparkline).data = list(self.trace)
        self.query_one("#bout", Guide).seconds = s.bout_s
        self.query_one("#pause", Guide).seconds = s.pause_s
        if s.strokes:  # the mean one-way stroke: slow is the advice
            self.query_one("#pace", Guide).seconds = s.active_s / s.strokes

    def show_program(self, view: ProgramView | None) -> None:
        """The program's step, its time left and what comes next; or why it waits."""
        label = self.query_one("#program", Label)
        label.display = view is not None
        if view is None:
            return
        if view.step is None:
            label.update(f"{view.program}: done")
        elif view.refusal:
            label.update(f"step {view.index + 1}/{view.count} {view.step.title}: not today, "
                         f"{view.refusal}. ] skips it, o rolls it anyway")
        else:
            after = f"   next: {view.next_step.title}" if view.next_step else ""
            slowly = (f", slowly ({self.rules.stroke_min_s:g}-{self.rules.stroke_max_s:g} s "
                      "a stroke)" if view.step.kind == "area" else "")
            label.update(f"step {view.index + 1}/{view.count} {view.step.title}{slowly}: "
                         f"{view.left_s:.0f} s left{after}")
        label.set_class(bool(view.refusal), "refused")

    def alert(self, on: bool) -> None:
        self.query_one(AlertBanner).display = on
        self.query_one(BodyMap).flash = on
