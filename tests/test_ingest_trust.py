"""Trust nothing that arrives (issue 29): the topic names a record's gateway, people are
scoped by it, and no message, however made, stops the central intake or leaves a command
the central store cannot answer."""

from __future__ import annotations

import base64
import json
import subprocess
import uuid
import zlib
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.broker import Broker, password
from tests.processes import running, stopped
from tests.test_ingest import central, wait_for
from tracker.config import load
from tracker.core import clock
from tracker.core.formats.roller_session import RecordError, encode, parse
from tracker.mqtt.ingest import Ingest, _Arrived
from tracker.store import exchange
from tracker.store.codec import pack, unpack
from tracker.store.opening import open_store
from tracker.store.rows import SessionStart

Run = Callable[..., subprocess.CompletedProcess[str]]
TOPIC = "roller/bridge/gym-1/session"


def good_record(tmp_path: Path) -> dict[str, Any]:
    """A gym-1 record of a finished glute session with two raw blocks, as JSON."""
    with closing(open_store(tmp_path / "gym-1.db")) as store:
        sid = store.start_session(SessionStart("glutes", clock.now(), "UTC", "sim",
                                               50.0, 15.0, 175.0, 0.0))
        store.db.execute("UPDATE sessions SET status = 'complete', ended_at = started_at, "
                         "duration_s = 2.0 WHERE id = ?", [sid])
        samples = np.zeros((100, 7))
        samples[:, 0] = np.arange(100) / 50.0
        for seq, block in enumerate((samples[:50], samples[50:])):
            store.db.execute("INSERT INTO raw_blocks (session_id, seq, t0_s, samples, data) "
                             "VALUES (?, ?, ?, ?, ?)",
                             [sid, seq, float(block[0, 0]), 50, pack(block)])
        data: dict[str, Any] = json.loads(encode(exchange.record(store, sid, "gym-1",
                                                                 raw=True)))
    return data


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return good_record(tmp_path_factory.mktemp("rec"))


def bomb() -> str:
    """A block that says 10 samples and inflates to 64 MB."""
    return base64.b64encode(zlib.compress(b"\0" * (64 << 20), 9)).decode()


#: Each way a record can be poison: a path into the record and what is put there.
POISONS: list[tuple[tuple[str, ...], Any]] = [
    (("summary", "status"), None),
    (("summary", "status"), "live"),
    (("summary", "strokes"), 2**64),
    (("summary", "strokes"), -1),
    (("summary", "strokes"), "many"),
    (("summary", "sample_rate_hz"), 0),
    (("summary", "duration_s"), float("nan")),
    (("summary", "duration_s"), float("inf")),
    (("summary", "active_s"), 1e308),
    (("summary", "zone"), "Mars/Olympus_Mons"),
    (("summary", "zone"), "../../../etc/passwd"),
    (("summary", "started_at"), "9999-12-31T23:59:59+00:00"),
    (("summary", "started_at"), "yesterday"),
    (("summary", "pauses"), "[[0, 1e308]]"),
    (("summary", "switches"), "glutes@-5"),
    (("summary", "program"), '{"format": "nope"}'),
    (("person", "name"), "Ada\x1b[2J"),
    (("person", "name"), "Ada\nroller: error: forged"),
    (("person", "zone"), "Not/AZone"),
    (("person", "rules"), {"glute_sessions_per_week": "3"}),
    (("person", "rules"), {"glute_sessions_per_week": 99}),
    (("person", "rules"), {"no_such_rule": 1}),
    (("person", "rules"), {"bout_min_s": 50, "bout_max_s": 40}),
    (("segments",), [["thoracic", 0.0, 1e308]]),
    (("parts",), [[0, "glutes", 0.0, 0.0, 1.0, 2**64, 0, 0]]),
    (("device",), "C0:FF:EE\x1b[31m"),
    (("gateway",), "gym-2"),
    (("raw",), [[0, 0.0, 10, None]]),
    (("raw",), [[0, 0.0, 10, "bomb"]]),
    (("raw",), [[0, 0.0, 2**40, base64.b64encode(zlib.compress(b"")).decode()]]),
]


def poisoned(template: dict[str, Any], path: tuple[str, ...], value: Any) -> bytes:
    message = json.loads(json.dumps(template))
    message["uid"] = uuid.uuid4().hex
    target = message
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = [[0, 0.0, 10, bomb()]] if value == [[0, 0.0, 10, "bomb"]] else value
    return json.dumps(message).encode()


