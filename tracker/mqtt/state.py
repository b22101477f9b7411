"""The bridge's state payloads, built from what it read: pure.

A roller's state, a person's week, the bridge's info and the live position. Home Assistant
splits an MQTT integration into the client, the discovery and the entities; this is the
entities' side. The bridge reads the store and follows the live sessions; these functions
turn what it read into each payload, and :mod:`~tracker.mqtt.messages` fixes their keys.
Plain values in and out, no broker and no store, so they are tested without either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, time
from typing import Any, Final
from zoneinfo import ZoneInfo

from tracker import __version__
from tracker.core.adherence import Figures
from tracker.core.estimate import LiveState
from tracker.core.people import Person
from tracker.core.schedule import Rules, WeekStatus
from tracker.core.status import Status
from tracker.mqtt.messages import person_payload, state_payload
from tracker.store.rows import SessionRow

#: A roller's live values once its session is over: no session, area, region or alert.
IDLE: Final[Mapping[str, Any]] = {"session_active": False, "lumbar_contact": False,
                                  "lumbar_caution": False, "region": None, "routine": None}
#: The live values whose change goes out at once, past the throttle.
URGENT: Final = ("lumbar_contact", "lumbar_caution", "session_active")


def live_values(status: Status) -> dict[str, Any]:
    """A roller's live values as a live session's status has them: the link, the session,
    its area and region, the lumbar contact and caution, the battery and the signal."""
    state = status.state if status.recording else None
    return {"connected": status.link == "live", "session_active": status.recording,
            "routine": status.routine if status.recording else None,
            "region": state.region if state else None,
            "lumbar_contact": bool(state and state.lumbar),
            "lumbar_caution": bool(state and state.caution),
            "battery_pct": status.battery_pct, "rssi_dbm": status.rssi_dbm}


def urgent(live: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
    """Whether ``values`` change one of the :data:`URGENT` live values."""
    return any(bool(values[key]) != bool(live.get(key)) for key in URGENT)


def week_began(week: WeekStatus, zone: str) -> str:
    """When ``week`` began, midnight of its first day in ``zone``: the ``last_reset`` of
    the week's totals, which Home Assistant's statistics sum from then on."""
    return datetime.combine(week.week_start, time(), ZoneInfo(zone)).isoformat()


def roller_state(live: Mapping[str, Any], recent: Sequence[SessionRow],
                 week: WeekStatus, zone: str, name: str | None = None) -> dict[str, Any]:
    """A roller's flat state: what is ``live`` now (its signal and when it was last heard
    among it), the last finished session among its ``recent`` ones (oldest first), the
    ``week`` of the person it is for, in their ``zone``, and the roller's ``name`` as Home
    Assistant shows it."""
    finished = [r for r in recent if r.status != "live"]
    last = finished[-1] if finished else None
    return state_payload(
        session_active=bool(live.get("session_active")),
        connected=bool(live.get("connected")),
        routine=live.get("routine"), region=live.get("region"),
        lumbar_contact=bool(live.get("lumbar_contact")),
        lumbar_caution=bool(live.get("lumbar_caution")),
        last_session_duration_s=round(last.duration_s, 1) if last else None,
        last_session_active_s=round(last.active_s, 1) if last else None,
        last_session_strokes=last.strokes if last else None,
        last_session_cadence_cpm=round(last.cadence_cpm, 1) if last else None,
        last_session_ended_at=last.ended_at.isoformat() if last and last.ended_at
        else None,
        glute_sessions_this_week=week.done, schedule_status=str(week.status),
        next_glute_day=week.next_allowed.isoformat(),
        battery_pct=live.get("battery_pct"),
        next_routine=live.get("next_routine"),
        override_next=bool(live.get("override_next")),
        last_reset=week_began(week, zone), name=name,
        rssi_dbm=live.get("rssi_dbm"), last_seen=live.get("last_seen"),
        comfort=live.get("comfort"),
    )


def person_state(person: Person, rules: Rules, week: WeekStatus, rows: Sequence[SessionRow],
                 latest: Sequence[SessionRow], zone: str, figures: Figures) -> dict[str, Any]:
    """A person's week: their glute quota (``rules``, the configuration's), and what they
    rolled on any roller. ``rows`` are the sessions ``week`` was worked out from, ``zone``
    theirs; the last session's end is the latest among ``latest``; ``figures``, theirs
    in a clinician's units."""
    mine = [r for r in rows if r.started_at.astimezone(ZoneInfo(r.zone)).date()
            >= week.week_start]
    ended = [r.ended_at for r in latest if r.ended_at is not None]
    last = figures.last_comfort
    return person_payload(
        name=person.name, glute_sessions_this_week=week.done,
        glute_sessions_per_week=person.schedule(rules).glute_sessions_per_week,
        schedule_status=str(week.status), next_glute_day=week.next_allowed.isoformat(),
        sessions_this_week=len(mine),
        rolling_s_this_week=round(sum(r.active_s for r in mine), 1),
        lumbar_contacts_this_week=sum(r.lumbar_events for r in mine),
        last_session_ended_at=max(ended).isoformat() if ended else None,
        last_reset=week_began(week, zone),
        days_rolled_last_30=figures.days_rolled,
        days_since_rolled=figures.days_since_rolled,
        prescribed_sessions_this_week=figures.prescribed_this_week,
        prescribed_sessions_done_this_week=figures.done_this_week,
        kept_off_contacts_this_week=figures.kept_off_this_week,
        last_comfort=last.score if last else None,
        last_comfort_area=last.area if last else None)


def bridge_info(host: str, outbox_pending: int, rollers: Sequence[Mapping[str, Any]],
                permit_join: bool = False) -> dict[str, Any]:
    """The bridge's info: its version and ``host``, the events waiting, its rollers (each
    one's live values) known and connected, and whether it pairs new rollers now."""
    return {"version": __version__, "host": host, "outbox_pending": outbox_pending,
            "rollers_known": len(rollers),
            "rollers_connected": sum(bool(r.get("connected")) for r in rollers),
            "permit_join": permit_join}


def live_position(state: LiveState) -> dict[str, Any]:
    """Region, position and its standard deviation, to a millimetre."""
    return {"region": state.region, "s_cm": round(state.s_cm, 1),
            "s_sd_cm": round(state.s_sd_cm, 1)}
