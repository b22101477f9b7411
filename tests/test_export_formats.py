"""The FIT and FHIR builders, read back by readers that are not ours: ``fitdecode`` (with its
own FIT profile and CRC check) for FIT, ``fhir.resources`` (pydantic models of FHIR R4B,
whose Bundle, Observation and Patient are R4's) for FHIR; every code and system we emit is
checked against the table docs/clinician.md gives. Property-based over arbitrary sessions:
every file decodes and every Bundle validates."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import fitdecode
import pytest
from fhir.resources.R4B.bundle import Bundle
from fitdecode.profile import FIELD_TYPES
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.core.body import ROUTINES
from tracker.core.errors import InputError
from tracker.core.formats.activity import Activity, AreaRolled, areas_rolled
from tracker.core.formats.fhir import Subject, bundle
from tracker.core.formats.fit import EXERCISES, activity_file
from tracker.core.formats.roller_analysis import Analysis, LumbarEvent, Part

START = datetime(2026, 11, 16, 19, 0, tzinfo=UTC)
ADA = Subject("0123abcd", "Ada Lovelace")


def session(parts: list[tuple[str, float, float, int, int]], session_id: int = 7,
            started_at: datetime = START, zone: str = "Europe/Berlin") -> Activity:
    rolled = tuple(AreaRolled(*p) for p in parts)
    duration_s = max((p.end_s for p in rolled), default=0.0)
    return Activity(session_id, started_at, zone, duration_s, duration_s * 0.9,
                    sum(p.strokes for p in rolled), sum(p.lumbar_contacts for p in rolled),
                    rolled)


TWO_AREAS = session([("upper_back", 0.0, 120.0, 50, 1), ("glutes", 130.0, 300.5, 71, 0)])


def decoded(data: bytes) -> dict[str, list[dict[str, Any]]]:
    """Every data message of a FIT file by name, each as its fields; the CRC checked."""
    found: dict[str, list[dict[str, Any]]] = {}
    with fitdecode.FitReader(io.BytesIO(data), check_crc=fitdecode.CrcCheck.ENABLED) as fit:
        for frame in fit:
            if isinstance(frame, fitdecode.FitDataMessage):
                found.setdefault(frame.name, []).append(
                    {f.name: f.value for f in frame.fields})
    return found


# -- FIT -------------------------------------------------------------------------------------

def test_a_session_is_a_fit_training_activity_with_a_set_per_part() -> None:
    fit = decoded(activity_file(TWO_AREAS))
    assert fit["file_id"][0]["type"] == "activity"
    assert fit["file_id"][0]["time_created"] == START
    (summary,) = fit["session"]
    assert (summary["sport"], summary["sub_sport"]) == ("training", "flexibility_training")
    assert summary["start_time"] == START
    assert summary["total_elapsed_time"] == pytest.approx(300.5)
    assert summary["num_laps"] == 2
    sets = fit["set"]
    assert [s["set_type"] for s in sets] == ["active", "active"]
    assert [s["duration"] for s in sets] == [pytest.approx(120.0), pytest.approx(170.5)]
    assert [s["repetitions"] for s in sets] == [50, 71]
    assert [s["start_time"] for s in sets] == [START, START + timedelta(seconds=130)]
    assert [s["category"] for s in sets] == ["warm_up", "warm_up"]
    names = FIELD_TYPES["warm_up_exercise_name"].enum
    assert [names[s["category_subtype"]] for s in sets] == ["back_roll_foam_roller",
                                                             "glutes_stretch"]
    assert [lap["total_elapsed_time"] for lap in fit["lap"]] == [pytest.approx(120.0),
                                                                  pytest.approx(170.5)]
    assert {(lap["sport"], lap["sub_sport"]) for lap in fit["lap"]} \
        == {("training", "flexibility_training")}
    (closing,) = fit["activity"]
    assert closing["num_sessions"] == 1
    # local_timestamp: Berlin's clock at the end (UTC+1 in November)
    assert abs(closing["local_timestamp"].replace(tzinfo=None)
               - datetime(2026, 11, 16, 20, 5)) <= timedelta(seconds=1)


def test_every_area_names_a_fit_exercise_fitdecode_knows() -> None:
    """The table of docs/clinician.md, as FIT's own profile (fitdecode's copy) names it."""
    categories = FIELD_TYPES["exercise_category"].enum
    names = FIELD_TYPES["warm_up_exercise_name"].enum
    assert {area: (categories[c.value], names[n.value]) for area, (c, n) in EXERCISES.items()} \
        == {"upper_back": ("warm_up", "back_roll_foam_roller"),
            "glutes": ("warm_up", "glutes_stretch"),
            "hamstrings": ("warm_up", "stretch_hamstring"),
            "calves": ("warm_up", "stretch_calf")}
    assert set(EXERCISES) == set(ROUTINES)


def test_more_strokes_than_a_fit_set_holds_are_capped_not_wrapped() -> None:
    fit = decoded(activity_file(session([("calves", 0.0, 60.0, 70_000, 0)])))
    assert fit["set"][0]["repetitions"] == 65534


def test_a_session_fit_cannot_date_is_refused_in_one_line() -> None:
    with pytest.raises(InputError, match="FIT holds times from 1990 to 2126"):
        activity_file(session([("calves", 0.0, 60.0, 1, 0)],
                              started_at=datetime(2150, 1, 1, tzinfo=UTC)))


# -- FHIR ------------------------------------------------------------------------------------

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OURS = "https://roller.invalid/fhir/CodeSystem/"
#: Every (system, code, display) a Bundle may hold: docs/clinician.md's table.
CODES = {
    ("http://terminology.hl7.org/CodeSystem/observation-category", "activity", "Activity"),
    (LOINC, "55411-3", "Exercise duration"),
    (LOINC, "73985-4", "Exercise activity"),
    (OURS + "roller", "foam-rolling", "Foam rolling"),
    (OURS + "roller", "active-time", "Time rolling, less pauses and lifts"),
    (OURS + "roller", "strokes", "Strokes"),
    (OURS + "roller", "lumbar-contacts", "Contacts with the lumbar spine"),
    (OURS + "area", "upper_back", "Upper back"),
    (OURS + "area", "glutes", "Glutes"),
    (OURS + "area", "hamstrings", "Hamstrings"),
    (OURS + "area", "calves", "Calves"),
}
IDENTIFIER_SYSTEMS = {"https://roller.invalid/fhir/NamingSystem/person-uid",
                      "https://roller.invalid/fhir/NamingSystem/session"}


def walk(value: Any) -> list[dict[str, Any]]:
    """Every JSON object inside ``value``."""
    if isinstance(value, dict):
        return [value, *(o for v in value.values() for o in walk(v))]
    if isinstance(value, list):
        return [o for v in value for o in walk(v)]
    return []


def check_codes(data: dict[str, Any]) -> None:
    """Every coding is one of :data:`CODES`, every quantity UCUM minutes, every identifier
    ours, every status final."""
    for found in walk(data):
        if "code" in found and "system" in found and "unit" not in found:
            assert (found["system"], found["code"], found.get("display")) in CODES, found
        if "unit" in found:
            assert (found["system"], found["code"], found["unit"]) == (UCUM, "min", "min")
        if "value" in found and "system" in found and "code" not in found:
            assert found["system"] in IDENTIFIER_SYSTEMS, found
        if found.get("resourceType") == "Observation":
            assert found["status"] == "final"


def valid(data: dict[str, Any]) -> Bundle:
    """The Bundle as fhir.resources reads it (a JSON round trip first: what a file holds)."""
    return Bundle.model_validate(json.loads(json.dumps(data)))


def test_a_session_is_an_exercise_activity_with_its_duration_per_area() -> None:
    data = bundle([(ADA, TWO_AREAS)], START + timedelta(days=1))
    check_codes(data)
    model = valid(data)
    assert model.type == "collection"
    patient, activity, duration = (e.resource for e in model.entry)
    assert patient.identifier[0].value == "0123abcd" and patient.name[0].text == "Ada Lovelace"
    assert activity.code.coding[0].code == "73985-4"
    assert activity.valueCodeableConcept.coding[0].code == "foam-rolling"
    assert activity.hasMember[0].reference == model.entry[2].fullUrl
    assert {c.code.coding[0].code: c.valueInteger for c in activity.component} \
        == {"lumbar-contacts": 1, "strokes": 121}
    assert duration.code.coding[0].code == "55411-3"
    assert float(duration.valueQuantity.value) == pytest.approx(300.5 / 60, abs=0.01)
    assert {c.code.coding[0].code: float(c.valueQuantity.value) for c in duration.component} \
        == {"active-time": pytest.approx(300.5 * 0.9 / 60, abs=0.01),
            "upper_back": 2.0, "glutes": pytest.approx(170.5 / 60, abs=0.01)}
    for observation in (activity, duration):
        assert observation.subject.reference == model.entry[0].fullUrl
        assert observation.effectivePeriod.start == START
        assert observation.effectivePeriod.end == START + timedelta(seconds=300)  # to the s
        assert observation.category[0].coding[0].code == "activity"


def test_sessions_of_two_people_are_one_bundle_with_each_patient_once() -> None:
    ben = Subject("feedbeef", "Ben")
    sessions = [(ADA, TWO_AREAS), (ben, session([("calves", 0, 60, 9, 0)], session_id=8)),
                (ADA, session([("glutes", 0, 90, 30, 2)], session_id=9))]
    data = bundle(sessions, START)
    check_codes(data)
    model = valid(data)
    kinds = [e.resource.__resource_type__ for e in model.entry]
    assert kinds == ["Patient", "Patient", *["Observation"] * 6]
    urls = [e.fullUrl for e in model.entry]
    assert len(set(urls)) == len(urls)
    assert all(e.resource.id == e.fullUrl.removeprefix("urn:uuid:") for e in model.entry)
    assert bundle(sessions, START) == data  # the same sessions, the same Bundle


def test_an_area_rolled_twice_is_one_component() -> None:
    data = bundle([(ADA, session([("glutes", 0, 60, 9, 0), ("calves", 60, 90, 9, 0),
                                  ("glutes", 90, 150, 9, 0)]))], START)
    duration = data["entry"][2]["resource"]
    assert [c["code"]["coding"][0]["code"] for c in duration["component"]] \
        == ["active-time", "glutes", "calves"]
    assert duration["component"][1]["valueQuantity"]["value"] == 2.0


def test_what_validation_refuses_is_refused() -> None:
    """The validator is not a rubber stamp: an element FHIR does not have fails."""
    data = bundle([(ADA, TWO_AREAS)], START)
    data["entry"][1]["resource"]["durationOfExercise"] = 5
    with pytest.raises(ValueError, match="durationOfExercise"):
        valid(data)


# -- from an analysis ------------------------------------------------------------------------

def test_an_analysis_parts_carry_their_lumbar_contacts() -> None:
    analysis = Analysis(
        routine="upper_back", start_s=10.0, duration_s=200.0, pauses=[], strokes=40,
        segments=[], lumbar_events=[LumbarEvent(50.0, 52.0, 51.0), LumbarEvent(150.0, 151.0,
                                                                                150.5)],
        track_t_s=[], track_s_cm=[],
        parts=[Part("upper_back", 10.0, 10.0, 100.0, 20), Part("glutes", 100.0, 110.0,
                                                                 210.0, 20)])
    assert areas_rolled(analysis) == (AreaRolled("upper_back", 0.0, 90.0, 20, 1),
                                      AreaRolled("glutes", 100.0, 200.0, 20, 1))


# -- any session -----------------------------------------------------------------------------

@st.composite
def activities(draw: st.DrawFn) -> Activity:
    """A session of 0 to 6 parts, each after the last, with any strokes and contacts."""
    t_s = 0.0
    parts = []
    for _ in range(draw(st.integers(0, 6))):
        t_s += draw(st.floats(0, 600))
        length_s = draw(st.floats(0, 4 * 3600))
        parts.append(AreaRolled(draw(st.sampled_from(ROUTINES)), t_s, t_s + length_s,
                                draw(st.integers(0, 10**6)), draw(st.integers(0, 10**4))))
        t_s += length_s
    duration_s = t_s + draw(st.floats(0, 600))
    started_at = draw(st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1),
                                   timezones=st.just(UTC)))
    return Activity(draw(st.integers(1, 2**63 - 1)), started_at,
                    draw(st.sampled_from(["UTC", "Europe/Berlin", "Pacific/Kiritimati",
                                          "America/St_Johns"])),
                    duration_s, draw(st.floats(0, duration_s)), sum(p.strokes for p in parts),
                    draw(st.integers(0, 10**4)), tuple(parts))


@settings(max_examples=60, deadline=None)
@given(activities())
def test_any_session_is_a_fit_file_that_decodes(activity: Activity) -> None:
    fit = decoded(activity_file(activity))
    assert [s["duration"] for s in fit.get("set", [])] \
        == [pytest.approx(p.duration_s, abs=0.001) for p in activity.parts]
    assert [s["repetitions"] for s in fit.get("set", [])] \
        == [min(p.strokes, 65534) for p in activity.parts]
    assert abs(fit["session"][0]["start_time"] - activity.started_at) <= timedelta(seconds=1)
    assert (fit["session"][0]["sport"], fit["session"][0]["sub_sport"]) \
        == ("training", "flexibility_training")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([ADA, Subject("beef0001", "Ben")]), activities()),
                max_size=4))
def test_any_sessions_are_a_bundle_that_validates(sessions: list[tuple[Subject, Activity]]
                                                  ) -> None:
    data = bundle(sessions, START)
    check_codes(data)
    model = valid(data)
    observations = [e for e in model.entry if e.resource.__resource_type__ == "Observation"]
    assert len(observations) == 2 * len(sessions)