def fresh(template: dict[str, Any], person: int = 0) -> bytes:
    message = json.loads(json.dumps(template))
    message["uid"] = uuid.uuid4().hex
    message["person"] = {**message["person"], "uid": f"{person + 1:08x}",
                         "name": f"Zoe{person}"}
    return json.dumps(message).encode()


def worker(store_path: Path) -> Ingest:
    """The real ingest's checking and committing, without a broker (QoS 0: nothing acked)."""
    settings = load(env={"ROLLER_MQTT_HOST": "127.0.0.1"}).mqtt
    return Ingest(settings, open_store(store_path), "roller-test")


def feed(ingest: Ingest, payloads: list[bytes], batch: int = 7) -> None:
    arrived = [_Arrived(0, i, 0, TOPIC, p) for i, p in enumerate(payloads)]
    for i in range(0, len(arrived), batch):
        ingest._take(arrived[i:i + batch])


def readable(ingest: Ingest) -> None:
    """Every session reads back whole, every person describes themselves."""
    store = ingest.store
    config = load(env={})
    for row in store.sessions():
        store.session_detail(row.id)
        store.recording(row.id)
        store.program(row.id)
    for person in store.people.all():
        person.describe(config.body, "UTC", config.rules)
        config.for_person(person)
    assert store.check()[1] == {}


def test_every_poison_is_quarantined_and_the_good_ones_stored(
        tmp_path: Path, template: dict[str, Any]) -> None:
    ingest = worker(tmp_path / "central.db")
    goods = [fresh(template, i % 3) for i in range(5)]
    bad = [poisoned(template, path, value) for path, value in POISONS]
    mixed = [m for pair in zip(bad, [*goods, *goods] * 10, strict=False) for m in pair]
    feed(ingest, mixed)
    assert ingest.tally.stored == 5 and ingest.tally.refused == len(POISONS)
    rows = exchange.quarantined(ingest.store)
    assert len(rows) == len(POISONS) and {r["topic"] for r in rows} == {TOPIC}
    assert [r["payload"] for r in rows] == [b[:exchange.QUARANTINE_PAYLOAD_BYTES]
                                            for b in bad]  # its bytes, as they came
    assert all("\n" not in r["reason"] for r in rows)
    readable(ingest)
    ingest.store.close()


def test_a_flood_of_poison_keeps_the_quarantine_bounded(tmp_path: Path) -> None:
    """A gateway sending refusals without end: the newest entries, each payload's start."""
    ingest = worker(tmp_path / "central.db")
    big = b"{" + b"x" * (exchange.QUARANTINE_PAYLOAD_BYTES * 2)
    feed(ingest, [big, *(b"[%d]" % i for i in range(exchange.QUARANTINE_KEPT + 50))],
         batch=200)
    rows = exchange.quarantined(ingest.store)
    assert len(rows) == exchange.QUARANTINE_KEPT
    assert rows[-1]["payload"] == b"[%d]" % (exchange.QUARANTINE_KEPT + 49)  # the newest
    ingest.store.close()
    ingest = worker(tmp_path / "other.db")
    feed(ingest, [big])
    (row,) = exchange.quarantined(ingest.store)
    assert row["payload"] == big[:exchange.QUARANTINE_PAYLOAD_BYTES]
    assert f"(the first 65,536 of {len(big):,} bytes kept)" in row["reason"]
    ingest.store.close()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_mutation_is_taken_usable_or_refused_in_one_line(
        template: dict[str, Any], data: st.DataObject) -> None:
    """The pure part: parse and check take a record whole, fit for every command, or
    refuse it in one line."""
    message = json.loads(json.dumps(template))
    for _ in range(data.draw(st.integers(1, 3))):
        section = data.draw(st.sampled_from(["summary", "person", "top"]))
        target = message if section == "top" or not isinstance(message[section], dict) \
            or not message[section] else message[section]
        key = data.draw(st.sampled_from(sorted(target)))
        target[key] = data.draw(st.one_of(
            st.none(), st.booleans(), st.integers(), st.integers(2**62, 2**70),
            st.floats(), st.text(max_size=8), st.sampled_from(
                ["UTC", "Europe/Paris", "x/../y", "complete", "glutes", "2026-01-01",
                 "2026-01-01T00:00:00+00:00", "[[1, 2]]", "[]", "{}", "a\x1bb", "Zoe\u0308"]),
            st.lists(st.lists(st.one_of(st.integers(), st.floats(), st.text(max_size=3)),
                              max_size=4), max_size=2),
            st.dictionaries(st.sampled_from(["glute_sessions_per_week", "bout_min_s", "x"]),
                            st.one_of(st.integers(), st.floats(), st.text(max_size=2)),
                            max_size=2)))
    try:
        checked = exchange.check(parse(json.dumps(message).encode()))
    except RecordError as exc:
        assert "\n" not in str(exc)
    else:
        person, summary = checked.record.person, checked.record.summary
        assert person.name.isprintable() and summary["status"] in ("complete", "interrupted")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.integers(0, 5), st.sampled_from(range(len(POISONS)))
                          .map(lambda i: -1 - i)), max_size=20), st.integers(1, 8))
