"""The Live screen: body map, session figures, bout and pause guides, trace, link and MQTT.

It is redrawn many times a second for hours, so a redraw repaints only what changed: a label
whose text is the same is left alone, and one whose text changes keeps its place on the
screen unless its size changes with it (see :func:`rewrite`).
"""

from __future__ import annotations

from collections import deque

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, Sparkline, Static

from dashboards.body_map import BodyMap
from tracker.core.body import Body
from tracker.core.guidance import ALERT, CAUTION, ORIENTATION_UNSURE, PLACEMENT, placement
from tracker.core.pictures.tables import session_time
from tracker.core.program_run import ProgramView
from tracker.core.schedule import Rules
from tracker.core.status import Status

#: Room enough for any label's text on one line: measures its lines as they are, unwrapped.
_UNBOUNDED = Size(10_000, 10_000)


def rewrite(label: Static, text: str) -> None:
    """Show ``text`` on ``label``, but only when it differs from what is shown, and lay the
    screen out again only when the label's size changes with it. Textual lays out by
    default on every update, and a layout repaints every widget on the screen, header and
    footer included; most of these texts keep their size as they change (a clock's digits,
    a distance), so most updates repaint the one label. The size is measured unwrapped: a
    text that does not fit on its lines (it wraps) is laid out each time it changes."""
    if label.content == text:
        return
    label.update(text, layout=False)
    if label.is_mounted:
        width = label.get_content_width(_UNBOUNDED, _UNBOUNDED)
        if Size(width, label.get_content_height(_UNBOUNDED, _UNBOUNDED, width)) \
                != label.content_size:
            label.refresh(layout=True)


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

    seconds: reactive[float] = reactive(0.0, repaint=False)  # the text repaints it, if changed

    def __init__(self, name: str, low_s: float, high_s: float, digits: int = 0,
                 **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.title, self.low_s, self.high_s, self.digits = name, low_s, high_s, digits

    def watch_seconds(self, seconds: float) -> None:
        rewrite(self, f"{self.title} {seconds:4.{self.digits}f} s  (guide {self.low_s:g}-"
                      f"{self.high_s:g} s)")
        self.set_class(seconds < self.low_s, "short")
        self.set_class(self.low_s <= seconds <= self.high_s, "good")
        self.set_class(seconds > self.high_s, "long")


class LiveScreen(Screen[None]):
    """Redrawn by the app's timer from the latest status: never a message per sample.

    A status comes twice a second while the roller streams (an alert's at once), and what
    it changes is repainted together, in one screen update: the labels whose text changed,
    the body map if its marks moved, the trace. Between statuses a redraw only adds a point
    to the trace (its time axis), which scrolls by itself while no status comes."""

    TRACE_S = 30.0
    TRAIL = 5  # positions on the body map's trail: 2.5 s at a status every 0.5 s

    def __init__(self, body: Body, routine: str, redraw_hz: float,
                 rules: Rules | None = None) -> None:
        super().__init__(id="live")
        self.body, self.routine, self.rules = body, routine, rules or Rules()
        self.trace: deque[float] = deque(maxlen=int(self.TRACE_S * redraw_hz))
        self.unshown = 0  # points added to the trace since the sparkline last showed it
        self.shown: Status | None = None  # the status the figures show

    def compose(self) -> ComposeResult:
        # The widgets a redraw draws on, kept rather than queried twelve times a second.
        self.body_map = BodyMap(self.body, self.TRAIL, id="map")
        self.routine_label = Label(f"routine {self.routine.replace('_', ' ')}", id="routine")
        self.placement_label = Label(placement(self.routine, first=True), id="placement")
        self.region_label = Label("region -", id="region")
        self.clock_label = Label("session 0:00.0   active 0:00.0   paused 0:00.0", id="clock")
        self.strokes_label = Label("strokes 0   cadence 0 cycles/min", id="strokes")
        self.program_label = Label("", id="program")
        rules = self.rules
        self.bout_guide = Guide("bout ", rules.bout_min_s, rules.bout_max_s, id="bout")
        self.pause_guide = Guide("pause", rules.pause_min_s, rules.pause_max_s, id="pause")
        self.pace_guide = Guide("stroke", rules.stroke_min_s, rules.stroke_max_s, 1, id="pace")
        self.sparkline = Sparkline([], id="trace")
        self.link_label = Label("link: connecting", id="link")
        self.mqtt_label = Label("mqtt: off", id="mqtt")
        self.caution_banner = CautionBanner()
        self.alert_banner = AlertBanner()
        yield Header()
        yield self.alert_banner
        yield self.caution_banner
        with Horizontal():
            yield self.body_map
            with Vertical(id="figures"):
                yield self.routine_label
                yield self.placement_label
                yield self.region_label
                yield self.clock_label
                yield self.strokes_label
                yield self.program_label
                yield self.bout_guide
                yield self.pause_guide
                yield self.pace_guide
                yield Label("position over the last 30 s", classes="caption")
                yield self.sparkline
                yield self.link_label
                yield self.mqtt_label
        yield Footer()

    def use_person(self, body: Body, rules: Rules) -> None:
        """Another person: the map's regions and lumbar band move with their height, and
        the guides are their schedule's."""
        self.body, self.rules = body, rules
        self.body_map.body = body
        self.body_map.refresh()
        for guide, (low_s, high_s) in ((self.bout_guide, (rules.bout_min_s, rules.bout_max_s)),
                                       (self.pause_guide, (rules.pause_min_s, rules.pause_max_s)),
                                       (self.pace_guide, (rules.stroke_min_s, rules.stroke_max_s))):
            guide.low_s, guide.high_s = low_s, high_s

    def show(self, status: Status, mqtt: str) -> None:
        rewrite(self.mqtt_label, f"mqtt: {mqtt}")
        s = status.state
        if s is not None:
            self.trace.append(-s.s_cm)  # head at the top
            self.unshown += 1
        if status is self.shown:  # no news
            # The trace moves on each second while none comes (the link is down); its
            # second point at once, as a sparkline of one point is drawn at full height.
            if (self.unshown * self.TRACE_S >= (self.trace.maxlen or 0)
                    or len(self.sparkline.data or ()) < 2):
                self.show_trace()
            return
        self.shown = status
        rewrite(self.link_label, f"link: {status.link}"
                + (f" #{status.attempt}" if status.link == "reconnecting" else "")
                + f"   loss {status.loss_pct:.1f} %   battery "
                + (f"{status.battery_pct} %" if status.battery_pct is not None else "-")
                + (f"\nwarning: {status.warning}" if status.warning else ""))
        if s is None:
            return
        self.body_map.move(s.s_cm, s.s_sd_cm)
        area = status.routine or self.routine
        # Until rolling begins; and while nobody can tell which way round the roller lies;
        # never beside the lumbar alert, which says more.
        self.placement_label.display = ((s.strokes == 0 or s.placing or s.orientation_unsure)
                                        and not s.lumbar)
        if s.placing:
            rewrite(self.placement_label,
                    f"Lift the roller to your {area.replace('_', ' ')}: {PLACEMENT[area]}")
        elif s.orientation_unsure:
            rewrite(self.placement_label, ORIENTATION_UNSURE)
        rewrite(self.routine_label, f"routine {area.replace('_', ' ')}"
                + (f" (part {s.part + 1})" if s.part else ""))
        self.show_program(status.program)
        self.caution_banner.display = s.caution and not s.lumbar
        rewrite(self.region_label, f"region {s.region}  ({s.s_cm:.1f} ± {s.s_sd_cm:.1f} cm)")
        rewrite(self.clock_label, f"session {session_time(s.active_s + s.paused_s)}   active "
                f"{session_time(s.active_s)}   paused {session_time(s.paused_s)}")
        rewrite(self.strokes_label,
                f"strokes {s.strokes}   cadence {s.cadence_cpm:.0f} cycles/min")
        self.show_trace()
        self.bout_guide.seconds = s.bout_s
        self.pause_guide.seconds = s.pause_s
        if s.strokes:  # the mean one-way stroke: slow is the advice
            self.pace_guide.seconds = s.active_s / s.strokes

    def show_trace(self) -> None:
        self.sparkline.data = list(self.trace)
        self.unshown = 0

    def show_program(self, view: ProgramView | None) -> None:
        """The program's step, its time left and what comes next; or why it waits."""
        label = self.program_label
        label.display = view is not None
        if view is None:
            return
        if view.step is None:
            rewrite(label, f"{view.program}: done")
        elif view.refusal:
            rewrite(label, f"step {view.index + 1}/{view.count} {view.step.title}: not "
                           f"today, {view.refusal}. ] skips it, o rolls it anyway")
        else:
            after = f"   next: {view.next_step.title}" if view.next_step else ""
            slowly = (f", slowly ({self.rules.stroke_min_s:g}-{self.rules.stroke_max_s:g} s "
                      "a stroke)" if view.step.kind == "area" else "")
            rewrite(label, f"step {view.index + 1}/{view.count} {view.step.title}{slowly}: "
                           f"{view.left_s:.0f} s left{after}")
        label.set_class(bool(view.refusal), "refused")

    def alert(self, on: bool) -> None:
        """The lumbar alert at once, not at the next redraw: the notes it says more than
        (the caution, where to place the roller) go with it."""
        self.alert_banner.display = on
        if on:
            self.caution_banner.display = self.placement_label.display = False
        self.body_map.flash = on
