"""People sharing one roller: each their own body, lumbar band, schedule and sessions."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.broker import Broker, Subscriber
from tests.test_cli import assert_one_line_error
from tests.test_mqtt import PERSON_ENTITIES
from tracker.config import load
from tracker.core import clock
from tracker.core.people import PersonError, check_name
from tracker.core.schedule import Verdict
from tracker.live.admission import check_start
from tracker.store.opening import open_store

Run = Callable[..., subprocess.CompletedProcess[str]]



def test_each_person_has_their_own_lumbar_band_and_quota(tmp_path: Path, glutes_file: Path,
                                                         roller: Run) -> None:
    db = str(tmp_path / "roller.db")
    assert roller("--db", db, "people", "add", "Ada", "--height-cm", "160").returncode == 0
    assert roller("--db", db, "people", "add", "Ben", "--height-cm", "190",
                  "--glutes-per-week", "2").returncode == 0
    stored = roller("--db", db, "import", "--person", "ada", "--at", "2026-11-16T19:00",
                    str(glutes_file))
    assert stored.returncode == 0, stored.stderr
    settings = load(env={})
    with closing(open_store(Path(db))) as store:
        ada, ben = store.people.named("Ada"), store.people.named("BEN")
        a, b = settings.for_person(ada), settings.for_person(ben)
        # 30 cm of height apart: the lumbar bands start 10 cm apart
        assert b.body.lumbar_cm[0] - a.body.lumbar_cm[0] == pytest.approx(0.33 * 30)
        assert (a.rules.glute_sessions_per_week, b.rules.glute_sessions_per_week) == (3, 2)
        tuesday = datetime(2026, 11, 17, 18, tzinfo=UTC)
        assert check_start(store, a, "glutes", tuesday)[0] is Verdict.TOO_SOON
        assert check_start(store, b, "glutes", tuesday)[0] is Verdict.ALLOWED
        assert [r.person_id for r in store.sessions()] == [ada.id]
    week = roller("--db", db, "schedule", "--person", "Ben")
    assert "Ben: week of" in week.stdout and "0 of 2 done" in week.stdout
    rows = roller("--db", db, "history", "--json", "--person", "Ada").stdout.splitlines()
    assert [json.loads(r)["person"] for r in rows] == ["Ada"]
    assert roller("--db", db, "history", "--json", "--person", "Ben").stdout == ""
    assert "Ada" in roller("--db", db, "history").stdout  # a person column for several


def test_add_rename_default_remove(tmp_path: Path, glutes_file: Path, roller: Run) -> None:
    db = str(tmp_path / "roller.db")
    assert roller("--db", db, "people", "add", "Cleo", "--timezone", "Asia/Tokyo",
                  "--default").returncode == 0
    assert roller("--db", db, "import", "--at", "2026-11-16T19:00",
                  str(glutes_file)).returncode == 0  # nobody named: the default's
    listed = roller("--db", db, "people", "list").stdout
    assert "Cleo (default)" in listed and "Asia/Tokyo," in listed
    assert "175 cm (configured)" in listed  # what they did not set follows the configuration
    assert roller("--db", db, "people", "rename", "cleo", "Clea").returncode == 0
    with closing(open_store(Path(db))) as store:
        clea = store.people.named("Clea")
        assert store.people.default().id == clea.id
        assert [r.person_id for r in store.sessions()] == [clea.id]
        uid = clea.uid
    refused = roller("--db", db, "people", "remove", "Clea")
    assert_one_line_error(refused, "Clea has 1 session(s)", "--purge")
    unasked = roller("--db", db, "people", "remove", "Clea", "--purge")
    assert_one_line_error(unasked, "delete 1 session(s) of Clea", "--yes")
    removed = roller("--db", db, "people", "remove", "Clea", "--purge", "--yes")
    assert removed.returncode == 0 and "removed Clea and 1 session(s)" in removed.stderr
    with closing(open_store(Path(db))) as store:
        assert store.count() == 0 and store.db.database.table("raw_blocks").count == 0
        assert uid not in {p.uid for p in store.people.all()}
        assert store.people.default().name == "me"
    last = roller("--db", db, "people", "remove", "me")
    assert_one_line_error(last, "me is the only person")


@pytest.mark.parametrize("args, message", [
    (("people", "add", "me"), "'me' is already someone's name"),
    (("people", "add", "  "), "is not a name"),
    (("people", "add", "x" * 40), "is not a name"),
    (("people", "add", "Dee", "--timezone", "Mars/Olympus"), "not an IANA time zone"),
    (("people", "rename", "nobody", "Dee"), "nobody called 'nobody' (people: me"),
    (("people", "default", "me", "--roller", "AA:BB"), "no roller AA:BB is known"),
    (("history", "--person", "nobody"), "nobody called 'nobody'"),
    (("schedule", "--person", "nobody"), "nobody called 'nobody'"),
])
def test_bad_people_input_is_one_line(tmp_path: Path, roller: Run, args: tuple[str, ...],
                                      message: str) -> None:
    assert_one_line_error(roller("--db", str(tmp_path / "r.db"), *args), message)


@given(st.text(max_size=40))
def test_a_name_is_checked_or_refused_in_one_error(text: str) -> None:
    try:
        name = check_name(text)
    except PersonError as exc:
        assert "\n" not in str(exc)
    else:
        assert 1 <= len(name) <= 32 and name == name.strip()


def test_each_person_is_their_own_home_assistant_device(tmp_path: Path, glutes_file: Path,
                                                         roller: Run, broker: Broker) -> None:
    db = str(tmp_path / "roller.db")
    for name, height in (("Ada", "160"), ("Ben", "190")):
        assert roller("--db", db, "people", "add", name, "--height-cm", height).returncode == 0
    at = (clock.now() - timedelta(minutes=2)).isoformat(timespec="seconds")
    assert roller("--db", db, "import", "--person", "Ada", "--at", at,
                  str(glutes_file)).returncode == 0
    sub = Subscriber(broker.port, "roller/bridge/test/person/#", "homeassistant/+/+/+/config")
    tracked = roller("--db", db, "track", "--sim", "--person", "Ben", "--speed", "20",
                     "--seconds", "20", "--scenario", "clean", env=broker.env())
    assert tracked.returncode == 0, tracked.stderr
    received = sub.stop()
    with closing(open_store(Path(db))) as store:
        uids = {p.name: p.uid for p in store.people.all()}
    configs = [json.loads(p) for t, p in received if "/roller_person_" in t]
    for name in ("me", "Ada", "Ben"):
        mine = [c for c in configs if c["device"]["identifiers"] == [f"roller_person_{uids[name]}"]]
        shown = mine[0]["device"]["name"]
        # The store's placeholder "me" is never shown: a readable default stands in.
        assert len(mine) == PERSON_ENTITIES and (shown == f"{name} (roller)" if name != "me" else
                                   shown.endswith(" (roller)") and shown != "me (roller)")
        assert all(c["unique_id"].startswith(f"roller_person_{uids[name]}_") for c in mine)
    states = {t: json.loads(p) for t, p in received if t.startswith("roller/bridge/test/person/")}
    ada = states[f"roller/bridge/test/person/{uids['Ada']}/state"]
    ben = states[f"roller/bridge/test/person/{uids['Ben']}/state"]
    assert (ada["glute_sessions_this_week"], ada["sessions_this_week"]) == (1, 1)
    assert (ben["glute_sessions_this_week"], ben["sessions_this_week"]) == (0, 1)
    assert states[f"roller/bridge/test/person/{uids['me']}/state"]["sessions_this_week"] == 0