def test_any_sequence_of_good_and_bad_records_stores_each_good_one_once(
        tmp_path_factory: pytest.TempPathFactory, template: dict[str, Any],
        sequence: list[int], batch: int) -> None:
    goods = [fresh(template, i % 3) for i in range(6)]
    payloads = [goods[i] if i >= 0 else poisoned(template, *POISONS[-1 - i])
                for i in sequence]
    ingest = worker(tmp_path_factory.mktemp("fuzz") / "central.db")
    feed(ingest, payloads, batch)
    stored = {parse(goods[i]).uid for i in sequence if i >= 0}
    uids = [r[0] for r in ingest.store.db.execute("SELECT uid FROM sessions")]
    assert sorted(uids) == sorted(stored)  # each good one, once
    assert len(exchange.quarantined(ingest.store)) == sum(i < 0 for i in sequence)
    readable(ingest)
    ingest.store.close()


def test_a_store_that_cannot_be_written_still_stops_the_intake(
        tmp_path: Path, template: dict[str, Any]) -> None:
    import sqlite3

    from tracker.store.connection import Connection
    from tracker.store.database import Store

    path = tmp_path / "central.db"
    open_store(path).close()
    ingest = worker(path)
    ingest.store.close()
    ingest.store = Store(Connection(sqlite3.connect(path)), path, True)
    feed(ingest, [poisoned(template, *POISONS[0]), fresh(template)])
    assert ingest.failure and "read-only" in ingest.failure
    assert ingest.tally.stored == 0
    ingest.store.close()


def test_a_zlib_bomb_is_refused_without_being_inflated() -> None:
    data = zlib.compress(b"\0" * (256 << 20), 9)  # 256 MB from about 250 KB
    with pytest.raises(ValueError, match="more bytes"):
        unpack(data, 0.0, 10)


@pytest.mark.cli
def test_every_reader_works_on_a_central_store_of_good_and_poison_records(
        roller: Run, tmp_path: Path, template: dict[str, Any]) -> None:
    db = tmp_path / "central.db"
    ingest = worker(db)
    goods = [fresh(template, i % 3) for i in range(4)]
    feed(ingest, [m for pair in zip([poisoned(template, p, v) for p, v in POISONS],
                                    goods * 8, strict=False) for m in pair])
    ingest.store.close()
    for args in (["history"], ["history", "--json"], ["session", "show", "1"],
                 ["people", "list"], ["schedule"], ["schedule", "--person", "Zoe1"], ["weeks"],
                 ["report", "-o", str(tmp_path / "r.html")], ["check"],
                 ["ingest", "--quarantined"], ["ingest", "--quarantined", "--json"]):
        done = roller("--db", str(db), *args)
        assert done.returncode == 0, (args, done.stderr)
        assert "\x1b" not in done.stdout + done.stderr, args
    listed = roller("--db", str(db), "ingest", "--quarantined").stdout.splitlines()
    assert len(listed) == len(POISONS) and all(TOPIC in line for line in listed)
    assert any("gym-2" in line for line in listed)


