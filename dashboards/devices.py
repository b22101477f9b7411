"""The Devices screen: scan, pair, forget, calibrate, or use the simulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Header, Label

from tracker.core import clock
from tracker.core.errors import RollerError
from tracker.core.limits import visible
from tracker.devices import PROFILES
from tracker.devices.ble import Seen, scan
from tracker.live.radio import radio
from tracker.store.database import Store


class DevicesScreen(Screen[None]):
    def __init__(self, store: Store, scanner_backend: Callable[[], Any],
                 battery: Callable[[str], int | None]) -> None:
        super().__init__(id="devices")
        self.store, self.scanner_backend, self.battery = store, scanner_backend, battery
        self.found: list[Seen] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="rollers", cursor_type="row")
        yield Label("", id="devices-status")
        with Horizontal(id="device-actions"):
            yield Button("Scan", id="scan", variant="primary")
            yield Button("Pair", id="pair")
            yield Button("Calibrate", id="calibrate")
            yield Button("Forget", id="forget", variant="error")
            yield Button("Use the simulator", id="simulator")
        yield Footer()

    def on_screen_resume(self) -> None:
        self.show()

    def show(self) -> None:
        table = self.query_one(DataTable)
        table.clear(columns=True)
        table.add_columns("", "name", "address", "kind", "calibrated", "signal", "battery")
        paired = self.store.devices.paired()
        rows = {r.address: r for r in self.found}
        calibrated = {}
        for known in self.store.devices.all():
            rows.setdefault(known["address"], Seen(known["address"], known["name"] or "", 0,
                                                   PROFILES[known["profile"]]))
            calibrated[known["address"]] = (known["calibrated_at"] or "")[:10]
        for address, seen in rows.items():
            battery = self.battery(address)
            needed = "-" if seen.profile.axes_known else "needed"
            table.add_row("paired" if address == paired else "", Text(visible(seen.name)), address,
                          seen.profile.label, calibrated.get(address) or needed,
                          f"{seen.rssi} dBm" if seen.rssi else "-",
                          f"{battery} %" if battery is not None else "-", key=address)

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        status = self.query_one("#devices-status", Label)
        if event.button.id == "scan":
            status.update("scanning ...")
            try:
                async with radio(self.app.settings.proxies,  # type: ignore[attr-defined]
                                 (self.scanner_backend(), None)) as air:
                    self.found = await scan(3.0, air.scanner_backend)
            except RollerError as exc:
                status.update(Content(str(exc)))  # "[org.bluez.Error...]" is no markup
                return
            status.update(f"{len(self.found)} roller(s) in range")
        elif event.button.id == "calibrate":
            self.app.action_calibrate()  # type: ignore[attr-defined]
            return
        elif event.button.id == "simulator":
            self.app.use_simulator()  # type: ignore[attr-defined]
            status.update("the next session uses the simulated roller")
            return
        else:
            table = self.query_one(DataTable)
            if table.row_count == 0:
                status.update("scan first")
                return
            address = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
            if event.button.id == "pair":
                seen = next((r for r in self.found if r.address == address), None)
                self.store.devices.pair(address, seen.name if seen else "roller", clock.now(),
                                        seen.profile.name if seen else "roller")
                status.update(f"paired {address}")
            else:
                self.store.devices.forget(address)
                status.update(f"forgot {address}")
        self.show()
