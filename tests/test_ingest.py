"""Many gateways, one history: session records through a real broker into one store, each
exactly once, whatever is redelivered or malformed, and whenever the ingest is away."""

from __future__ import annotations

import dataclasses
import json
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager, closing
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.broker import Broker, create
from tests.processes import running, stopped
from tests.suite_clock import passed_on
from tracker.core import clock
from tracker.core.formats.roller_session import PersonRecord, RecordError, encode, parse
from tracker.store import exchange
from tracker.store.opening import open_store

Run = Callable[..., subprocess.CompletedProcess[str]]


def ingesting(tmp_path: Path, broker: Broker, *args: str, env: dict[str, str] | None = None
              ) -> AbstractContextManager[subprocess.Popen[str]]:
    """``roller ingest`` into ``central.db`` as its own process; stopped (or killed) after."""
    return running(tmp_path, "--db", str(tmp_path / "central.db"), "-v", "ingest", *args,
                   env=broker.env(**(env or {})))


def central(tmp_path: Path, sql: str) -> list[tuple[object, ...]]:
    path = tmp_path / "central.db"
    if not path.exists():
        return []
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as db:
        try:
            return db.execute(sql).fetchall()
        except sqlite3.OperationalError:
            return []


def wait_for(condition: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def gateway_session(roller: Run, tmp_path: Path, broker: Broker, gateway: str,
                    *args: str) -> None:
    env = broker.env(ROLLER_MQTT_PUBLISH_SESSIONS="1", ROLLER_MQTT_BRIDGE_ID=gateway)
    done = roller("--db", str(tmp_path / f"{gateway}.db"), "track", "--sim", "--speed", "20",
                  "--seconds", "15", "--scenario", "clean", *args, env=env)
    assert done.returncode == 0, done.stderr


def test_sessions_reach_one_store_once_while_the_ingest_comes_and_goes(
        roller: Run, broker: Broker, tmp_path: Path) -> None:
    with ingesting(tmp_path, broker) as proc:
        wait_for(lambda: "subscribing" in (proc.stderr.readline() if proc.stderr else ""), 20)
        gateway_session(roller, tmp_path, broker, "gym-1")
        wait_for(lambda: len(central(tmp_path, "SELECT id FROM sessions")) == 1, 20)
        proc.send_signal(signal.SIGKILL)  # away, unannounced
        proc.communicate(timeout=10)
    assert roller("--db", str(tmp_path / "gym-2.db"), "people", "add", "Ada").returncode == 0
    gateway_session(roller, tmp_path, broker, "gym-2", "--person", "Ada")
    gateway_session(roller, tmp_path, broker, "gym-2")
    with ingesting(tmp_path, broker) as proc:  # what came meanwhile was kept for it
        wait_for(lambda: len(central(tmp_path, "SELECT id FROM sessions")) == 3, 30)
        err = stopped(proc)
    assert "stored 2 session(s)" in err
    rows = central(tmp_path, "SELECT s.origin, p.name FROM sessions s JOIN people p ON "
                             "p.id = s.person_id ORDER BY s.id")
    assert rows == [("gym-1", "me (gym-1)"), ("gym-2", "Ada"), ("gym-2", "me (gym-2)")]
    history = roller("--db", str(tmp_path / "central.db"), "history", "--json",
                     "--person", "Ada")
    assert [json.loads(line)["person"] for line in history.stdout.splitlines()] == ["Ada"]
    gym2 = roller("--db", str(tmp_path / "central.db"), "export", "--format", "json",
                  "--gateway", "gym-2").stdout.splitlines()
    assert [json.loads(line)["origin"] for line in gym2] == ["gym-2", "gym-2"]
    assert "Ada@gym-2" in roller("--db", str(tmp_path / "central.db"), "history").stdout


def test_a_redelivered_or_malformed_message_changes_nothing(
        roller: Run, broker: Broker, tmp_path: Path) -> None:
    gateway_session(roller, tmp_path, broker, "gym-1")  # nobody listening yet: sent, gone
    with closing(open_store(tmp_path / "gym-1.db")) as store:
        record = encode(exchange.record(store, 1, "gym-1", raw=True))

    def publish(payload: bytes, topic: str = "roller/bridge/gym-1/session") -> None:
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1",
                        "-t", topic, "-s"], input=payload, check=True)

    with ingesting(tmp_path, broker) as proc:
        wait_for(lambda: "subscribing" in (proc.stderr.readline() if proc.stderr else ""), 20)
        for _ in range(3):
            publish(record)  # the same session, three times
        publish(b"not json")
        publish(b'{"format": "roller-session/9"}')
        publish(record.replace(b'"strokes":', b'"strokes":"many","x":'))
        wait_for(lambda: len(central(tmp_path, "SELECT id FROM sessions")) == 1, 20)
        time.sleep(1.0)
        err = stopped(proc)
    assert "stored 1 session(s); 2 already stored; 3 message(s) quarantined" in err
    assert err.count("quarantined a message") == 1  # said once a topic, not once a message
    assert len(central(tmp_path, "SELECT session_id FROM raw_blocks")) >= 3


