"""``roller ingest`` on loopback: sessions a second into one store against what the broker and
the store each take alone in the same run, and how long from a record published to its row
committed (p50, p99), with and without raw samples.

Many gateways are played by one publisher (``mosquitto_pub``, a process of its own, as the
gateways are other computers) sending a real gateway's record of a 2-minute session under
new session and person ids (40 people), as fast as the broker takes them; the ingest is the
real one (:class:`tracker.mqtt.ingest.Ingest`) in this process, against a real mosquitto.
Published all at once, the rate is the most one ingest takes (and the delay mostly the
queue); published at a steady load, the delay is what a session waits.

The references, measured first on the same records in the same run (the machine is shared,
so only ratios carry): the broker alone, a bare paho subscriber draining the same messages
from the same publisher; the store alone, a plain sqlite3 loop inserting the same records
(decoded beforehand) into the same schema, a transaction a record, as a plain program keeps
each one before saying it has it. The ingest is held to 0.8 of the slower of the two. That
loop's rate follows the disk's sync, which other work on the machine slows from one run to
the next; so the same loop at 50 records a transaction (the ingest's own group commit) is
printed beside it, with the ingest's ratio to it: what parsing, checking and MQTT in one
Python process leave of the faster limit. The same flood with one poison record in every 100
(a null status, a count of 2**64, an unknown zone, a name with a terminal escape, another
gateway's name, a zlib bomb; each checked, quarantined and acknowledged) is held to within
10 % of the clean rate: refusing costs no more than taking. Run: ``make bench`` (or
``python -m bench.ingest``; ``--quick`` for a few seconds, as ``make test`` runs it).
"""
from __future__ import annotations

import base64
import dataclasses
import json
import sqlite3
import subprocess
import tempfile
import threading
import time
import uuid
import zlib
from collections.abc import Sequence, Sized
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from bench import options
from firmware_sim.session import simulate
from tests.broker import create
from tracker.config import load
from tracker.core import clock
from tracker.core.body import Body
from tracker.core.estimate import SessionEstimator
from tracker.core.formats.roller_imu import Recording
from tracker.core.formats.roller_session import DETAIL, SUMMARY, SessionRecord, encode
from tracker.core.lifecycle import Lifecycle
from tracker.live.recorder import store_recording
from tracker.mqtt.ingest import BATCH, Ingest
from tracker.store import exchange
from tracker.store.opening import open_store
from tracker.store.rows import SessionStart

PEOPLE = [uuid.uuid4().hex[:8] for _ in range(40)]
GATEWAYS = 20
#: Every gateway's session topic: each gateway publishes on its own (the topic names it).
TOPIC = "roller/bridge/+/session"
#: One poison record in every this many, in the poisoned run.
POISON_EVERY = 100
#: The poisoned rate against the clean one, at least.
POISON_TARGET = 0.9
#: The ingest against min(broker alone, store alone), at least.
TARGET = 0.8
#: A subscriber has connected and subscribed on loopback by then, and a publisher connected
#: (s).
SUBSCRIBED_S = 0.5

Batch = list[tuple[str, bytes]]


def template(folder: Path) -> SessionRecord:
    """A real gateway's record of a 2-minute upper-back session, raw samples included."""
    sim = simulate("upper_back", "stray", 120.0, seed=5, sample_rate_hz=100.0)
    h = sim.header
    with closing(open_store(folder / "gateway.db")) as store:
        start = SessionStart(h.routine, clock.now(), "UTC", "sim", h.sample_rate_hz,
                             h.roller_diameter_cm, h.user_height_cm, float(sim.samples[0, 0]))
        estimator = SessionEstimator(h.routine, Body(h.user_height_cm), h.roller_diameter_cm,
                                     h.sample_rate_hz)
        session_id = store_recording(store, start, estimator, Recording(h, sim.samples), "t",
                                     Lifecycle())
        return exchange.record(store, session_id, "gym-1", raw=True)


