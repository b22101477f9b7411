"""``roller gateway``: simulated rollers through the real bleak client, a real mosquitto, a real
SQLite file; the gateway as its own process, stopped by signals or killed."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import pytest

from tests.broker import Broker, Subscriber
from tests.processes import running, stopped
from tests.suite_clock import passed_on
from tests.test_logs import STAMPED
from tracker import __version__
from tracker.core import clock

Run = Callable[..., subprocess.CompletedProcess[str]]
HOUSEHOLD = ["C0:FF:EE:00:01:01", "C0:FF:EE:00:01:02", "C0:FF:EE:00:01:03"]
#: Where a gateway named "test" (tests.broker.Broker.env) publishes everything of its own.
OWN = "roller/bridge/test"


def gateway(tmp_path: Path, *args: str, env: dict[str, str]
            ) -> AbstractContextManager[subprocess.Popen[str]]:
    """``roller gateway`` running as its own process; killed if the test leaves it running."""
    return running(tmp_path, "--db", str(tmp_path / "r.db"), "gateway", *args, env=env)


@contextmanager
def logging_to(stderr: TextIO, tmp_path: Path, *args: str, env: dict[str, str],
               level: str | None = None) -> Iterator[subprocess.Popen[str]]:
    """``roller gateway`` with its stderr in a file, read while it runs; killed if the test
    leaves it running."""
    options = ["--log-level", level] if level else []
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracker", *options, "--db", str(tmp_path / "r.db"), "gateway",
         *args], env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **passed_on(), **env},
        stdout=subprocess.DEVNULL, stderr=stderr, text=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def stopped_quietly(proc: subprocess.Popen[str]) -> None:
    """Stopped as a service manager does (SIGTERM); it ends cleanly."""
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0


def rows(db: Path, sql: str) -> list[sqlite3.Row]:
    """Read the store as another program would (it may not exist yet)."""
    if not db.exists():
        return []
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    connection.row_factory = sqlite3.Row
    try:
        return connection.execute(sql).fetchall()
    except sqlite3.OperationalError:  # not created yet
        return []
    finally:
        connection.close()


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def heard_in_order(received: list[list[str]], device: str) -> None:
    """A roller's events went out only after its discovery and its availability ``online``
    (Home Assistant drops an event of an entity it does not have or holds unavailable)."""
    first_event = next(float(at) for at, t, _ in received if t == f"{OWN}/{device}/event")
    configs = [float(at) for at, t, _ in received if f"/roller_{device}_" in t]
    online = [float(at) for at, t, p in received
              if t == f"{OWN}/{device}/availability" and p == "online"]
    assert configs and online and min(online) < first_event
    assert first_event - max(c for c in configs if c < first_event) >= 0.9  # it listens by then


def test_three_rollers_at_once_and_the_cli_beside_them(roller: Run, broker: Broker,
                                                       tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    sub = Subscriber(broker.port, "roller/#", "homeassistant/#", output_format="%U %t %p",
                     client_id=None)
    env = broker.env()  # the shipped session timings
    with gateway(tmp_path, "--sim", "3", "--speed", "20", "--sim-asleep", "2", "6",
                 "--sim-rolling", "40", "60", "--sim-sessions", "1", env=env) as proc:
        wait_for(lambda: len(rows(db, "SELECT id FROM sessions WHERE status = 'live'")) >= 2,
                 60, "sessions in progress")
        # The CLI beside it: reads, asks the broker, and is told who holds a roller.
        assert roller("--db", str(db), "history", env=env).returncode == 0
        status = roller("--db", str(db), "mqtt", "status", env=env)
        assert status.returncode == 0 and "0 events sent" in status.stdout  # not its job
        held = roller("--db", str(db), "track", "--sim", "--address", HOUSEHOLD[0], env=env)
        assert held.returncode == 1 and "held by roller gateway (pid" in held.stderr
        assert len(held.stderr.strip().splitlines()) == 1
        wait_for(lambda: len(rows(db, "SELECT id FROM sessions WHERE status = 'complete'"))
                 == 3, 90, "three finished sessions")
        log = stopped(proc)
    time.sleep(2.0)  # the last messages through the broker, on a busy machine too
    out = sub.stop_text()
    sessions = rows(db, "SELECT device, status, end_reason FROM sessions")
    assert sorted(r["device"] for r in sessions) == HOUSEHOLD, log
    assert {(r["status"], r["end_reason"]) for r in sessions} == {("complete", "still")}
    received = [line.split(" ", 2) for line in out.splitlines()]
    for address in HOUSEHOLD:
        device = address.replace(":", "").lower()
        kinds = [json.loads(p)["event_type"] for _, t, p in received
                 if t == f"{OWN}/{device}/event"]
        assert kinds[0] == "session_started" and kinds[-1] == "session_ended", kinds
        heard_in_order(received, device)
    bridge = [p for _, t, p in received if t == "roller/bridge/test/state"]
    assert bridge == ["online", "offline"], log  # the CLI never spoke for the bridge
    states = [json.loads(p) for _, t, p in received if t.endswith("/state") and "/c0" in t]
    assert states[-1]["session_active"] is False and states[-1]["next_routine"] == "upper_back"


def test_commands_from_home_assistant(broker: Broker, tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    device = HOUSEHOLD[0].replace(":", "").lower()

    def publish(leaf: str, payload: str, *flags: str) -> None:
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1",
                        "-t", f"{OWN}/{device}/{leaf}", "-m", payload, *flags], check=True)

    publish("set/end", "END", "-r")  # retained, waiting: it would act on every reconnect
    with gateway(tmp_path, "--sim", "1", "--speed", "10", "--sim-asleep", "40", "40",
                 "--sim-rolling", "30", "30", "--sim-sessions", "1",
                 env=broker.env()) as proc:
        Subscriber(broker.port, f"{OWN}/{device}/state").stop()  # it has said it is there
        time.sleep(1.0)
        publish("set/routine", "armpits")  # unknown value
        publish("set/routine", "x" * 10_000)  # huge
        publish("set/override", "MAYBE")  # wrong value
        publish("set/selfdestruct", "now")  # no such command
        publish("set/end", "END")  # no session to end: said, ignored
        publish("set/routine", "glutes")
        wait_for(lambda: bool(rows(db, "SELECT id FROM sessions WHERE status = 'live'")), 60,
                 "a session")
        publish("set/area", "hamstrings")  # the next part, once it is lifted to the thighs

        def asked_for() -> bool:
            states = Subscriber(broker.port, f"{OWN}/{device}/state").stop()
            return bool(states) and json.loads(states[-1][1])["routine"] == "hamstrings"

        wait_for(asked_for, 30, "the area asked for in the state")
        publish("set/comfort", "8")  # Home Assistant's number: the part under way's score

        def scored() -> bool:
            states = Subscriber(broker.port, f"{OWN}/{device}/state").stop()
            return bool(states) and json.loads(states[-1][1])["comfort"] == 8

        wait_for(scored, 30, "the comfort score in the state")
        publish("set/end", "END")
        wait_for(lambda: bool(rows(db, "SELECT id FROM sessions WHERE status = 'complete'")),
                 30, "the session ended from Home Assistant")
        assert proc.poll() is None  # nothing ended the gateway
        state = Subscriber(broker.port, f"{OWN}/{device}/state").stop()
        log = stopped(proc)
    session = rows(db, "SELECT routine, end_reason FROM sessions")
    assert [tuple(r) for r in session] == [("glutes", "stopped")], log
    assert [r["score"] for r in rows(db, "SELECT score FROM comfort")] == [8]
    # The first said, the other four within the minute counted (tracker.cli.logs.Repeats),
    # the count said as the gateway ends
    ignored = [line for line in log.splitlines() if "ignored a command" in line]
    assert len(ignored) == 2 and "retained" in ignored[0], log
    assert "(and 3 more like this in the last" in ignored[1]
    assert "no session in progress to end" in log
    assert json.loads(state[0][1])["next_routine"] == "glutes"


def test_kill_9_mid_session_loses_at_most_a_checkpoint_and_it_goes_on(
        roller: Run, broker: Broker, tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    env = broker.env() | {"ROLLER_SESSION_CHECKPOINT_S": "2"}  # the checkpoint is the subject
    args = ("--sim", "2", "--sim-asleep", "0", "1", "--sim-rolling", "120", "120")
    devices = [address.replace(":", "").lower() for address in HOUSEHOLD[:2]]

    def said_active() -> bool:
        states = [json.loads(p) for _, p in Subscriber(broker.port, f"{OWN}/+/state").stop()]
        return sum(bool(state["session_active"]) for state in states) == 2

    with gateway(tmp_path, *args, env=env) as proc:
        wait_for(lambda: len(rows(db, "SELECT id FROM sessions WHERE status = 'live' "
                                      "AND duration_s >= 4")) == 2, 60, "two checkpoints")
        wait_for(said_active, 30, "both sessions active in the retained state")
        time.sleep(0.3)
        killed_at = clock.now()
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
    # What the broker keeps retained now is stale: two sessions active. A subscriber as Home
    # Assistant is, from before the restart (retained messages flagged 1, fresh ones 0).
    sub = Subscriber(broker.port, "roller/#", output_format="%r %t %p", client_id=None)
    assert roller("--db", str(db), "history", env=env).returncode == 0
    interrupted = rows(db, "SELECT id, started_at, duration_s, status FROM sessions")
    assert [r["status"] for r in interrupted] == ["interrupted"] * 2
    for row in interrupted:
        recorded_s = (killed_at - datetime.fromisoformat(row["started_at"])).total_seconds()
        assert recorded_s - row["duration_s"] <= 2.0 + 0.5, dict(row)
    with gateway(tmp_path, *args, env=env) as proc:
        wait_for(lambda: len(rows(db, "SELECT id FROM sessions WHERE status = 'live'")) == 2,
                 60, "the restarted gateway's sessions")
        stopped(proc)
    after = rows(db, "SELECT status, end_reason FROM sessions WHERE id > 2")
    assert [tuple(r) for r in after] == [("complete", "stopped")] * 2
    time.sleep(0.5)
    received = [line.split(" ", 2) for line in sub.stop_text().splitlines()]
    fresh = [(t, p) for retained, t, p in received if retained == "0"]
    online = fresh.index(("roller/bridge/test/state", "online"))
    for device in devices:
        # The truth before anything else: before the bridge is online again, each roller's
        # state says no session, no lumbar contact, no caution.
        first = [json.loads(p) for t, p in fresh[:online] if t == f"{OWN}/{device}/state"]
        assert first, fresh[:online + 1]
        assert not any(first[0][k] for k in ("session_active", "lumbar_contact",
                                              "lumbar_caution")), first[0]
        # The session the crash cut short ends somewhere: Home Assistant hears it.
        ended = [json.loads(p) for t, p in fresh if t == f"{OWN}/{device}/event"
                 and json.loads(p)["event_type"] == "session_ended"]
        assert [e["end_reason"] for e in ended] == ["crash", "stopped"], ended


def test_one_session_per_use_as_the_readme_runs_it(broker: Broker, tmp_path: Path) -> None:
    """``roller gateway --sim 3 --speed 20`` as the README has it (two uses of each roller),
    with the shipped session timings: each use one session, ended by lying still, its
    events heard in order, and next to no packet dropped."""
    db = tmp_path / "r.db"
    sub = Subscriber(broker.port, "roller/#", "homeassistant/#", output_format="%U %t %p",
                     client_id=None)
    began = clock.now()
    with gateway(tmp_path, "--sim", "3", "--speed", "20", "--sim-sessions", "2",
                 env=broker.env()) as proc:
        wait_for(lambda: len(rows(db, "SELECT id FROM sessions WHERE status != 'live'")) >= 6,
                 150, "six finished sessions")
        time.sleep(2.0)  # none more comes: the household has rolled its six uses
        log = stopped(proc)
    time.sleep(0.5)
    received = [line.split(" ", 2) for line in sub.stop_text().splitlines()]
    sessions = rows(db, "SELECT device, started_at, status, end_reason FROM sessions")
    assert sorted(r["device"] for r in sessions) == sorted(HOUSEHOLD * 2), log
    assert {(r["status"], r["end_reason"]) for r in sessions} == {("complete", "still")}, log
    assert all(datetime.fromisoformat(r["started_at"]) >= began for r in sessions)
    dropped = [line for line in log.splitlines() if "dropped" in line or "started again" in line]
    assert len(dropped) <= 3, dropped
    for address in HOUSEHOLD:
        device = address.replace(":", "").lower()
        kinds = [json.loads(p)["event_type"] for _, t, p in received
                 if t == f"{OWN}/{device}/event"]
        ends = [k for k in kinds if k in ("session_started", "session_ended")]
        assert ends == ["session_started", "session_ended"] * 2, kinds
        heard_in_order(received, device)


def test_the_schedule_turns_over_at_midnight_and_at_the_week(roller: Run, broker: Broker,
                                                             tmp_path: Path) -> None:
    """No session: the clock alone moves the schedule's entities."""
    from tracker.config import load
    from tracker.core.status import Identity
    from tracker.mqtt.bridge import Bridge
    from tracker.store.opening import open_store

    glutes = tmp_path / "g.csv"
    assert roller("simulate", "--routine", "glutes", "--seconds", "120",
                  "-o", str(glutes)).returncode == 0
    imported = roller("--db", str(tmp_path / "r.db"), "import", str(glutes),
                      "--at", "2026-11-21T10:00:00+00:00", env={"TZ": "UTC"})
    assert imported.returncode == 0, imported.stderr
    settings = load(None, broker.env() | {"TZ": "UTC"})
    clock = [datetime(2026, 11, 21, 23, 59, 58, tzinfo=UTC)]  # Saturday

    async def main() -> None:
        store = open_store(tmp_path / "r.db")
        bridge = Bridge(settings.mqtt, store, settings.rules, "UTC", owner=True,
                        client_id="roller-test-clock", now=lambda: clock[0], tick_s=0.2)
        bridge.watch("C0:FF:EE:00:01:01", Identity("C0:FF:EE:00:01:01", "roller-sim"),
                     connected=False)
        done = asyncio.Event()
        task = asyncio.create_task(bridge.run(done))
        await asyncio.sleep(2.0)
        clock[0] = datetime(2026, 11, 22, 0, 0, 2, tzinfo=UTC)  # Sunday
        await asyncio.sleep(1.5)
        clock[0] = datetime(2026, 11, 23, 0, 0, 2, tzinfo=UTC)  # Monday: a new week
        await asyncio.sleep(1.5)
        done.set()
        await task
        store.close()

    sub = Subscriber(broker.port, "roller/bridge/test/c0ffee000101/state")
    asyncio.run(main())
    states = [json.loads(p) for _, p in sub.stop()]
    days = [(s["glute_sessions_this_week"], s["next_glute_day"]) for s in states]
    assert days[0] == (1, "2026-11-23")  # Saturday's glutes; Sunday is a rest day
    assert (1, "2026-11-23") in days[1:-1]  # Sunday: published again, same week
    assert days[-1] == (0, "2026-11-23")  # Monday: the week's count starts again
    assert len(states) >= 3


