"""The MQTT bridge against a real mosquitto, checked by an independent subscriber."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Callable
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.broker import Broker, Subscriber, retained
from tests.suite_clock import passed_on, stamped
from tracker.core import clock

Run = Callable[..., subprocess.CompletedProcess[str]]

# Keys and value types Home Assistant documents for MQTT discovery of each component
# (https://www.home-assistant.io/integrations/binary_sensor.mqtt/, sensor.mqtt, event.mqtt,
# and the shared device/origin blocks). A misspelt key fails the test.
# (and select.mqtt, switch.mqtt, button.mqtt, text.mqtt, number.mqtt for the commands).
COMMON = {"name": str, "unique_id": str, "default_entity_id": str, "device": dict,
          "origin": dict, "qos": int, "state_topic": str, "availability_topic": str,
          "availability": list, "availability_mode": str, "icon": str,
          "entity_category": str, "device_class": str, "value_template": str}
DOCUMENTED = {
    "binary_sensor": COMMON | {"payload_on": str, "payload_off": str},
    "sensor": COMMON | {"unit_of_measurement": str, "state_class": str, "options": list,
                        "last_reset_value_template": str,
                        "suggested_display_precision": int},
    "event": COMMON | {"event_types": list},
    "select": COMMON | {"command_topic": str, "command_template": str, "options": list},
    "switch": COMMON | {"command_topic": str, "payload_on": str, "payload_off": str},
    "button": COMMON | {"command_topic": str, "payload_press": str},
    "text": COMMON | {"command_topic": str, "min": int, "max": int},
    "number": COMMON | {"command_topic": str, "command_template": str, "min": int,
                        "max": int, "step": int, "mode": str},
}
DEVICE = {"identifiers": list, "name": str, "manufacturer": str, "model": str,
          "sw_version": str, "connections": list, "via_device": str}
ORIGIN = {"name": str, "sw_version": str, "support_url": str}
ENTITIES = 20  # a roller's
BRIDGE_ENTITIES = 7
PERSON_ENTITIES = 12  # each person's


def events(received: list[tuple[str, str]]) -> list[dict[str, object]]:
    return [json.loads(payload) for topic, payload in received if topic.endswith("/event")]


def test_a_simulated_session_end_to_end(roller: Run, broker: Broker, tmp_path: Path) -> None:
    sub = Subscriber(broker.port, "roller/#", "homeassistant/#")
    result = roller("--db", str(tmp_path / "r.db"), "track", "--sim", "--speed", "20",
                    "--seconds", "40", "--scenario", "stray", "--seed", "17", env=broker.env())
    assert result.returncode == 0, result.stderr
    received = sub.stop()
    kinds = [e["event_type"] for e in events(received)]
    assert kinds[0] == "session_started" and kinds[-1] == "session_ended"
    assert "lumbar_contact_alert" in kinds
    # A caution comes before each alert, and both say where and how surely.
    assert kinds.index("lumbar_caution") < kinds.index("lumbar_contact_alert")
    for event in events(received):
        if event["event_type"] in {"lumbar_caution", "lumbar_contact_alert"}:
            assert event["s_sd_cm"] >= 2.5 and event["s_cm"] > 0
    assert any(json.loads(p)["lumbar_caution"] for t, p in received
               if t.endswith("/state") and t.startswith("roller/bridge/test/c0"))
    ids = [e["event_id"] for e in events(received)]
    assert len(ids) == len(set(ids)) and ids == sorted(ids)  # UUIDv7: unique and ordered
    configs = [(t, json.loads(p)) for t, p in received if t.startswith("homeassistant/")]
    assert len(configs) == ENTITIES + BRIDGE_ENTITIES + PERSON_ENTITIES, \
        "\n".join(t for t, _ in received)
    for topic, config in configs:
        component = topic.split("/")[1]
        for key, value in config.items():
            assert key in DOCUMENTED[component], f"{topic}: {key} is not a documented key"
            assert isinstance(value, DOCUMENTED[component][key]), f"{topic}: {key}"
        assert set(config["device"]) <= set(DEVICE) and set(config["origin"]) == set(ORIGIN)
        assert all(isinstance(v, DEVICE[k]) for k, v in config["device"].items())
        if "roller_bridge_test" not in topic and "roller_person_" not in topic:
            # a roller: gated on the bridge and itself
            assert set(config["device"]) == set(DEVICE)
            assert config["availability_mode"] == "all" and config["availability"][0] == {
                "topic": "roller/bridge/test/state"}
        assert "object_id" not in config
    states = [json.loads(p) for t, p in received if t.endswith("/state") and
              t.startswith("roller/bridge/test/c0")]
    assert states[-1]["session_active"] is False and states[-1]["last_session_strokes"] > 0
    assert set(states[0]) == set(states[-1])  # every key always present
    assert received[-1] == ("roller/bridge/test/state", "offline")
    (person,) = [json.loads(p) for t, p in received
                 if t.startswith("roller/bridge/test/person/")][-1:]
    assert person["name"] == "me" and person["sessions_this_week"] == 1


def test_events_queued_while_offline_go_out_later_marked_replayed(
    roller: Run, broker: Broker, tmp_path: Path
) -> None:
    db = str(tmp_path / "r.db")
    broker.stop()  # the broker is away during the session
    result = roller("--db", db, "track", "--sim", "--speed", "40", "--seconds", "20",
                    env=broker.env())
    assert result.returncode == 0, result.stderr  # MQTT away never stops tracking
    broker.start()
    sub = Subscriber(broker.port, "roller/bridge/+/+/event")
    status = roller("--db", db, "mqtt", "status", env=broker.env())
    assert status.returncode == 0, status.stderr
    got = events(sub.stop())
    kinds = [e["event_type"] for e in got]
    assert kinds[0] == "session_started" and kinds[-1] == "session_ended"
    assert all(e["replayed"] is True for e in got)
    again = roller("--db", db, "mqtt", "status", env=broker.env())
    assert "0 events sent, 0 queued" in again.stdout  # each went out once


def test_events_wait_for_home_assistant_only_while_an_entity_is_new_to_it(
        roller: Run, broker: Broker, tmp_path: Path) -> None:
    """A new roller's first events wait until Home Assistant listens to its new entities
    (SETTLE_S after their configs); its next session announces the same entities again and
    sends at once: a lumbar alert in its first second waits for nothing."""
    from tracker.mqtt.discovery import SETTLE_S

    sub = Subscriber(broker.port, "roller/bridge/+/+/event", "homeassistant/+/test/+/config",
                     output_format="%U %t", client_id=None)
    for _ in range(2):
        done = roller("--db", str(tmp_path / "r.db"), "track", "--sim", "--speed", "20",
                      "--seconds", "15", "--scenario", "clean", env=broker.env())
        assert done.returncode == 0, done.stderr
    received = [(float(at), topic) for at, topic in
                (line.split(" ") for line in sub.stop_text().splitlines())]
    waits = []  # from a session's last config to its first event
    configured: float | None = None
    for at, topic in received:
        if "/roller_c0ffee000001_" in topic:  # the roller's config, not the bridge's
            configured = at
        elif topic.endswith("/event") and configured is not None:
            waits.append(at - configured)
            configured = None
    assert len(waits) == 2 and waits[0] >= SETTLE_S - 0.1 and waits[1] < SETTLE_S / 2, waits


def test_wrong_password_is_one_line(roller: Run, broker: Broker, tmp_path: Path) -> None:
    env = broker.env(ROLLER_MQTT_PORT=str(broker.auth_port), ROLLER_MQTT_USERNAME="roller",
                     ROLLER_MQTT_PASSWORD="wrong")
    result = roller("--db", str(tmp_path / "r.db"), "mqtt", "status", env=env)
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "refused the credentials" in result.stderr
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    env |= {"ROLLER_MQTT_PASSWORD": "", "ROLLER_MQTT_PASSWORD_FILE": str(secret)}
    ok = roller("--db", str(tmp_path / "r.db"), "mqtt", "status", env=env)
    assert ok.returncode == 0 and "auth user roller" in ok.stdout


def test_tls_needs_the_right_ca(roller: Run, broker: Broker, tmp_path: Path) -> None:
    base = broker.env(ROLLER_MQTT_PORT=str(broker.tls_port))
    wrong = roller("--db", str(tmp_path / "r.db"), "mqtt", "status",
                   env=base | {"ROLLER_MQTT_CA_FILE": str(broker.certificates["other_ca"])})
    assert wrong.returncode == 1 and "TLS" in wrong.stderr
    assert len(wrong.stderr.strip().splitlines()) == 1
    right = roller("--db", str(tmp_path / "r.db"), "mqtt", "status",
                   env=base | {"ROLLER_MQTT_CA_FILE": str(broker.certificates["ca"])})
    assert right.returncode == 0, right.stderr and "TLS on" in right.stdout


def test_purge_leaves_no_retained_config(roller: Run, broker: Broker, tmp_path: Path) -> None:
    db = str(tmp_path / "r.db")
    assert roller("--db", db, "pair", "--sim", "--timeout", "0.5").returncode == 0
    assert roller("--db", db, "mqtt", "discovery", env=broker.env()).returncode == 0
    purged = roller("--db", db, "mqtt", "purge", env=broker.env())
    assert f"cleared {ENTITIES + PERSON_ENTITIES}" in purged.stdout  # and the person's
    sub = Subscriber(broker.port, "homeassistant/#")
    assert sub.stop() == []  # nothing retained is left


def test_mqtt_off_says_how_to_turn_it_on(roller: Run, tmp_path: Path) -> None:
    result = roller("--db", str(tmp_path / "r.db"), "mqtt", "status")
    assert result.returncode == 2 and "ROLLER_MQTT_HOST" in result.stderr


@pytest.mark.parametrize("protocol", ["5"])
def test_mqtt_5(roller: Run, broker: Broker, tmp_path: Path, protocol: str) -> None:
    result = roller("--db", str(tmp_path / "r.db"), "mqtt", "status",
                    env=broker.env(ROLLER_MQTT_PROTOCOL=protocol))
    assert result.returncode == 0 and "MQTT 5" in result.stdout


@pytest.mark.parametrize("births", [1, 30])
def test_home_assistant_restart_gets_discovery_again_once(broker: Broker, tmp_path: Path,
                                                         births: int) -> None:
    """A flood of birth messages (a flapping Home Assistant) is answered once, not once each."""
    import sys
    import time

    sub = Subscriber(broker.port, "homeassistant/+/+/+/config")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracker", "--db", str(tmp_path / "r.db"), "track", "--sim",
         "--seconds", "14", "--scenario", "clean"],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **passed_on(), **broker.env()},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(3.0)
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-t",
                    "homeassistant/status", "-l"], input="online\n" * births, text=True,
                   check=True)
    time.sleep(6.0)  # 1-5 s of random delay, then discovery again
    configs = sub.stop()
    proc.communicate(timeout=30)
    assert len(configs) == 2 * (ENTITIES + BRIDGE_ENTITIES + PERSON_ENTITIES)


def test_broker_restart_mid_session_loses_nothing(broker: Broker, tmp_path: Path) -> None:
    import sys
    import time

    sub = Subscriber(broker.port, "roller/bridge/+/+/event")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracker", "--db", str(tmp_path / "r.db"), "track", "--sim",
         "--speed", "3", "--seconds", "60", "--scenario", "stray"],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **passed_on(), **broker.env()},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(4.0)
    broker.restart()
    proc.communicate(timeout=60)
    time.sleep(1.0)
    got = events(sub.stop())
    from tracker.store.opening import open_store

    store = open_store(tmp_path / "r.db")
    queued = [json.loads(r["payload"])["event_id"] for r in
              store.db.query("SELECT payload FROM outbox ORDER BY id")]
    assert store.outbox.count() == 0
    unique = list(dict.fromkeys(e["event_id"] for e in got))
    assert unique == queued  # all of them, in order; repeats only of the same event_id


def test_forget_clears_the_rollers_entities(roller: Run, broker: Broker, tmp_path: Path) -> None:
    db = str(tmp_path / "r.db")
    assert roller("--db", db, "pair", "--sim", "--timeout", "0.5").returncode == 0
    assert roller("--db", db, "mqtt", "discovery", env=broker.env()).returncode == 0
    forgot = roller("--db", db, "devices", "forget", "C0:FF:EE:00:00:01", env=broker.env())
    assert forgot.returncode == 0 and f"cleared {ENTITIES}" in forgot.stdout
    left = [t for t, _ in Subscriber(broker.port, "homeassistant/#").stop()]
    assert left and all("/roller_person_" in t for t in left)  # the people stay


def test_killed_with_events_queued_they_go_out_on_the_next_start(
    roller: Run, broker: Broker, tmp_path: Path
) -> None:
    import signal
    import sys
    import time

    db = tmp_path / "r.db"
    broker.stop()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracker", "--db", str(db), "track", "--sim", "--seconds", "60"],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **passed_on(), **broker.env()},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(4.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    broker.start()
    sub = Subscriber(broker.port, "roller/bridge/+/+/event")
    assert roller("--db", str(db), "mqtt", "status", env=broker.env()).returncode == 0
    got = events(sub.stop())
    assert got and got[0]["event_type"] == "session_started" and got[0]["replayed"] is True


def test_unknown_host_is_one_line(roller: Run, tmp_path: Path) -> None:
    result = roller("--db", str(tmp_path / "r.db"), "mqtt", "status",
                    env={"ROLLER_MQTT_HOST": "no-such-host.invalid"})
    assert result.returncode == 1 and "is unknown" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_refused_glute_session_is_said_on_the_rollers_topic_at_once(
        roller: Run, broker: Broker, tmp_path: Path) -> None:
    db = str(tmp_path / "r.db")
    glutes = tmp_path / "g.csv"
    assert roller("simulate", "--routine", "glutes", "--seconds", "120",
                  "-o", str(glutes)).returncode == 0
    assert roller("--db", db, "import", str(stamped(glutes))).returncode == 0  # glutes done
    sub = Subscriber(broker.port, "roller/bridge/+/+/event")
    refused = roller("--db", db, "track", "--sim", "--routine", "glutes", env=broker.env())
    assert refused.returncode == 2 and "glute session refused" in refused.stderr
    got = [(t, json.loads(p)) for t, p in sub.stop()]
    refusals = [(t, e) for t, e in got if e["event_type"] == "schedule_refused"]
    assert [t for t, _ in refusals] == ["roller/bridge/test/c0ffee000001/event"]
    assert refusals[0][1]["replayed"] is False


def test_glutes_asked_for_mid_session_on_a_refused_day_are_refused_and_said(
        roller: Run, broker: Broker, tmp_path: Path, glutes_file: Path) -> None:
    """Home Assistant's area select is held to the schedule, as a start is; and a program
    that opens with glutes starts with its next area instead."""
    import sys
    import time

    db = str(tmp_path / "r.db")
    assert roller("--db", db, "import", str(glutes_file)).returncode == 0  # today: glutes done
    sub = Subscriber(broker.port, "roller/bridge/+/+/event")
    proc = subprocess.Popen([sys.executable, "-m", "tracker", "--db", db, "track", "--sim",
                     "--program", "legs", "--speed", "4", "--scenario", "clean"],
                    env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **passed_on(),
                         **broker.env()},
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(4.0)
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1", "-t",
            "roller/bridge/test/c0ffee000001/set/area", "-m", "glutes"], check=True)
    time.sleep(2.0)
    proc.terminate()
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    events = [e for e in (json.loads(p) for _, p in sub.stop()) if not e["replayed"]]
    kinds = [e["event_type"] for e in events]  # (the import's went out first, replayed)
    assert kinds[:2] == ["session_started", "schedule_refused"], kinds
    assert events[0]["routine"] == "hamstrings"  # the program's glutes wait for another day
    assert "skipping Glutes" in err
    row = sqlite3.connect(db).execute("SELECT areas, override FROM sessions WHERE id = 2")
    assert row.fetchone() == ("hamstrings", 0)


def test_an_outbox_entry_that_cannot_be_sent_is_dropped_and_said_not_a_jam(
        roller: Run, broker: Broker, tmp_path: Path, glutes_file: Path) -> None:
    """A damaged entry (not JSON) or a record of a session gone must not hold back the
    events queued behind it."""
    db = tmp_path / "r.db"
    assert roller("--db", str(db), "history").returncode == 0  # a store
    queued = clock.now() - timedelta(minutes=5)  # the outbox drops entries past their age
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("INSERT INTO outbox (created_at, kind, session_id, payload) VALUES "
                     "(?, 'session_started', 1, '{not json')", [queued.isoformat()])
        conn.execute("INSERT INTO outbox (created_at, kind, session_id, payload) VALUES "
                     "(?, 'session_record', 99, '{}')",
                     [(queued + timedelta(seconds=1)).isoformat()])
    assert roller("--db", str(db), "import", str(glutes_file)).returncode == 0
    sub = Subscriber(broker.port, "roller/bridge/+/+/event")
    status = roller("--db", str(db), "-v", "mqtt", "status", env=broker.env())
    assert status.returncode == 0, status.stderr
    assert status.stderr.count("cannot be sent") == 2
    kinds = [json.loads(p)["event_type"] for _, p in sub.stop()]
    assert kinds[0] == "session_started" and kinds[-1] == "session_ended"


def test_rollers_are_renamed_and_pairing_opened_from_home_assistant(
        roller: Run, broker: Broker, tmp_path: Path) -> None:
    """The text entity's and the pairing button's commands, as Home Assistant sends them,
    handled by the bridge; a rename by the CLI reaches Home Assistant as well."""
    import asyncio
    from dataclasses import replace

    from tracker.config import load
    from tracker.core.status import Identity
    from tracker.mqtt.bridge import Bridge
    from tracker.store.opening import open_store

    db = tmp_path / "r.db"
    assert roller("--db", str(db), "pair", "--sim", "--timeout", "0.5").returncode == 0
    address = "C0:FF:EE:00:00:01"
    settings = load(None, broker.env())
    told: list[bool] = []

    def pub(topic: str, payload: str, *flags: str) -> None:
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1",
                        "-t", topic, "-m", payload, *flags], check=True)

    async def main() -> None:
        store = open_store(db)
        # Pairing stays open a second here: how long is what this test is about.
        bridge = Bridge(replace(settings.mqtt, permit_join_s=1.0), store, settings.rules,
                        "UTC", owner=True, client_id="roller-test-names")
        bridge.on_permit_join = told.append
        bridge.watch(address, Identity(address, "roller-sim", "roller project", "roller-sim"),
                     connected=False)
        done = asyncio.Event()
        task = asyncio.create_task(bridge.run(done))
        await asyncio.sleep(1.5)
        name = "roller/bridge/test/c0ffee000001/set/name"
        pub(name, "x" * 40)  # too long: one warning, ignored
        pub(name, "Retained", "-r")  # would rename on reconnect
        pub(name, "Hall roller")
        pub("roller/bridge/test/set/permit_join", "START")
        await asyncio.sleep(0.5)
        assert bridge.permit_join_open
        await asyncio.sleep(1.5)
        assert not bridge.permit_join_open  # closed by itself
        renamed = await asyncio.to_thread(roller, "--db", str(db), "devices", "rename",
                                          address, "Gym roller")
        assert renamed.returncode == 0, renamed.stderr
        await asyncio.sleep(2.0)
        done.set()
        await task
        store.close()

    sub = Subscriber(broker.port, "roller/#", "homeassistant/#")
    asyncio.run(main())
    pub("roller/bridge/test/c0ffee000001/set/name", "", "-r")  # the retained one cleared
    received = sub.stop()
    names = [json.loads(p)["device"]["name"] for t, p in received
             if t.endswith("/roller_c0ffee000001_name/config")]
    assert names[0] == "roller-sim 00:01"  # told apart from another roller-sim
    assert names[-2:] == ["Hall roller", "Gym roller"]
    states = [json.loads(p) for t, p in received if t == "roller/bridge/test/c0ffee000001/state"]
    assert "Retained" not in {s["name"] for s in states}
    assert states[-1]["name"] == "Gym roller"
    assert datetime.fromisoformat(states[-1]["last_reset"]).tzinfo is not None
    infos = [json.loads(p)["permit_join"] for t, p in received
             if t == "roller/bridge/test/info"]
    assert True in infos and infos[-1] is False and told == [True, False]
    people = {json.loads(p)["device"]["name"] for t, p in received if "roller_person_" in t}
    assert people and not any(n.startswith("me ") for n in people)
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("SELECT label FROM devices").fetchone() == ("Gym roller",)


def fresh_messages(text: str) -> list[tuple[str, str]]:
    """(topic, payload) of what a subscriber with ``-F "%r %t %p"`` got fresh, not retained."""
    lines = [[*line.split(" ", 2), ""] for line in text.splitlines()]
    return [(topic, payload) for retained, topic, payload, *_ in lines if retained == "0"]


def test_a_store_of_0x_moves_its_entities_under_its_bridge_once(
        roller: Run, broker: Broker, tmp_path: Path) -> None:
    """What 0.x published (its configs remembered in the store, retained with its states at
    the broker): on the next connect each old config is told it moves (Home Assistant's
    ``migrate_discovery``) and cleared, the old states cleared, before the configs on the
    bridge's topics go out, with the same unique ids. Once: the next connect moves nothing."""
    from tests.old_topics import leave_0x, retain
    from tracker.mqtt.discovery import MIGRATE
    from tracker.mqtt.messages import BridgeTopics
    from tracker.store.opening import open_store

    db = tmp_path / "r.db"
    assert roller("--db", str(db), "pair", "--sim", "--timeout", "0.5").returncode == 0
    left = leave_0x(db, ["C0:FF:EE:00:00:01"])
    retain(broker.port, left)
    topics = BridgeTopics("roller", "homeassistant", "test")
    sub = Subscriber(broker.port, "roller/#", "homeassistant/#", output_format="%r %t %p",
                     client_id=None)
    for _ in range(2):
        done = roller("--db", str(db), "track", "--sim", "--speed", "20", "--seconds", "10",
                      "--scenario", "clean", env=broker.env())
        assert done.returncode == 0, done.stderr
    sub.drain(broker.port, topics.ha_status)
    got = fresh_messages(sub.stop_text())
    old = {topic for topic, _ in left}
    old_configs = {topic for topic in old if topic.startswith("homeassistant/")}
    said = {topic: [payload for t, payload in got if t == topic] for topic in old}
    assert all(said[t] == [MIGRATE.decode(), ""] for t in old_configs), said  # once
    assert all(said[t] == [""] for t in old - old_configs), said
    first_new = next(i for i, (t, _) in enumerate(got) if topics.is_own_config(t))
    assert max(i for i, (t, _) in enumerate(got) if t in old) < first_new
    new = {json.loads(p)["unique_id"] for t, p in got if topics.is_own_config(t) and p}
    assert new == {json.loads(p)["unique_id"] for t, p in left if t in old_configs}
    kept = {t for t, p in retained(broker.port) if p}
    assert not kept & old and len([t for t in kept if topics.is_own_config(t)]) == len(new)
    with closing(open_store(db)) as store:
        assert all(topics.is_own_config(t) for t, _ in store.outbox.remembered_discovery())


def test_purge_clears_0x_topics_too(roller: Run, broker: Broker, tmp_path: Path) -> None:
    """``roller mqtt purge`` on a store 0.x left: its configs, the bridge's and the states
    are cleared with the rest, and Home Assistant is not told they move."""
    from tests.old_topics import leave_0x, retain
    from tracker.mqtt.discovery import MIGRATE

    db = tmp_path / "r.db"
    assert roller("--db", str(db), "pair", "--sim", "--timeout", "0.5").returncode == 0
    left = leave_0x(db, ["C0:FF:EE:00:00:01"])
    retain(broker.port, left)
    sub = Subscriber(broker.port, "roller/#", "homeassistant/#", output_format="%r %t %p",
                     client_id=None)
    purged = roller("--db", str(db), "mqtt", "purge", env=broker.env())
    assert f"cleared {ENTITIES + PERSON_ENTITIES}" in purged.stdout, purged.stderr
    sub.drain(broker.port, "homeassistant/status")
    assert MIGRATE.decode() not in {p for _, p in fresh_messages(sub.stop_text())}
    assert not [t for t, p in retained(broker.port) if p]
