"""A real Home Assistant (2026.2, its own venv: ``tests/homeassistant_env.py``) against a real
mosquitto and the real ``roller gateway --sim``, driven through Home Assistant's own API as
its UI drives it. Skipped where Home Assistant is not installed (``make test-homeassistant``).

What Home Assistant saw is read from its recorder (the history panel's data), so a state it
showed for a moment is not missed between two polls. Every roller setting is the shipped one;
only the simulated household's habits (how long it sleeps and rolls) and speed are chosen."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.broker import Broker, Subscriber
from tests.homeassistant import COUNTER, HomeAssistant
from tests.processes import running, stopped
from tests.test_gateway import rows
from tests.test_homeassistant import announced
from tracker.core import clock

FIRST, SECOND = "c0ffee000101", "c0ffee000102"  # roller gateway --sim's rollers
EVENTS = f"roller/bridge/test/{FIRST}/event"  # the first roller's, as the gateway "test"
#: A household (``--seed``) whose first roller's first use strays into the lumbar band: a
#: caution, then an alert, about 130 s into 200 s of rolling.
STRAYS = ("--seed", "5", "--sim-rolling", "200", "200")
RUNNING_UNTIL = ("session_active", "lumbar_contact", "lumbar_caution")


def entity(component: str, name: str, device: str = FIRST) -> str:
    return f"{component}.roller_{device}_{name}"


@contextmanager
def gateway(tmp_path: Path, broker: Broker, *args: str) -> Iterator[subprocess.Popen[str]]:
    with running(tmp_path, "--db", str(tmp_path / "r.db"), "gateway", *args,
                 env=broker.env()) as proc:
        yield proc


def unavailable(hass: HomeAssistant, *entity_ids: str) -> dict[str, str]:
    """Those of ``entity_ids`` Home Assistant lacks or holds unavailable, and why."""
    states = hass.states()
    return {e: states[e]["state"] if e in states else "missing" for e in entity_ids
            if e not in states or states[e]["state"] == "unavailable"}


def available(hass: HomeAssistant, *entity_ids: str) -> bool:
    return not unavailable(hass, *entity_ids)


def problems(hass: HomeAssistant) -> list[str]:
    """Home Assistant's warnings and errors about MQTT or a roller."""
    return [line for line in hass.log().splitlines()
            if (" WARNING " in line or " ERROR " in line)
            and ("mqtt" in line.lower() or "roller" in line.lower())]


def wall() -> datetime:
    """Home Assistant's clock (the wall clock) for its history: not the suite's."""
    return datetime.now(UTC)


def test_discovery_every_entity_available_and_nothing_logged(
        homeassistant: HomeAssistant, broker: Broker, tmp_path: Path) -> None:
    hass = homeassistant
    ours = announced(FIRST)
    with gateway(tmp_path, broker, "--sim", "1", "--speed", "10", "--sim-asleep", "0", "1",
                 "--sim-rolling", "30", "30", "--sim-sessions", "1") as proc:
        hass.wait(lambda: available(hass, *ours), 60, "the roller's entities, available",
                  lambda: unavailable(hass, *ours))
        states = hass.states()
        people = [e for e in states if e.startswith("sensor.roller_person_")]
        hass.wait(lambda: available(hass, *people), 10, "the person's entities, available")
        bridge = [e for e in states if "roller_bridge_test" in e]
        log = stopped(proc)
    assert len(people) >= 5, sorted(states)
    assert bridge and states["binary_sensor.roller_bridge_test_connection_state"]["state"] \
        == "on", bridge
    assert states[entity("binary_sensor", "lumbar_contact")]["state"] == "off"
    assert not problems(hass), "\n".join(problems(hass)) + log


def test_a_session_as_home_assistant_saw_it(homeassistant: HomeAssistant, broker: Broker,
                                            tmp_path: Path) -> None:
    """A new roller's first session: active on then off, the caution and the alert, and
    every event the gateway sent, in order, the first ``session_started`` among them."""
    hass, db = homeassistant, tmp_path / "r.db"
    sub = Subscriber(broker.port, EVENTS, output_format="%p", client_id=None)
    since = wall()
    with gateway(tmp_path, broker, "--sim", "1", "--speed", "10", "--sim-asleep", "3", "3",
                 *STRAYS, "--sim-sessions", "1") as proc:
        hass.wait(lambda: bool(rows(db, "SELECT id FROM sessions WHERE status = 'complete'")),
                  120, "the session, ended")
        time.sleep(1.0)
        log = stopped(proc)
    sent = [json.loads(line)["event_type"] for line in sub.stop_text().splitlines()]
    watched = [entity("binary_sensor", name) for name in RUNNING_UNTIL]
    event = entity("event", "session_event")
    seen = hass.history([*watched, event], since)
    shown = {e: [s["state"] for s in seen[e] if s["state"] not in ("unavailable", "unknown")]
             for e in watched}  # (unavailable before it was announced and once it stopped)
    for e in watched:
        assert "on" in shown[e] and shown[e][-1] == "off", (e, shown[e], log)
    active = shown[entity("binary_sensor", "session_active")]
    assert active.index("on") < len(active) - 1, active  # on, then off
    heard = [s["attributes"].get("event_type") for s in seen[event]
             if s["state"] not in ("unavailable", "unknown")]
    assert sent[0] == "session_started" and "lumbar_contact_alert" in sent, sent
    assert heard == sent, (heard, sent)
    assert not problems(hass), "\n".join(problems(hass))