def test_people_added_and_removed_while_it_runs_come_and_go_in_home_assistant(
        roller: Run, broker: Broker, tmp_path: Path) -> None:
    db = str(tmp_path / "r.db")
    with gateway(tmp_path, "--sim", "1", "--sim-asleep", "600", "600",
                 env=broker.env()) as proc:
        wait_for(lambda: bool(Subscriber(broker.port, f"{OWN}/person/+/state").stop()), 30,
                 "the first person's state")
        assert roller("--db", db, "people", "add", "Cleo").returncode == 0
        uid = rows(tmp_path / "r.db", "SELECT uid FROM people WHERE name = 'Cleo'")[0]["uid"]
        config = f"homeassistant/sensor/test/roller_person_{uid}_schedule_status/config"

        def retained(topic: str) -> list[tuple[str, str]]:
            return [m for m in Subscriber(broker.port, topic).stop() if m[1]]

        wait_for(lambda: bool(retained(config)), 30, "Cleo's entities")
        assert roller("--db", db, "people", "remove", "Cleo").returncode == 0
        wait_for(lambda: not retained(config), 30, "Cleo's entities gone")
        assert not retained(f"{OWN}/person/{uid}/state")
        stopped(proc)


def said(log: Path, pattern: str) -> list[str]:
    """The lines of ``log`` so far that match ``pattern``."""
    return [line for line in log.read_text().splitlines() if re.search(pattern, line)]


