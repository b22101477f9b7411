"""``roller ingest`` on loopback: sessions a second into one store, and how long from a
record published to its row committed (p50, p99), with and without raw samples.

Many gateways are played by one publisher sending a real gateway's record of a 2-minute
session under new session and person ids (40 people), as fast as the broker takes them;
the ingest is the real one (:class:`tracker.mqtt.ingest.Ingest`) in this process, against a
real mosquitto. Published all at once, the rate is the most one ingest takes (and the delay
mostly the queue); published at a steady load, the delay is what a session waits. Targets on
this machine: at least 500 sessions a second without raw samples, p99 under 1 s. Run:
``make bench`` (or ``python -m bench.ingest --sessions 2000``).
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import threading
import time
import uuid
from contextlib import closing
from pathlib import Path

import numpy as np
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from firmware_sim.session import simulate
from tests.broker import create
from tracker.config import load
from tracker.core import clock
from tracker.core.body import Body
from tracker.core.estimate import SessionEstimator
from tracker.core.formats.roller_imu import Recording
from tracker.core.formats.roller_session import SessionRecord, encode
from tracker.core.lifecycle import Lifecycle
from tracker.live.recorder import store_recording
from tracker.mqtt.ingest import Ingest
from tracker.store import exchange
from tracker.store.opening import open_store
from tracker.store.rows import SessionStart

PEOPLE = [uuid.uuid4().hex[:8] for _ in range(40)]


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


def messages(record: SessionRecord, count: int, raw: bool) -> list[tuple[str, bytes]]:
    """``count`` sessions of 20 gateways and 40 people: (uid, payload)."""
    out = []
    for i in range(count):
        person = dataclasses.replace(record.person, uid=PEOPLE[i % len(PEOPLE)],
                                     name=f"person {i % len(PEOPLE)}")
        one = dataclasses.replace(record, uid=uuid.uuid4().hex, gateway=f"gym-{i % 20}",
                                  person=person, raw=record.raw if raw else None)
        out.append((one.uid, encode(one)))
    return out


def run(port: int, folder: Path, batch: list[tuple[str, bytes]],
        pace_per_s: float | None = None) -> tuple[float, list[float]]:
    """Sessions a second, and each one's published-to-committed delay (s): published all at
    once (the most it takes), or ``pace_per_s`` a second (a steady load)."""
    settings = load(env={"ROLLER_MQTT_HOST": "127.0.0.1", "ROLLER_MQTT_PORT": str(port)}).mqtt
    sent: dict[str, float] = {}
    committed: dict[str, float] = {}
    take = exchange.take

    def timed_take(store: object, rec: SessionRecord) -> int | None:
        result = take(store, rec)  # type: ignore[arg-type]
        committed[rec.uid] = time.perf_counter()
        return result

    exchange.take = timed_take  # type: ignore[assignment]
    ingests: list[Ingest] = []

    def ingest() -> None:  # the store is opened in the thread that writes it (SQLite's rule)
        with closing(open_store(folder / f"central-{uuid.uuid4().hex[:6]}.db")) as store:
            ingests.append(Ingest(settings, store, f"bench-ingest-{uuid.uuid4().hex[:6]}"))
            ingests[0].run()

    worker = threading.Thread(target=ingest, daemon=True)
    worker.start()
    time.sleep(1.0)  # subscribed
    publisher = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-gateways")
    publisher.max_inflight_messages_set(100)
    publisher.connect("127.0.0.1", port)
    publisher.loop_start()
    first = time.perf_counter()
    for i, (uid, payload) in enumerate(batch):
        if pace_per_s:
            time.sleep(max(0.0, first + i / pace_per_s - time.perf_counter()))
        sent[uid] = time.perf_counter()
        publisher.publish("roller/bridge/gym/session", payload, qos=1)
    deadline = time.monotonic() + 600
    while len(committed) < len(batch) and time.monotonic() < deadline:
        time.sleep(0.05)
    last = max(committed.values())
    publisher.loop_stop()
    publisher.disconnect()
    ingests[0].stop()
    worker.join(10)
    exchange.take = take  # type: ignore[assignment]
    return len(batch) / (last - first), [committed[u] - sent[u] for u in sent if u in committed]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=2000)
    n = parser.parse_args().sessions
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        record = template(folder)
        broker = create(folder / "broker")
        broker.start()
        try:
            print(f"bench.ingest: {n} sessions of 2 min from 20 gateways, 40 people, one ingest")
            for raw, pace in ((False, None), (True, None), (False, 200.0), (True, 50.0)):
                batch = messages(record, n if not raw else n // 4, raw)
                size = np.mean([len(p) for _, p in batch]) / 1024
                rate, delays = run(broker.port, folder, batch, pace)
                load = f"{pace:.0f} a second" if pace else "all at once"
                print(f"{'with' if raw else 'without'} raw samples ({size:.0f} KiB a session), "
                      f"{len(batch)} published {load}: {rate:.0f} sessions/s; published to "
                      f"committed p50 {np.percentile(delays, 50) * 1000:.0f} ms, "
                      f"p99 {np.percentile(delays, 99) * 1000:.0f} ms")
        finally:
            broker.stop()


if __name__ == "__main__":
    main()
