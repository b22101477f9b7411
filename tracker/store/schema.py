"""The store's tables, and the migrations that bring any earlier store up to date.

The schema version lives in ``PRAGMA user_version``; :data:`MIGRATIONS` run in order, all in
one transaction, when a store is opened.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tracker.core.people import FIRST_PERSON, name_key
from tracker.store.errors import StoreError, atomic

if TYPE_CHECKING:
    import sqlite_utils


def _v1(db: sqlite_utils.Database) -> None:
    db.table("devices").create(
        {"address": str, "name": str, "first_seen": str, "last_seen": str}, pk="address"
    )
    db.table("sessions").create(
        {
            "id": int, "device": str, "routine": str, "status": str, "end_reason": str,
            "started_at": str, "ended_at": str, "zone": str, "source": str,
            "sample_rate_hz": float, "diameter_cm": float, "height_cm": float,
            "clock_start_s": float, "duration_s": float, "active_s": float, "paused_s": float,
            "strokes": int, "cadence_cpm": float, "glutes_active_s": float,
            "lumbar_events": int, "pauses": str, "override": int, "verdict": str,
            "checkpoint_at": str,
        },
        pk="id",
        foreign_keys=[("device", "devices", "address")],
        not_null={"routine", "status", "started_at", "zone"},
        defaults={"override": 0, "lumbar_events": 0},
    )
    for table, columns in {
        "segments": {"session_id": int, "region": str, "start_s": float, "end_s": float},
        "lumbar_events": {"session_id": int, "start_s": float, "end_s": float, "alert_s": float},
        "raw_blocks": {"session_id": int, "seq": int, "t0_s": float, "samples": int,
                       "data": bytes},
    }.items():
        db.table(table).create(columns, foreign_keys=[("session_id", "sessions", "id")])
        db.table(table).create_index(["session_id"])
    db.table("outbox").create(
        {"id": int, "created_at": str, "kind": str, "session_id": int, "payload": str,
         "sent_at": str},
        pk="id",
    )
    db.table("sessions").create_index(["started_at"])


def _v2(db: sqlite_utils.Database) -> None:
    """Radio outages a session survived: JSON list of [lost_at, restored_at] (UTC ISO)."""
    db.table("sessions").add_column("link_gaps", str)
    db.execute("UPDATE sessions SET link_gaps = '[]'")


def _v3(db: sqlite_utils.Database) -> None:
    """Pairing: the roller ``roller track`` uses unless told otherwise."""
    db.table("devices").add_column("paired", int, not_null_default=0)


def _v4(db: sqlite_utils.Database) -> None:
    """Home Assistant discovery topics we published, so forget and purge can clear them."""
    db.table("mqtt_discovery").create({"topic": str, "device": str, "published_at": str},
                                      pk="topic")


def _v5(db: sqlite_utils.Database) -> None:
    """Device profiles and calibrations: what kind of sensor, and how it sits in its roller."""
    db.table("devices").add_column("profile", str, not_null_default="roller")
    db.table("devices").add_column("mounting", str)
    db.table("devices").add_column("calibrated_at", str)


def _v6(db: sqlite_utils.Database) -> None:
    """Who each device is (Device Information), so Home Assistant names it before it connects."""
    for column in ("manufacturer", "model", "firmware"):
        db.table("devices").add_column(column, str)


def _v7(db: sqlite_utils.Database) -> None:
    """Who records a live session (:mod:`tracker.store.owner`), and the fingerprint of an
    imported file, so the same file imported again is recognised."""
    db.table("sessions").add_column("owner", str)
    db.table("sessions").add_column("digest", str)
    db.table("sessions").create_index(["digest"])


def _v8(db: sqlite_utils.Database) -> None:
    """Lumbar cautions (the contact possibly in the band). Sessions analysed before they
    existed keep NULL, "not assessed", until ``roller reanalyze``: never a silent zero."""
    db.table("sessions").add_column("caution_events", int)
    db.table("caution_events").create({"session_id": int, "start_s": float, "end_s": float},
                                      foreign_keys=[("session_id", "sessions", "id")])
    db.table("caution_events").create_index(["session_id"])


def _v9(db: sqlite_utils.Database) -> None:
    """People sharing a roller (:mod:`tracker.core.people`). Every store has at least one: the
    first, who owns every session from before people existed and follows the configuration
    in everything, as that store did. A roller may have a default person."""
    import secrets  # the first person's uid, as people.add mints one (imported there alike)

    db.table("people").create(
        {"id": int, "uid": str, "name": str, "name_key": str, "height_cm": float, "zone": str,
         "rules": str, "is_default": int, "created_at": str},
        pk="id", not_null={"uid", "name", "name_key", "rules", "is_default"},
        defaults={"rules": "{}", "is_default": 0})
    # name_key is the name case-folded in Python (SQLite's NOCASE folds ASCII only).
    db.execute("CREATE UNIQUE INDEX people_name ON people (name_key)")
    db.execute("CREATE UNIQUE INDEX people_uid ON people (uid)")
    db.execute("INSERT INTO people (uid, name, name_key, is_default, created_at) VALUES "
               "(?, ?, ?, 1, strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))",
               [secrets.token_hex(4), FIRST_PERSON, name_key(FIRST_PERSON)])
    db.table("sessions").add_column("person_id", int)
    db.execute("UPDATE sessions SET person_id = (SELECT id FROM people)")
    db.table("sessions").create_index(["person_id", "started_at"])
    db.table("devices").add_column("person_id", int)


def _v10(db: sqlite_utils.Database) -> None:
    """Sessions of several parts (an area each, from its own landmark) and the lifts
    between them; ``areas`` lists a session's parts' areas in order (the schedule's days).
    A session from before has one part, its routine. ``switches`` keeps the areas asked for
    and when (a recording's ``parts``), so a re-analysis splits it as it was; ``program``
    the run it followed."""
    db.table("parts").create(
        {"session_id": int, "seq": int, "routine": str, "asked_s": float, "start_s": float,
         "end_s": float, "strokes": int},
        foreign_keys=[("session_id", "sessions", "id")])
    db.table("parts").create_index(["session_id"])
    db.table("lifts").create({"session_id": int, "start_s": float, "end_s": float},
                             foreign_keys=[("session_id", "sessions", "id")])
    db.table("lifts").create_index(["session_id"])
    db.table("sessions").add_column("areas", str)
    db.table("sessions").add_column("switches", str)
    db.table("sessions").add_column("program", str)
    db.execute("UPDATE sessions SET areas = routine")


def _v11(db: sqlite_utils.Database) -> None:
    """Sessions known beyond this store: ``uid`` names each one everywhere (a central store
    takes each once, by it); ``origin`` is the gateway a session came from (NULL: recorded
    here). People are matched across stores by their ``uid``."""
    db.table("sessions").add_column("uid", str)
    db.table("sessions").add_column("origin", str)
    for (session_id,) in db.execute("SELECT id FROM sessions").fetchall():
        db.execute("UPDATE sessions SET uid = ? WHERE id = ?", [uuid.uuid4().hex, session_id])
    db.execute("CREATE UNIQUE INDEX sessions_uid ON sessions (uid)")


def _v12(db: sqlite_utils.Database) -> None:
    """Which way round each part lay: ``end_for_end`` when the carry before it turned the
    roller round (its travel was read so), ``orientation_unsure`` when that could not be
    told. Parts from before were read as laid at the start, and are not marked."""
    db.table("parts").add_column("end_for_end", int, not_null_default=0)
    db.table("parts").add_column("orientation_unsure", int, not_null_default=0)


def _v13(db: sqlite_utils.Database) -> None:
    """What a roller's owner calls it (``roller devices rename``, or Home Assistant): two
    rollers that advertise one name are told apart. Null: not named yet."""
    db.table("devices").add_column("label", str)


def _v14(db: sqlite_utils.Database) -> None:
    """Trust nothing that arrives. A person known from a gateway is that gateway's
    (``origin``, and ``origin_uid`` their uid there): another gateway naming the same uid is
    someone else, never given their sessions. A person ingested before is the first
    gateway whose session they have. ``quarantine`` keeps what the ingest refused (its
    topic, why, its bytes), acknowledged so that it never blocks the intake again. Names are
    compared by their NFKC case fold now: each key made again (a key another person's
    name already folds to is left as it was, for its owner to rename)."""
    db.table("people").add_column("origin", str)
    db.table("people").add_column("origin_uid", str)
    db.execute("UPDATE people SET origin = (SELECT s.origin FROM sessions s WHERE "
               "s.person_id = people.id AND s.origin IS NOT NULL ORDER BY s.id LIMIT 1)")
    db.execute("UPDATE people SET origin_uid = uid WHERE origin IS NOT NULL")
    db.execute("CREATE UNIQUE INDEX people_origin ON people (origin, origin_uid)")
    for person_id, name in db.execute("SELECT id, name FROM people").fetchall():
        key = name_key(name)
        if not db.execute("SELECT 1 FROM people WHERE name_key = ? AND id != ?",
                          [key, person_id]).fetchone():
            db.execute("UPDATE people SET name_key = ? WHERE id = ?", [key, person_id])
    db.table("quarantine").create(
        {"id": int, "received_at": str, "topic": str, "reason": str, "payload": bytes},
        pk="id", not_null={"received_at", "topic", "reason", "payload"})


def _v15(db: sqlite_utils.Database) -> None:
    """A clinician's prescriptions (``roller prescription import``): the file's ``text`` as
    it was imported (what ``show`` prints; parsed again when read), where it came from
    (``source``), when it was imported and, once ended (by ``end``, or by the next import
    for the same person), when. A person has at most one not ended."""
    db.table("prescriptions").create(
        {"id": int, "person_id": int, "source": str, "text": str, "imported_at": str,
         "ended_at": str},
        pk="id", not_null={"person_id", "source", "text", "imported_at"},
        foreign_keys=[("person_id", "people", "id")])
    db.execute("CREATE UNIQUE INDEX prescriptions_running ON prescriptions (person_id) "
               "WHERE ended_at IS NULL")


def _v16(db: sqlite_utils.Database) -> None:
    """Comfort scores (0 none to 10 worst), one per part of a session (``seq`` its place),
    with its area kept beside it: a re-analysis rewrites the parts, never what the person
    said. ``alerts_raised`` remembers each alert the gateway has sent (a person, a kind and
    what it is about, such as the last day rolled), so that a restart does not send it
    again."""
    db.table("comfort").create(
        {"session_id": int, "seq": int, "area": str, "score": int, "given_at": str},
        pk=("session_id", "seq"), not_null={"area", "score", "given_at"},
        foreign_keys=[("session_id", "sessions", "id")])
    db.table("alerts_raised").create(
        {"person_id": int, "kind": str, "about": str, "raised_at": str},
        pk=("person_id", "kind", "about"), not_null={"raised_at"},
        foreign_keys=[("person_id", "people", "id")])


def _v17(db: sqlite_utils.Database) -> None:
    """Each ended session's track (position over time, as the estimator gave it: about
    10 points a second), ``points`` float64 triples in ``data`` (see ``codec.pack_track``),
    so that ``roller session show`` draws what was stored without reading the samples or
    running the estimator again. Sessions stored before have none until ``roller
    reanalyze``; their show analyses their samples again, as it did."""
    db.table("tracks").create({"session_id": int, "points": int, "data": bytes},
                              pk="session_id", not_null={"points", "data"},
                              foreign_keys=[("session_id", "sessions", "id")])


#: Migrations in order: MIGRATIONS[n] takes a store from version n to n + 1.
MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _v1, _v2, _v3, _v4, _v5, _v6, _v7, _v8, _v9, _v10, _v11, _v12, _v13, _v14, _v15, _v16,
    _v17]
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(db: sqlite_utils.Database, path: Path) -> None:
    """Bring a store up to :data:`SCHEMA_VERSION` in one transaction. The version is read
    again inside it, so two programs opening a new store at once migrate it once."""
    _ours(db, path)  # before WAL mode changes the file
    db.enable_wal()
    with atomic(db, path):
        version = _ours(db, path)
        for step in MIGRATIONS[version:]:
            step(db)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _ours(db: sqlite_utils.Database, path: Path) -> int:
    """The store's schema version; another program's SQLite file is refused untouched."""
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version == 0 and db.table_names():
        raise StoreError(f"{path}: an SQLite file, but not a roller store")
    return version