def test_it_says_what_it_does_and_when(broker: Broker, tmp_path: Path) -> None:
    """As Zigbee2MQTT or Theengs Gateway do: a start-up line (version, broker, store, rollers;
    never the password), the broker connected, lost and back, each line stamped."""
    log = tmp_path / "stderr"
    env = broker.env(ROLLER_MQTT_PORT=str(broker.auth_port), ROLLER_MQTT_USERNAME="roller",
                     ROLLER_MQTT_PASSWORD="s3cret")
    began = clock.now()
    with log.open("w") as stderr, logging_to(stderr, tmp_path, "--sim", "1", "--sim-asleep",
                                             "600", "600", env=env) as proc:
        wait_for(lambda: bool(said(log, "connected to the broker")), 30, "the broker")
        broker.stop()
        wait_for(lambda: bool(said(log, "lost the broker")), 30, "the broker lost")
        broker.start()
        wait_for(lambda: len(said(log, "connected to the broker")) == 2, 30, "the broker back")
        stopped_quietly(proc)
    text = log.read_text()
    where = f"127.0.0.1:{broker.auth_port}"
    [start] = said(log, " gateway: broker ")
    assert f"INFO tracker.cli.gateway: roller {__version__} gateway: broker {where}, no TLS, " \
           f"user roller, password set; store {tmp_path / 'r.db'}; watching 1 roller: " \
           f"{HOUSEHOLD[0]}" in start, text
    assert said(log, rf"INFO tracker.mqtt.bridge: connected to the broker {where} as "
                     r"roller-.*-gateway-\d+$"), text
    assert said(log, rf"WARNING tracker.mqtt.bridge: lost the broker {where} \(.+\), "
                     r"retrying in \d+ s$"), text
    assert "s3cret" not in text
    stamps = [STAMPED.match(line) for line in text.splitlines()]
    assert all(stamps), text
    first = stamps[0]
    assert first and abs((datetime.fromisoformat(first[1]) - began).total_seconds()) < 60


def test_log_level_warning_is_quiet(broker: Broker, tmp_path: Path) -> None:
    """``--log-level`` wins over ``ROLLER_LOG_LEVEL`` (and the file): warnings only."""
    log = tmp_path / "stderr"
    env = broker.env(ROLLER_LOG_LEVEL="debug")
    with log.open("w") as stderr, logging_to(stderr, tmp_path, "--sim", "1", "--sim-asleep",
                                             "600", "600", level="warning", env=env) as proc:
        wait_for(lambda: ("roller/bridge/test/state", "online") in
                 Subscriber(broker.port, "roller/bridge/test/state").stop(), 30, "the bridge")
        stopped_quietly(proc)
    assert log.read_text() == ""
