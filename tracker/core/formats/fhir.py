"""Sessions as an HL7 FHIR R4 Bundle, for a clinician's record system.

Pure: :func:`bundle` gives the Bundle as JSON-ready values; the command writes it. It
follows the pattern of the HL7 Physical Activity implementation guide: per session an
"Exercise activity" Observation (LOINC 73985-4, the activity as its value) whose member is an
"Exercise duration" Observation (LOINC 55411-3, minutes in UCUM), both of category
``activity``, over the session's period, about the person's Patient. What LOINC has no code
for (the areas, lumbar contacts, strokes, foam rolling itself) is coded in roller's own code
systems under :data:`BASE`, a domain reserved never to resolve (``.invalid``): a record
system keeps them as given and a mapping can name them. docs/clinician.md lists every code.

Every id is a name-based UUID of what it stands for (a person's uid, a session's), so the
same sessions export to the same Bundle, and a record system that imports it twice can tell.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from tracker.core.formats.activity import Activity

LOINC: Final = "http://loinc.org"
UCUM: Final = "http://unitsofmeasure.org"
CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
#: roller's own systems: a domain reserved never to resolve (RFC 2606), so nobody's.
BASE: Final = "https://roller.invalid/fhir"
AREA_SYSTEM: Final = f"{BASE}/CodeSystem/area"
ROLLER_SYSTEM: Final = f"{BASE}/CodeSystem/roller"
PERSON_SYSTEM: Final = f"{BASE}/NamingSystem/person-uid"
SESSION_SYSTEM: Final = f"{BASE}/NamingSystem/session"
#: The namespace of every id in a Bundle (a UUID made of roller's base).
NAMESPACE: Final = uuid.uuid5(uuid.NAMESPACE_URL, BASE)

EXERCISE_DURATION: Final = ("55411-3", "Exercise duration")
EXERCISE_ACTIVITY: Final = ("73985-4", "Exercise activity")
ACTIVITY_CATEGORY: Final = ("activity", "Activity")
FOAM_ROLLING: Final = ("foam-rolling", "Foam rolling")
ACTIVE_TIME: Final = ("active-time", "Time rolling, less pauses and lifts")
STROKES: Final = ("strokes", "Strokes")
LUMBAR_CONTACTS: Final = ("lumbar-contacts", "Contacts with the lumbar spine")
AREAS: Final[dict[str, str]] = {"upper_back": "Upper back", "glutes": "Glutes",
                                "hamstrings": "Hamstrings", "calves": "Calves"}


@dataclass(frozen=True)
class Subject:
    """Whose sessions: the person's name, and the uid that stays when they are renamed."""

    uid: str
    name: str


def _coding(system: str, code_display: tuple[str, str]) -> dict[str, Any]:
    code, display = code_display
    return {"system": system, "code": code, "display": display}


def _concept(system: str, code_display: tuple[str, str]) -> dict[str, Any]:
    return {"coding": [_coding(system, code_display)], "text": code_display[1]}


def _minutes(seconds: float) -> dict[str, Any]:
    """A duration as UCUM minutes, to the hundredth (0.6 s)."""
    return {"value": round(seconds / 60, 2), "unit": "min", "system": UCUM, "code": "min"}


def _urn(*names: object) -> str:
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, '/'.join(map(str, names)))}"


def _instant(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _entry(url: str, resource: dict[str, Any]) -> dict[str, Any]:
    """A Bundle entry: the resource's id is its ``fullUrl``'s UUID, as readers expect."""
    return {"fullUrl": url, "resource": {"resourceType": resource["resourceType"],
                                         "id": url.removeprefix("urn:uuid:"), **resource}}


def patient(subject: Subject) -> dict[str, Any]:
    """The person: their name, and their uid, which stays when they are renamed."""
    return {"resourceType": "Patient",
            "identifier": [{"system": PERSON_SYSTEM, "value": subject.uid}],
            "name": [{"text": subject.name}]}


def observations(activity: Activity, subject_ref: str) -> list[tuple[str, dict[str, Any]]]:
    """One session's two Observations, each with its ``fullUrl``: the activity (what, with
    the lumbar contacts and strokes) and its member, the duration (per area too)."""
    period = {"start": _instant(activity.started_at),
              "end": _instant(activity.started_at + timedelta(seconds=activity.duration_s))}
    common = {"status": "final",
              "category": [_concept(CATEGORY, ACTIVITY_CATEGORY)],
              "subject": {"reference": subject_ref},
              "effectivePeriod": period}
    identifier = f"{activity.session_id}@{activity.started_at.isoformat()}"
    duration_url = _urn("duration", identifier)
    activity_url = _urn("activity", identifier)
    duration = {
        "resourceType": "Observation",
        "identifier": [{"system": SESSION_SYSTEM, "value": f"{identifier}/duration"}],
        **common,
        "code": _concept(LOINC, EXERCISE_DURATION),
        "valueQuantity": _minutes(activity.duration_s),
        "component": [
            {"code": _concept(ROLLER_SYSTEM, ACTIVE_TIME),
             "valueQuantity": _minutes(activity.active_s)},
            *({"code": _concept(AREA_SYSTEM, (area, AREAS[area])),
               "valueQuantity": _minutes(seconds)}
              for area, seconds in activity.area_seconds().items()),
        ],
    }
    done = {
        "resourceType": "Observation",
        "identifier": [{"system": SESSION_SYSTEM, "value": identifier}],
        **common,
        "code": _concept(LOINC, EXERCISE_ACTIVITY),
        "valueCodeableConcept": _concept(ROLLER_SYSTEM, FOAM_ROLLING),
        "hasMember": [{"reference": duration_url}],
        "component": [
            {"code": _concept(ROLLER_SYSTEM, LUMBAR_CONTACTS),
             "valueInteger": activity.lumbar_contacts},
            {"code": _concept(ROLLER_SYSTEM, STROKES), "valueInteger": activity.strokes},
        ],
    }
    return [(activity_url, done), (duration_url, duration)]


def bundle(sessions: Sequence[tuple[Subject, Activity]], made_at: datetime) -> dict[str, Any]:
    """A ``collection`` Bundle of ``sessions``: each person's Patient once, first, then every
    session's Observations in the order given. ``made_at`` is the Bundle's timestamp; its id
    is made of what it holds."""
    entries: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    for subject, _ in sessions:
        if subject.uid not in seen:
            seen[subject.uid] = _urn("person", subject.uid)
            entries.append(_entry(seen[subject.uid], patient(subject)))
    for subject, activity in sessions:
        for url, resource in observations(activity, seen[subject.uid]):
            entries.append(_entry(url, resource))
    held = ",".join(f"{s.uid}:{a.session_id}@{a.started_at.isoformat()}" for s, a in sessions)
    return {"resourceType": "Bundle", "id": _urn("bundle", held).removeprefix("urn:uuid:"),
            "type": "collection", "timestamp": _instant(made_at), "entry": entries}