def test_after_kill_9_and_a_restart_nothing_stale_shows(
        homeassistant: HomeAssistant, broker: Broker, tmp_path: Path) -> None:
    """Killed mid-session (ideally mid-alert), restarted with both rollers asleep: Home
    Assistant shows no session, no contact, no caution at any moment after the restart."""
    hass = homeassistant
    watched = [entity("binary_sensor", name, device) for device in (FIRST, SECOND)
               for name in RUNNING_UNTIL]
    contact = entity("binary_sensor", "lumbar_contact")
    with gateway(tmp_path, broker, "--sim", "2", "--speed", "5", "--sim-asleep", "0", "1",
                 *STRAYS) as proc:
        hass.wait(lambda: all(hass.shown(entity("binary_sensor", "session_active", d)) == "on"
                              for d in (FIRST, SECOND)), 60,
                  "both sessions active in Home Assistant")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the alert on, if it comes in time
            if hass.shown(contact) == "on":
                break
            time.sleep(0.1)
        at_kill = {e: hass.shown(e) for e in watched}
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
    assert at_kill[entity("binary_sensor", "session_active")] == "on", at_kill
    assert "on" in (at_kill[contact], at_kill[entity("binary_sensor", "lumbar_caution")]), at_kill
    hass.wait(lambda: all(hass.shown(e) == "unavailable" for e in watched),
              30, "the last will: everything unavailable")
    restarted = wall()
    polled: list[dict[str, Any]] = []
    with gateway(tmp_path, broker, "--sim", "2", "--sim-asleep", "3600", "3600") as proc:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            states = hass.states()
            polled.append({e: states[e]["state"] for e in watched})
            if all(p not in ("unavailable",) for p in polled[-1].values()) and len(polled) > 20:
                break
            time.sleep(0.05)
        time.sleep(1.0)
        log = stopped(proc)
    assert all(v == "off" for v in polled[-1].values()), (polled[-1], log)
    stale = [p for p in polled if "on" in p.values()]
    assert not stale, stale[0]
    seen = hass.history(watched, restarted)
    shown = {e: [s["state"] for s in seen[e]] for e in watched}
    assert not any("on" in states for states in shown.values()), (at_kill, shown)


def choose(options: list[str], routine: str) -> str:
    """The select's option for a routine, as it is shown (a routine or a person's word)."""
    (option,) = [o for o in options
                 if o.lower().replace(" ", "_") == routine or o == routine]
    return option


def test_the_ui_s_service_calls_reach_the_gateway(homeassistant: HomeAssistant,
                                                   broker: Broker, tmp_path: Path) -> None:
    """The routine select, the override switch and the end button, each as the UI calls it."""
    hass, db = homeassistant, tmp_path / "r.db"
    routine, override = entity("select", "next_routine"), entity("switch", "glute_override")
    active = entity("binary_sensor", "session_active")
    # Once, so that the store knows the roller and announces it while it sleeps.
    with gateway(tmp_path, broker, "--sim", "1", "--speed", "10", "--sim-asleep", "0", "0",
                 "--sim-rolling", "30", "30", "--sim-sessions", "1") as proc:
        hass.wait(lambda: available(hass, routine), 60, "the roller, known")
        stopped(proc)
    # Home Assistant has taken the last word in before the next gateway is there: else the
    # roller still shows available from the first, and the call below goes to nobody.
    hass.wait(lambda: hass.shown(routine) == "unavailable", 30, "the roller, gone with it")
    known = len(rows(db, "SELECT id FROM sessions"))
    with gateway(tmp_path, broker, "--sim", "1", "--speed", "10", "--sim-asleep", "200", "200",
                 "--sim-rolling", "200", "200", "--sim-sessions", "1") as proc:
        hass.wait(lambda: available(hass, routine, override), 30, "the entities, asleep")
        options = (hass.state(routine) or {})["attributes"]["options"]
        glutes = choose(options, "glutes")
        hass.call("select", "select_option", entity_id=routine, option=glutes)
        hass.wait(lambda: hass.shown(routine) == glutes,
                  10, "the routine, said back by the gateway")
        hass.call("switch", "turn_on", entity_id=override)
        hass.wait(lambda: hass.shown(override) == "on",
                  10, "the override, said back by the gateway")
        hass.wait(lambda: hass.shown(active) == "on",
                  60, "the session, started")
        hass.call("button", "press", entity_id=entity("button", "end_session"))
        hass.wait(lambda: hass.shown(active) == "off",
                  15, "the session, ended from Home Assistant")
        log = stopped(proc)
    session = rows(db, f"SELECT routine, end_reason FROM sessions WHERE id > {known}")
    assert [tuple(r) for r in session] == [("glutes", "stopped")], log
    assert "ignored a command" not in log, log
    assert not problems(hass), "\n".join(problems(hass))