@pytest.mark.cli
def test_a_gateway_cannot_speak_for_another_nor_take_its_people(
        tmp_path: Path, template: dict[str, Any], acl_broker: Broker) -> None:
    """Against mosquitto running roller.acl: gym-1, on its own topic, sends a record saying
    it is gym-2's, and one reusing gym-2's person's uid. Neither lands as gym-2's."""

    def publish(user: str, payload: bytes) -> None:
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(acl_broker.auth_port),
                        "-u", user, "-P", password(user), "-q", "1", "-t",
                        f"roller/bridge/{user}/session", "-s"], input=payload, check=True)

    theirs = json.loads(fresh(template, 7))
    theirs["gateway"] = "gym-2"
    ada = {**theirs["person"], "name": "Ada"}
    theirs["person"] = ada
    forged = {**json.loads(fresh(template, 1)), "gateway": "gym-2"}
    reused = {**json.loads(fresh(template, 1)), "person": {**ada, "name": "Ada"}}
    with running(tmp_path, "--db", str(tmp_path / "central.db"), "-v", "ingest",
                 env=acl_broker.env_as("ingest")) as proc:
        wait_for(lambda: "subscribing" in (proc.stderr.readline() if proc.stderr else ""), 20)
        publish("gym-2", json.dumps(theirs).encode())
        publish("gym-1", json.dumps(forged).encode())
        publish("gym-1", json.dumps(reused).encode())
        wait_for(lambda: len(central(tmp_path, "SELECT id FROM sessions")) == 2, 20)
        wait_for(lambda: len(central(tmp_path, "SELECT id FROM quarantine")) == 1, 20)
        err = stopped(proc)
    assert err.count("quarantined a message") == 1 and "gym-2" in err
    rows = central(tmp_path, "SELECT s.uid, s.origin, p.name, p.origin, p.origin_uid "
                             "FROM sessions s JOIN people p ON p.id = s.person_id ORDER BY s.id")
    assert rows == [(theirs["uid"], "gym-2", "Ada", "gym-2", ada["uid"]),
                    (reused["uid"], "gym-1", "Ada (gym-1)", "gym-1", ada["uid"])]
    assert central(tmp_path, "SELECT reason FROM quarantine")[0][0].startswith(
        "the record says gateway 'gym-2'")


CONTROLS = "\x1b[2J\n\r\x07\x7f\x85\x9b\x00\u2028"


def test_visible_shows_every_control_character_on_one_line() -> None:
    from tracker.core.limits import quote, visible

    shown = visible(f"Ada{CONTROLS}!")
    assert shown.startswith("Ada") and shown.endswith("!") and shown.isprintable()
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in shown)
    assert visible("Zoë Straße 東京") == "Zoë Straße 東京"  # plain text unchanged
    assert quote(f"x{CONTROLS}", bare=True).isprintable()


@pytest.mark.cli
def test_a_name_from_elsewhere_prints_on_one_line_without_control_bytes(
        roller: Run, tmp_path: Path) -> None:
    """A name an older ingest let in: every command that prints it shows it, never obeys."""
    db = tmp_path / "central.db"
    assert roller("--db", str(db), "people", "add", "Ada").returncode == 0
    with closing(open_store(db)) as store:
        store.db.execute("UPDATE people SET name = ?", [f"A{CONTROLS}\nroller: error: forged"])
        store.db.conn.commit()
    for args in (["people", "list"], ["schedule"], ["weeks"], ["history"],
                 ["people", "remove", "nobody"]):
        done = roller("--db", str(db), *args)
        said = done.stdout + done.stderr
        assert not any((ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F
                       for c in said), (args, said)
        assert not any(line.startswith("roller: error: forged") for line in said.splitlines())


@pytest.mark.cli
def test_a_decomposed_or_full_width_name_is_the_same_name(roller: Run,
                                                         tmp_path: Path) -> None:
    db = str(tmp_path / "r.db")
    added = roller("--db", db, "people", "add", "Zoe\u0308")  # as macOS types it
    assert added.returncode == 0, added.stderr
    assert "Zo\u00eb" in roller("--db", db, "people", "list").stdout  # kept composed
    for spelling in ("ZO\u00cb", "zoe\u0308", "\uff3a\uff4f\uff45\u0308"):
        found = roller("--db", db, "schedule", "--person", spelling)
        assert found.returncode == 0, (spelling, found.stderr)
    again = roller("--db", db, "people", "add", "\uff3a\uff4f\u00eb")
    assert again.returncode == 2 and "already" in again.stderr
