"""The Calibrate screen: the guided calibration step for a sensor taped into a roller."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, Static

from tracker.core import clock
from tracker.core.calibration import calibrate
from tracker.core.errors import RollerError
from tracker.core.guidance import MARK_IT
from tracker.devices import PROFILES
from tracker.live.calibration_step import prompt, record
from tracker.live.radio import radio
from tracker.live.source import Source
from tracker.store.database import Store


class CalibrationScreen(Screen[None]):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, store: Store, source: Source, distance_cm: float | None = None) -> None:
        super().__init__(id="calibrate")
        self.store, self.source, self.distance_cm = store, source, distance_cm

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Calibrating {self.source.address}", id="calibrate-title")
        yield Label("", id="calibrate-prompt")
        yield Label("", id="calibrate-result")
        yield Footer()

    def on_mount(self) -> None:
        self.run_worker(self._run(), exclusive=True, name="calibration")

    def _say(self, phase: str) -> None:
        self.query_one("#calibrate-prompt", Label).update(prompt(phase, self.distance_cm))

    async def _run(self) -> None:
        source = self.source
        known = self.store.devices.known(source.address)
        kind = PROFILES[source.profile or (known[0] if known else "roller")]
        result = self.query_one("#calibrate-result", Label)
        try:
            async with radio(self.app.settings.proxies,  # type: ignore[attr-defined]
                             (source.scanner_backend, source.client_backend)) as air:
                samples, info = await record(
                    source.address, kind, self._say, scanner_backend=air.scanner_backend,
                    client_backend=air.client_backend, clock=source.clock)
            done = calibrate(samples[:, 0], samples[:, 1:4], samples[:, 4:7], self.distance_cm)
        except RollerError as exc:  # Bluetooth, or samples no calibration can come from
            result.update(Content.from_markup("[b red]Not calibrated:[/] $why", why=str(exc)))
            return
        self.store.devices.calibrate(source.address, info.name or kind.label, kind.name,
                                     done.mounting, clock.now())
        axis = " ".join(f"{v:+.2f}" for v in done.mounting.axis)
        result.update(f"Calibrated: roller axis = sensor ({axis}). {MARK_IT} "
                      "[b]Esc[/] to go back.")
