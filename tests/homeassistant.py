"""A real Home Assistant beside the tests: ``hass`` as its own process on loopback, set up as
a person does it (onboarding, then the MQTT integration added through its config flow),
and driven through its REST API as the UI drives it (service calls, states).

Its venv is ``tests/homeassistant_env.py``'s; everything here is standard library."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from tests import homeassistant_env
from tests.broker import free_port

#: What the tests load: the API, onboarding and config flows (as the UI), automations and a
#: counter for them to count with, and nothing that reaches out of the machine.
CONFIGURATION = """\
homeassistant:
  name: roller test
  latitude: 52.37
  longitude: 4.89
  elevation: 0
  unit_system: metric
  time_zone: {zone}
  country: NL
  currency: EUR
http:
  server_host: 127.0.0.1
  server_port: {port}
api:
auth:
onboarding:
config:
person:
automation: !include automations.yaml
recorder:  # every state change, at once: what the history shows is what Home Assistant saw
  commit_interval: 0
history:
counter:
  alerts_acted_on:
    name: Lumbar alerts acted on
    initial: 0
    step: 1
logger:
  default: info
"""

CLIENT_ID = "http://127.0.0.1/"
SHIPPED = Path(__file__).parent.parent / "dashboards" / "homeassistant" / "automations.yaml"
COUNTER = "counter.alerts_acted_on"


def shipped_automations(device: str) -> list[dict[str, Any]]:
    """The shipped example automations for the roller ``device``, each as shipped (its
    triggers and conditions) but acting on what is here: the alert counts its runs in
    :data:`COUNTER` instead of flashing a light, the reminder makes a notification."""
    text = SHIPPED.read_text().replace("c0ffee000001", device)
    alert, reminder = yaml.safe_load(text)
    alert["actions"] = [{"action": "counter.increment", "target": {"entity_id": COUNTER}}]
    reminder["actions"] = [{"action": "persistent_notification.create",
                            "data": reminder["actions"][0]["data"]}]
    return [alert, reminder]


class Failed(Exception):
    pass


@dataclass
class HomeAssistant:
    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    token: str = ""
    refresh: str = ""
    started_s: float = 0.0  # seconds from launch to the API answering

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.folder / "home-assistant.log"

    def write_config(self, automations: list[dict[str, Any]] | None = None,
                     zone: str = "UTC") -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "configuration.yaml").write_text(
            CONFIGURATION.format(port=self.port, zone=zone))
        (self.folder / "automations.yaml").write_text(json.dumps(automations or []))

    def start(self, timeout_s: float = 180.0) -> None:
        began = time.monotonic()
        out = (self.folder / "hass.out").open("wb")
        self.process = subprocess.Popen(
            [*homeassistant_env.launcher(), "-c", str(self.folder), "--skip-pip"],
            stdout=out, stderr=subprocess.STDOUT, cwd=self.folder)
        out.close()
        deadline = began + timeout_s
        while True:
            if self.process.poll() is not None:
                raise Failed(f"hass exited {self.process.returncode}: "
                             + (self.folder / "hass.out").read_text()[-2000:])
            try:
                with urllib.request.urlopen(f"{self.url}/api/onboarding", timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise Failed(f"hass did not answer in {timeout_s:.0f} s")
            time.sleep(0.5)
        self.started_s = time.monotonic() - began

    def onboard(self) -> None:
        """The first user, as the onboarding page creates it; its tokens."""
        answer = self._raw("POST", "/api/onboarding/users", {
            "client_id": CLIENT_ID, "name": "Test", "username": "test",
            "password": "test-password-1", "language": "en"}, auth=False)
        self._grant({"grant_type": "authorization_code", "code": answer["auth_code"],
                     "client_id": CLIENT_ID})

    def _grant(self, form: dict[str, str]) -> None:
        request = urllib.request.Request(f"{self.url}/auth/token",
                                         data=urllib.parse.urlencode(form).encode())
        with urllib.request.urlopen(request, timeout=10) as r:
            tokens = json.load(r)
        self.token = tokens["access_token"]
        self.refresh = tokens.get("refresh_token", self.refresh)

    def _raw(self, method: str, path: str, body: Any = None, auth: bool = True,
             timeout_s: float = 30.0) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        for attempt in range(2):
            request = urllib.request.Request(f"{self.url}{path}", data=data, method=method,
                                             headers={"Content-Type": "application/json"})
            if auth:
                request.add_header("Authorization", f"Bearer {self.token}")
            try:
                with urllib.request.urlopen(request, timeout=timeout_s) as r:
                    text = r.read().decode()
                    return json.loads(text) if text else None
            except urllib.error.HTTPError as error:
                if error.code == 401 and auth and attempt == 0 and self.refresh:
                    self._grant({"grant_type": "refresh_token",
                                 "refresh_token": self.refresh, "client_id": CLIENT_ID})
                    continue
                raise Failed(f"{method} {path}: {error.code} {error.read().decode()}"
                             ) from error
        raise AssertionError("unreachable")

    def add_mqtt(self, broker_port: int) -> dict[str, Any]:
        """Settings > Devices & services > Add integration > MQTT: the broker's address."""
        flow = self._raw("POST", "/api/config/config_entries/flow",
                         {"handler": "mqtt", "show_advanced_options": False})
        result = self._raw("POST", f"/api/config/config_entries/flow/{flow['flow_id']}",
                           {"broker": "127.0.0.1", "port": broker_port})
        if result.get("type") != "create_entry":
            raise Failed(f"the MQTT config flow did not create an entry: {result}")
        entry: dict[str, Any] = result["result"]
        self.wait(lambda: self.entry_state(entry["entry_id"]) == "loaded", 30,
                  "the MQTT entry loaded")
        return entry

    def entry_state(self, entry_id: str) -> str | None:
        for entry in self._raw("GET", "/api/config/config_entries/entry"):
            if entry["entry_id"] == entry_id:
                return str(entry["state"])
        return None

    def states(self) -> dict[str, dict[str, Any]]:
        return {s["entity_id"]: s for s in self._raw("GET", "/api/states")}

    def state(self, entity_id: str) -> dict[str, Any] | None:
        try:
            answer: dict[str, Any] = self._raw("GET", f"/api/states/{entity_id}")
            return answer
        except Failed as error:
            if ": 404 " in str(error):
                return None
            raise

    def history(self, entity_ids: list[str], since: datetime
                ) -> dict[str, list[dict[str, Any]]]:
        """Every state each entity had from ``since`` on, with attributes, as the history
        panel shows them (the recorder, committing each change)."""
        start = urllib.parse.quote(since.astimezone(UTC).isoformat())
        query = urllib.parse.urlencode({"filter_entity_id": ",".join(entity_ids),
                                        "significant_changes_only": "0"})
        answer = self._raw("GET", f"/api/history/period/{start}?{query}")
        found = {entity_id: [] for entity_id in entity_ids}
        for states in answer:
            if states:
                found[states[0]["entity_id"]] = states
        return found

    def _ask(self, command: dict[str, Any]) -> Any:
        """One command over the websocket, as the UI's panels ask what the REST API does
        not say; its result."""
        from websockets.sync.client import connect  # bumble's: the simulator's GATT server

        with connect(self.url.replace("http", "ws", 1) + "/api/websocket",
                     max_size=None) as ws:
            json.loads(ws.recv())  # auth_required
            ws.send(json.dumps({"type": "auth", "access_token": self.token}))
            if json.loads(ws.recv()).get("type") != "auth_ok":
                raise Failed("the websocket refused our token")
            ws.send(json.dumps({"id": 1, **command}))
            answer = json.loads(ws.recv())
        if not answer.get("success"):
            raise Failed(f"{command['type']}: {answer}")
        return answer["result"]

    def statistic_ids(self, statistic_type: str) -> dict[str, dict[str, Any]]:
        """What the recorder will keep long-term statistics of (``"sum"``: totals summed,
        ``"mean"``: measurements averaged), as the statistics panel asks: a sensor's state
        class decides which, before any statistics are compiled."""
        return {s["statistic_id"]: s for s in self._ask(
            {"type": "recorder/list_statistic_ids", "statistic_type": statistic_type})}

    def customize(self, entity_id: str, **settings: Any) -> None:
        """An entity's settings changed as its dialog changes them (its name, its icon)."""
        self._ask({"type": "config/entity_registry/update", "entity_id": entity_id,
                   **settings})

    def entity_registry(self) -> dict[str, dict[str, Any]]:
        """Every entity Home Assistant has registered, by entity id: its registry entry's
        own id and its device's, which a user's area, name and icon hang on."""
        return {e["entity_id"]: e for e in self._ask({"type": "config/entity_registry/list"})}

    def shown(self, entity_id: str) -> str:
        """What the entity shows now: its state, ``unavailable``, or ``missing``."""
        state = self.state(entity_id)
        return str(state["state"]) if state else "missing"

    def call(self, domain: str, service: str, **data: Any) -> Any:
        """A service call, as a card's tap or a dialog's control makes it."""
        return self._raw("POST", f"/api/services/{domain}/{service}", data)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @staticmethod
    def wait(condition: Any, timeout_s: float, what: str, detail: Any = None) -> None:
        """Until ``condition()``; else fail, saying ``what`` and ``detail()``."""
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline:
                raise Failed(f"timed out waiting for {what}"
                             + (f": {detail()}" if detail else ""))
            time.sleep(0.25)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None