def make_record(tmp_path: Path) -> bytes:
    with closing(open_store(tmp_path / "a.db")) as store:
        from tracker.store.rows import SessionStart

        sid = store.start_session(SessionStart("glutes", clock.now(), "UTC", "sim",
                                               50.0, 15.0, 175.0, 0.0))
        store.db.execute("UPDATE sessions SET status = 'complete' WHERE id = ?", [sid])
        return encode(exchange.record(store, sid, "gym-1"))


@pytest.fixture(scope="module")
def one_record(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return make_record(tmp_path_factory.mktemp("rec"))


@given(st.binary(max_size=300))
def test_any_bytes_are_a_record_or_one_clear_refusal(data: bytes) -> None:
    try:
        parse(data)
    except RecordError as exc:
        assert "\n" not in str(exc)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_a_mutated_record_is_taken_whole_or_refused(one_record: bytes,
                                                    data: st.DataObject) -> None:
    message = json.loads(one_record)
    key = data.draw(st.sampled_from(sorted(message)))
    message[key] = data.draw(st.one_of(st.none(), st.integers(), st.text(max_size=5),
                                       st.lists(st.integers(), max_size=3),
                                       st.dictionaries(st.text(max_size=3), st.integers(),
                                                       max_size=2)))
    try:
        record = parse(json.dumps(message).encode())
    except RecordError as exc:
        assert "\n" not in str(exc)
    else:
        assert record.uid == message["uid"]


def test_a_taken_record_is_the_session_again(tmp_path: Path, one_record: bytes) -> None:
    record = parse(one_record)
    with closing(open_store(tmp_path / "central.db")) as store:
        assert exchange.take(store, record) == 1
        assert exchange.take(store, record) is None  # once, by its uid
        again = exchange.record(store, 1, "central")
    assert again.summary == record.summary and again.gateway == "gym-1"
    assert again.person.uid == record.person.uid


def test_records_taken_together_each_once_in_one_transaction(tmp_path: Path,
                                                             one_record: bytes) -> None:
    """A group commit: one transaction for many; a record twice in it is taken once."""
    first = exchange.check(parse(one_record))
    second = exchange.check(dataclasses.replace(first.record, uid=uuid.uuid4().hex))
    with closing(open_store(tmp_path / "central.db")) as store:
        assert exchange.take_all(store, [first, second, first]) == [1, 2, None]
        assert exchange.take_all(store, [second]) == [None]
        assert store.db.execute("SELECT count(*) FROM people").fetchone()[0] == 2  # + "me"


def test_a_store_that_cannot_be_written_leaves_the_message_for_the_next_start(
        broker: Broker, tmp_path: Path, one_record: bytes) -> None:
    """Nothing acknowledged that was not committed: the broker gives it again."""
    import threading

    from tracker.config import load
    from tracker.mqtt.ingest import Ingest
    from tracker.store.connection import Connection
    from tracker.store.database import Store

    settings = load(env=broker.env()).mqtt
    path = tmp_path / "central.db"
    open_store(path).close()
    later = encode(dataclasses.replace(parse(one_record), uid=uuid.uuid4().hex))

    def ingest(read_only: bool, payload: bytes, done: Callable[[Ingest], bool]) -> Ingest:
        # used by the ingest's thread alone, while this one waits
        connection = sqlite3.connect(path, check_same_thread=False)
        store = Store(Connection(connection), path, read_only)
        worker = Ingest(settings, store, "roller-test-ingest")  # one session at the broker
        thread = threading.Thread(target=worker.run)
        thread.start()
        try:
            time.sleep(1.0)  # subscribed
            subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-q",
                            "1", "-t", "roller/bridge/gym-1/session", "-s"], input=payload,
                           check=True)
            wait_for(lambda: done(worker), 20)
        finally:
            worker.stop()
            thread.join(10)
            store.close()
        return worker

    failed = ingest(True, one_record, lambda worker: worker.failure is not None)
    assert failed.failure and "read-only" in failed.failure and failed.tally.stored == 0
    again = ingest(False, later, lambda worker: worker.tally.stored == 2)  # given again
    assert again.failure is None and again.tally.repeated == 0
    assert len(central(tmp_path, "SELECT id FROM sessions")) == 2