@pytest.mark.skipif(bool(os.environ.get(clock.ENV)),
                    reason="the automation compares with Home Assistant's wall clock")
def test_the_example_automation_acts_once_per_alert_and_not_after_a_restart(
        homeassistant: HomeAssistant, broker: Broker, tmp_path: Path) -> None:
    """The shipped alert automation, loaded into Home Assistant as shipped (its runs counted):
    once for each alert; killed and restarted, the gateway's return (the event entity
    back from unavailable, its last event restored; the interrupted session's end) runs
    it never."""
    hass = homeassistant
    sub = Subscriber(broker.port, EVENTS, output_format="%p", client_id=None)
    event = entity("event", "session_event")
    with gateway(tmp_path, broker, "--sim", "1", "--speed", "5", "--sim-asleep", "3", "3",
                 *STRAYS, "--sim-sessions", "1") as proc:
        hass.wait(lambda: float(hass.shown(COUNTER)) >= 1,
                  120, "the automation, acting on the alert")
        time.sleep(1.0)  # mid-session still: the crash cuts it short
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
    sent = [json.loads(line) for line in sub.stop_text().splitlines()]
    alerts = [e for e in sent if e["event_type"] == "lumbar_contact_alert"]
    assert float(hass.shown(COUNTER)) == len(alerts) >= 1, sent
    hass.wait(lambda: hass.shown(event) == "unavailable",
              30, "the last will")
    sub = Subscriber(broker.port, EVENTS, output_format="%p", client_id=None)
    with gateway(tmp_path, broker, "--sim", "1", "--sim-asleep", "3600", "3600") as proc:
        hass.wait(lambda: hass.shown(event) != "unavailable",
                  30, "the event entity, back")
        time.sleep(3.0)
        log = stopped(proc)
    after = [json.loads(line)["event_type"] for line in sub.stop_text().splitlines()]
    assert float(hass.shown(COUNTER)) == len(alerts), after
    assert "session_ended" in after, (after, log)  # the interrupted session ends somewhere


@pytest.mark.skipif(bool(os.environ.get(clock.ENV)),
                    reason="the automation compares with Home Assistant's wall clock")
def test_the_example_automation_never_acts_on_an_alert_that_waited_for_the_broker(
        homeassistant: HomeAssistant, broker: Broker, tmp_path: Path) -> None:
    """The broker goes away as the session starts and comes back after it: the alert waited
    in the outbox and arrives ``replayed``. Home Assistant gets it; the automation lets it be."""
    hass, db = homeassistant, tmp_path / "r.db"
    event = entity("event", "session_event")
    since = wall()
    with gateway(tmp_path, broker, "--sim", "1", "--speed", "10", "--sim-asleep", "3", "3",
                 *STRAYS, "--sim-sessions", "1") as proc:
        hass.wait(lambda: hass.shown(entity("binary_sensor", "session_active")) == "on", 60,
                  "the session, started")
        broker.stop()
        hass.wait(lambda: bool(rows(db, "SELECT id FROM sessions WHERE status = 'complete' "
                                        "AND lumbar_events > 0")), 120,
                  "the session with its alert, ended while the broker was away",
                  lambda: [dict(r) for r in rows(db, "SELECT * FROM sessions")])
        broker.start()

        def alerts() -> list[dict[str, Any]]:
            return [s["attributes"] for s in hass.history([event], since)[event]
                    if s["attributes"].get("event_type") == "lumbar_contact_alert"]

        hass.wait(lambda: bool(alerts()), 60, "the alert, at last in Home Assistant")
        time.sleep(1.0)
        log = stopped(proc)
    assert all(a["replayed"] for a in alerts()), alerts()
    assert float(hass.shown(COUNTER)) == 0, (alerts(), log)


