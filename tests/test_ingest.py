"""Many gateways, one history: session records through a real broker into one store, each
exactly once, whatever is redelivered or malformed, and whenever the ingest is away."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.broker import Broker
from tracker.records import RecordError, encode, parse
from tracker.store import exchange
from tracker.store.database import open_store

Run = Callable[..., subprocess.CompletedProcess[str]]


@contextmanager
def ingesting(tmp_path: Path, broker: Broker, *args: str) -> Iterator[subprocess.Popen[str]]:
    """``roller ingest`` into ``central.db`` as its own process; stopped (or killed) after."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracker", "--db", str(tmp_path / "central.db"), "-v",
         "ingest", *args],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **broker.env()},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)


def stopped(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return err


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
    assert "stored 1 session(s); 2 already stored; 3 message(s) skipped" in err
    assert err.count("skipped a message") == 1  # said once a topic, not once a message
    assert len(central(tmp_path, "SELECT session_id FROM raw_blocks")) >= 3


def make_record(tmp_path: Path) -> bytes:
    with closing(open_store(tmp_path / "a.db")) as store:
        from tracker.store.rows import SessionStart

        sid = store.start_session(SessionStart("glutes", datetime.now(UTC), "UTC", "sim",
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