def gateway_store(path: Path, gateway: str, template: bytes, sessions: int) -> Counter[str]:
    """A gateway's store with ``sessions`` finished sessions of 3 people on 2 rollers, each
    queued as a record for the broker; how many sessions each person (uid) has."""
    base = parse(template)
    people = [PersonRecord(f"{gateway}p{i}".encode().hex()[:16], f"person {i}", None, None, {})
              for i in range(3)]
    counts: Counter[str] = Counter()
    with closing(open_store(path)) as store:
        store.outbox.records = True
        for i in range(sessions):
            person = people[i % 3] if i % 7 else people[0]
            rec = dataclasses.replace(base, uid=uuid.uuid4().hex, gateway=gateway,
                                      device=f"C0:FF:EE:{gateway[-2:]}:00:0{i % 2}",
                                      person=person)
            session_id = exchange.take(store, rec)
            assert session_id is not None
            with store.writing() as db:
                store.outbox.enqueue_record(db, session_id, rec.summary["started_at"],
                                            rec.device)
            counts[person.uid] += 1
    return counts


def test_twenty_gateways_two_thousand_sessions_each_once_through_kills_and_a_restart(
        roller: Run, broker: Broker, tmp_path: Path, one_record: bytes) -> None:
    """20 gateways of 2 rollers publish 2,000 sessions while the ingest is killed and
    restarted twice and the broker restarted once: the central store ends with each once."""
    gateways = [f"gw-{g:02d}" for g in range(20)]
    expected: Counter[str] = Counter()
    for gateway in gateways:
        expected += gateway_store(tmp_path / f"{gateway}.db", gateway, one_record, 100)

    def publish(gateway: str) -> subprocess.Popen[str]:
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **passed_on(),
               **broker.env(ROLLER_MQTT_PUBLISH_SESSIONS="1", ROLLER_MQTT_BRIDGE_ID=gateway)}
        return subprocess.Popen([sys.executable, "-m", "tracker", "--db",
                                 str(tmp_path / f"{gateway}.db"), "mqtt", "status"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                text=True)

    def queued(gateway: str) -> int:
        with closing(sqlite3.connect(tmp_path / f"{gateway}.db", timeout=10)) as db:
            return int(db.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL AND "
                                  "kind = 'session_record'").fetchone()[0])

    def send(some: list[str]) -> None:
        for proc in [publish(g) for g in some]:
            proc.wait(timeout=120)

    def kill_midstream(ingest: subprocess.Popen[str], some: list[str], after: int) -> None:
        """Publish ``some`` gateways' sessions, and kill the ingest once ``after`` are in."""
        publishers = [publish(g) for g in some]
        wait_for(lambda: stored() >= after, 60)
        ingest.send_signal(signal.SIGKILL)
        ingest.communicate(timeout=10)
        for p in publishers:
            p.wait(timeout=120)

    def stored() -> int:
        return len(central(tmp_path, "SELECT id FROM sessions"))

    with ingesting(tmp_path, broker) as proc:  # 1: killed mid-stream
        wait_for(lambda: "subscribing" in (proc.stderr.readline() if proc.stderr else ""), 20)
        kill_midstream(proc, gateways[:5], 100)
    assert stored() < 2000
    send(gateways[5:10])  # nobody ingesting: the broker keeps them for the ingest's session
    broker.restart()  # persistence on: the ingest's session and its queue survive
    with ingesting(tmp_path, broker) as proc:  # 2: killed mid-stream again
        kill_midstream(proc, gateways[10:15], stored() + 300)
    with ingesting(tmp_path, broker) as proc:  # 3: to the end
        send(gateways[15:])
        for _ in range(3):  # what a gateway could not send while the broker was down
            late = [g for g in gateways if queued(g)]
            if late:
                send(late)
        wait_for(lambda: stored() == 2000, 120)
        time.sleep(1.0)  # anything redelivered is ignored, never stored again
        stopped(proc)
    assert stored() == 2000
    assert len(central(tmp_path, "SELECT DISTINCT uid FROM sessions")) == 2000
    per_person = dict(central(tmp_path, "SELECT p.uid, count(*) FROM sessions s JOIN people "
                                        "p ON p.id = s.person_id GROUP BY p.uid"))
    assert per_person == dict(expected)
    assert {g for (g,) in central(tmp_path, "SELECT DISTINCT origin FROM sessions")} == \
        set(gateways)