def test_home_assistant_shows_roller_by_its_conventions(
        homeassistant: HomeAssistant, broker: Broker, tmp_path: Path) -> None:
    """What a Home Assistant user reads, as Home Assistant itself holds it: weekly totals
    as totals reset each week, durations in minutes, states in words, two rollers told
    apart by name, no person called "me", each roller's signal and last seen, and the
    bridge's pairing button."""
    hass = homeassistant
    with gateway(tmp_path, broker, "--sim", "2", "--speed", "10", "--sim-asleep", "0", "1",
                 "--sim-rolling", "30", "30", "--sim-sessions", "1") as proc:
        ours = announced(FIRST) | announced(SECOND)
        hass.wait(lambda: available(hass, *ours), 90, "both rollers' entities, available",
                  lambda: unavailable(hass, *ours))
        states = hass.states()
        summed, averaged = hass.statistic_ids("sum"), hass.statistic_ids("mean")
        stopped(proc)
    attributes = {e: s["attributes"] for e, s in states.items()}
    weekly = [e for e in states if e.endswith(("_rolling_time_week", "_lumbar_contacts_week"))]
    assert weekly and all(attributes[e].get("state_class") == "total"
                          and attributes[e].get("last_reset") for e in weekly), weekly
    assert all(e in summed and e not in averaged for e in weekly), (sorted(summed), weekly)
    minutes = [e for e in states if e.endswith(("_rolling_time_week", "_last_session_duration"))]
    assert minutes and all(attributes[e].get("unit_of_measurement") == "min"
                           and attributes[e].get("device_class") == "duration"
                           for e in minutes), minutes
    assert "state_class" not in attributes[entity("sensor", "last_session_duration")]
    region = attributes[entity("sensor", "region")]
    assert region.get("device_class") == "enum" and all(
        option[0].isupper() and "_" not in option for option in region["options"]), region
    names = {attributes[entity("sensor", "rssi", device)]["friendly_name"]
             for device in (FIRST, SECOND)}
    assert len(names) == 2, names  # the two rollers, told apart
    assert not [e for e, a in attributes.items() if e.startswith("sensor.roller_person_")
                and str(a.get("friendly_name", "")).lower().startswith("me ")]
    for device in (FIRST, SECOND):
        assert attributes[entity("sensor", "rssi", device)].get("device_class") \
            == "signal_strength"
        assert attributes[entity("sensor", "last_seen", device)].get("device_class") \
            == "timestamp"
    assert any(e.startswith("button.") and e.endswith("_permit_join") for e in states), \
        sorted(e for e in states if e.startswith("button."))


def test_entities_of_0x_move_to_the_bridges_topics_and_stay_the_same_entities(
        homeassistant: HomeAssistant, broker: Broker, tmp_path: Path) -> None:
    """A store and a broker as roller 0.x left them, Home Assistant showing 0.x's entities
    (their topics without the bridge): the gateway, started, moves them under its bridge.
    Each stays the same entity, registry entry and device (so its history, and the name
    and icon given it, stay), shows what the gateway publishes now, and nothing is logged
    about a conflict or a duplicate."""
    from tests.old_topics import leave_0x, retain
    from tracker.store.opening import open_store

    hass, db = homeassistant, tmp_path / "r.db"
    with closing(open_store(db)):
        pass
    retain(broker.port, [*leave_0x(db, ["C0:FF:EE:00:01:01"]),
                         ("roller/bridge/test/state", b"online")])  # as 0.x's gateway ran
    ours, name = announced(FIRST), entity("text", "name")
    hass.wait(lambda: available(hass, *ours) and hass.shown(name) == f"roller {FIRST}", 60,
              "0.x's entities", lambda: unavailable(hass, *ours))
    since = wall()
    region, given = entity("sensor", "region"), {"name": "Where it rolls", "icon": "mdi:map"}
    hass.customize(region, **given)
    before = {e: r for e, r in hass.entity_registry().items() if ".roller_" in e}
    assert len(before) == 20 + 7 + 12, sorted(before)  # a roller's, the bridge's, a person's
    with gateway(tmp_path, broker, "--sim", "1", "--speed", "10", "--sim-asleep", "0", "1",
                 "--sim-rolling", "30", "30", "--sim-sessions", "1") as proc:
        hass.wait(lambda: hass.shown(name) == "roller-sim 01:01" and available(hass, *before),
                  60, "the entities, shown from the bridge's topics",
                  lambda: (hass.shown(name), unavailable(hass, *before)))
        log = stopped(proc)
    after = {e: r for e, r in hass.entity_registry().items() if ".roller_" in e}
    assert after.keys() == before.keys(), sorted(after.keys() ^ before.keys())
    assert all((after[e]["id"], after[e]["device_id"]) == (r["id"], r["device_id"])
               for e, r in before.items()), log
    assert {k: after[region][k] for k in given} == given, after[region]
    shown = [s["state"] for s in hass.history([name], since)[name]]  # one entity's history
    assert "roller-sim 01:01" in shown[shown.index(f"roller {FIRST}"):], shown
    assert "taking back 32 discovery configs" in log, log
    assert not problems(hass), "\n".join(problems(hass))