def messages(record: SessionRecord, count: int, raw: bool, poison: bool = False) -> Batch:
    """``count`` sessions of :data:`GATEWAYS` gateways (the i-th message the ``i %
    GATEWAYS``-th's) and 40 people: (uid, payload); with ``poison``, one in every
    :data:`POISON_EVERY` a record the ingest must refuse."""
    out = []
    for i in range(count):
        person = dataclasses.replace(record.person, uid=PEOPLE[i % len(PEOPLE)],
                                     name=f"person {i % len(PEOPLE)}")
        one = dataclasses.replace(record, uid=uuid.uuid4().hex, gateway=f"gym-{i % GATEWAYS}",
                                  person=person, raw=record.raw if raw else None)
        if poison and i % POISON_EVERY == POISON_EVERY // 2:
            out.append((one.uid, poisoned(one, i // POISON_EVERY)))
        else:
            out.append((one.uid, encode(one)))
    return out


def poisoned(record: SessionRecord, kind: int) -> bytes:
    """``record`` made poison, one of six ways in turn."""
    message = json.loads(encode(record))
    summary, person = message["summary"], message["person"]
    match kind % 6:
        case 0:
            summary["status"] = None
        case 1:
            summary["strokes"] = 2**64
        case 2:
            summary["zone"] = "Mars/Olympus_Mons"
        case 3:
            person["name"] = "Ada\x1b[2J"
        case 4:
            message["gateway"] = "gym-x"
        case _:
            message["raw"] = [[0, 0.0, 100, base64.b64encode(
                zlib.compress(b"\0" * (64 << 20), 9)).decode()]]
    return json.dumps(message, separators=(",", ":")).encode()


Publishers = list[subprocess.Popen[bytes]]


def gateways(port: int) -> Publishers:
    """The publishers, as the gateways are: a process each (``mosquitto_pub``, a line a
    message, on the gateway's own topic), not the ingest's. Started before the clock, so
    that their connecting is not counted."""
    return [subprocess.Popen(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1",
                              "-t", f"roller/bridge/gym-{g}/session", "-l"],
                             stdin=subprocess.PIPE) for g in range(GATEWAYS)]


def publish(publishers: Publishers, batch: Batch,
            pace_per_s: float | None = None) -> dict[str, float]:
    """Publish ``batch`` (QoS 1), the i-th by gateway ``i % GATEWAYS``, all at once or
    ``pace_per_s`` a second; when each went."""
    sent: dict[str, float] = {}
    first = time.perf_counter()
    for i, (uid, payload) in enumerate(batch):
        if pace_per_s:
            time.sleep(max(0.0, first + i / pace_per_s - time.perf_counter()))
        sent[uid] = time.perf_counter()
        stdin = publishers[i % GATEWAYS].stdin
        assert stdin is not None
        stdin.write(payload + b"\n")  # compact JSON: never a newline inside
        if pace_per_s:
            stdin.flush()
    for publisher in publishers:
        assert publisher.stdin is not None
        publisher.stdin.close()
    for publisher in publishers:
        publisher.wait(600)
    return sent


def until(counted: Sized, count: int) -> None:
    """Wait (at most 10 minutes) until ``count`` are counted."""
    deadline = time.monotonic() + 600
    while len(counted) < count and time.monotonic() < deadline:
        time.sleep(0.01)


def broker_alone(port: int, batch: Batch) -> float:
    """Messages a second through the broker to a bare paho subscriber (acknowledging each
    as it comes), from the first published to the last received."""
    received: list[float] = []

    def arrived(_: paho.Client, __: object, message: paho.MQTTMessage) -> None:
        received.append(time.perf_counter())

    subscriber = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-{uuid.uuid4()}")
    subscriber.on_message = arrived
    subscriber.connect("127.0.0.1", port)
    subscriber.subscribe(TOPIC, qos=1)
    subscriber.loop_start()
    publisher = gateways(port)
    time.sleep(SUBSCRIBED_S)
    sent = publish(publisher, batch)
    until(received, len(batch))
    subscriber.disconnect()
    subscriber.loop_stop()
    return len(batch) / (received[-1] - min(sent.values()))


def store_alone(path: Path, batch: Batch, per_transaction: int) -> float:
    """Records a second into the store's schema by a plain sqlite3 loop, ``per_transaction``
    records a transaction; the records decoded beforehand."""
    open_store(path).close()  # the schema and WAL, as the ingest's store has them
    records: list[dict[str, Any]] = [json.loads(payload) for _, payload in batch]
    columns = [*SUMMARY, "uid", "origin", "device", "person_id", "checkpoint_at"]
    insert = f"INSERT INTO sessions ({', '.join(columns)}) VALUES " \
             f"({', '.join('?' * len(columns))})"
    details = {table: f"INSERT INTO {table} (session_id, {', '.join(names)}) VALUES "
                      f"(?{', ?' * len(names)})" for table, names in DETAIL.items()}
    with closing(sqlite3.connect(path)) as db:
        begin = time.perf_counter()
        for first in range(0, len(records), per_transaction):
            with db:
                for r in records[first:first + per_transaction]:
                    person, summary = r["person"], r["summary"]
                    if r["device"]:
                        db.execute("INSERT INTO devices (address) VALUES (?) ON CONFLICT DO "
                                   "NOTHING", [r["device"]])
                    found = db.execute("SELECT id FROM people WHERE uid = ?",
                                       [person["uid"]]).fetchone()
                    person_id = found[0] if found else db.execute(
                        "INSERT INTO people (uid, name, name_key, rules, is_default) VALUES "
                        "(?, ?, ?, '{}', 0)", [person["uid"], person["name"],
                                               person["name"].casefold()]).lastrowid
                    session_id = db.execute(insert, [
                        *(summary[k] for k in SUMMARY), r["uid"], r["gateway"], r["device"],
                        person_id, summary["ended_at"]]).lastrowid
                    for table, sql in details.items():
                        db.executemany(sql, [(session_id, *row) for row in r[table]])
        return len(records) / (time.perf_counter() - begin)


def ingest(port: int, folder: Path, batch: Batch,
           pace_per_s: float | None = None) -> tuple[float, list[float]]:
    """Sessions a second, and each one's published-to-committed delay (s): published all at
    once (the most it takes), or ``pace_per_s`` a second (a steady load)."""
    settings = load(env={"ROLLER_MQTT_HOST": "127.0.0.1", "ROLLER_MQTT_PORT": str(port)}).mqtt
    committed: dict[str, float] = {}
    take_all = exchange.take_all

    refused: list[float] = []

    def timed_take_all(store: Any, records: Sequence[exchange.Checked],
                       quarantined: Sequence[exchange.Refused] = ()) -> list[int | None]:
        result = take_all(store, records, quarantined)
        now = time.perf_counter()
        committed.update((checked.record.uid, now) for checked in records)
        refused.extend(now for _ in quarantined)
        return result

    exchange.take_all = timed_take_all
    ingests: list[Ingest] = []

    def work() -> None:  # the store is opened in the thread that writes it (SQLite's rule)
        with closing(open_store(folder / f"central-{uuid.uuid4().hex[:6]}.db")) as store:
            ingests.append(Ingest(settings, store, f"bench-ingest-{uuid.uuid4().hex[:6]}"))
            ingests[0].run()

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    publisher = gateways(port)
    time.sleep(SUBSCRIBED_S)
    sent = publish(publisher, batch, pace_per_s)
    deadline = time.monotonic() + 600
    while len(committed) + len(refused) < len(batch) and time.monotonic() < deadline:
        time.sleep(0.01)
    ingests[0].stop()
    worker.join(10)
    exchange.take_all = take_all
    rate = len(batch) / (max([*committed.values(), *refused]) - min(sent.values()))
    return rate, [committed[u] - sent[u] for u in sent if u in committed]


def main() -> None:
    parser = options.parser(__doc__)
    parser.add_argument("--sessions", type=int, default=2000)
    args = parser.parse_args()
    n = 200 if args.quick else args.sessions
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        record = template(folder)
        broker = create(folder / "broker")
        broker.start()
        try:
            print(f"bench.ingest: {n} sessions of 2 min from 20 gateways, 40 people, one ingest")
            plain = messages(record, n, raw=False)
            broker_rate = broker_alone(broker.port, plain)
            store_rate = store_alone(folder / "alone-1.db", plain, 1)
            grouped = store_alone(folder / f"alone-{BATCH}.db", plain, BATCH)
            print(f"references, {n} records of 2 KiB: the broker alone (a bare paho "
                  f"subscriber) {broker_rate:.0f}/s; the store alone (bare sqlite3, a "
                  f"transaction a record) {store_rate:.0f}/s ({BATCH} a transaction: "
                  f"{grouped:.0f}/s)")
            clean = 0.0
            for raw, pace in ((False, None), (True, None), (False, 200.0), (True, 50.0)):
                batch = plain if not raw else messages(record, n // 4, raw=True)
                size = np.mean([len(p) for _, p in batch]) / 1024
                rate, delays = ingest(broker.port, folder, batch, pace)
                load = f"{pace:.0f} a second" if pace else "all at once"
                print(f"{'with' if raw else 'without'} raw samples ({size:.0f} KiB a session), "
                      f"{len(batch)} published {load}: {rate:.0f} sessions/s; published to "
                      f"committed p50 {np.percentile(delays, 50) * 1000:.0f} ms, "
                      f"p99 {np.percentile(delays, 99) * 1000:.0f} ms")
                if not raw and not pace:
                    clean = rate
                    print(f"  the ingest at {rate / min(broker_rate, store_rate):.2f} x "
                          f"min(broker, store) (target: at least {TARGET}); "
                          f"{rate / min(broker_rate, grouped):.2f} x min(broker, store at "
                          f"{BATCH} a transaction)")
            rate, _ = ingest(broker.port, folder, messages(record, n, raw=False, poison=True))
            print(f"without raw samples, one poison record in every {POISON_EVERY} "
                  f"(quarantined), {n} published all at once: {rate:.0f} messages/s against "
                  f"{clean:.0f}/s clean: {rate / clean:.2f} x (target: at least "
                  f"{POISON_TARGET})")
        finally:
            broker.stop()


if __name__ == "__main__":
    main()