def test_gateways_on_one_broker_ingest_on_another_joined_by_a_bridge(
        roller: Run, broker: Broker, tmp_path: Path) -> None:
    """A site's broker (gateways) bridged to the central one (the ingest)."""
    central_broker = create(tmp_path / "central-broker")
    central_broker.extra = (f"connection site-a\naddress 127.0.0.1:{broker.port}\n"
                            "topic roller/bridge/+/session in 1\ncleansession false\n")
    central_broker.start()
    try:
        with ingesting(tmp_path, central_broker) as proc:
            wait_for(lambda: "subscribing" in (proc.stderr.readline() if proc.stderr else ""),
                     20)
            time.sleep(1.0)  # the bridge connects
            gateway_session(roller, tmp_path, broker, "site-a")
            wait_for(lambda: len(central(tmp_path, "SELECT id FROM sessions")) == 1, 30)
            stopped(proc)
    finally:
        central_broker.stop()
    assert central(tmp_path, "SELECT origin FROM sessions") == [("site-a",)]


def test_two_ingests_split_the_load_in_a_shared_subscription(
        broker: Broker, tmp_path: Path, one_record: bytes) -> None:
    """MQTT 5 ``$share``: each session goes to one of them, into the same store, once."""
    gateway_store(tmp_path / "gw.db", "gw-00", one_record, 200)
    env = {"ROLLER_MQTT_PROTOCOL": "5"}
    with ingesting(tmp_path, broker, "--share", "central", "--name", "one", env=env) as one, \
            ingesting(tmp_path, broker, "--share", "central", "--name", "two",
                      env=env) as two:
        for proc in (one, two):
            wait_for(lambda p=proc: "subscribing" in p.stderr.readline(), 20)  # type: ignore[misc]
        published = subprocess.run(
            [sys.executable, "-m", "tracker", "--db", str(tmp_path / "gw.db"), "mqtt",
             "status"], env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **passed_on(),
                             **broker.env(ROLLER_MQTT_PUBLISH_SESSIONS="1",
                                          ROLLER_MQTT_BRIDGE_ID="gw-00")},
            capture_output=True, text=True, timeout=120)
        assert published.returncode == 0, published.stderr
        wait_for(lambda: len(central(tmp_path, "SELECT id FROM sessions")) == 200, 60)
        said = [stopped(proc) for proc in (one, two)]
    counts = [int(text.split("stored ")[-1].split(" ")[0]) for text in said]
    assert sum(counts) == 200 and min(counts) > 0  # both took a share


def test_the_ingest_over_tls(roller: Run, broker: Broker, tmp_path: Path) -> None:
    """TLS to the broker with its CA, as docs/scale.md sets it up; a session comes through."""
    tls = {"ROLLER_MQTT_PORT": str(broker.tls_port),
           "ROLLER_MQTT_CA_FILE": str(broker.certificates["ca"])}
    with ingesting(tmp_path, broker, env=tls) as proc:
        wait_for(lambda: "subscribing" in (proc.stderr.readline() if proc.stderr else ""), 20)
        gateway_session(roller, tmp_path, broker, "gym-1")
        wait_for(lambda: len(central(tmp_path, "SELECT id FROM sessions")) == 1, 20)
        stopped(proc)
