"""A session as a Garmin FIT activity file, for Garmin Connect, Strava and intervals.icu.

Pure: :func:`activity_file` gives the file's bytes; the command writes them. The messages are
FIT's own (file_id, event, sport, set, lap, session, activity), written by ``fit-tool``
(BSD-3-Clause, pure Python, no dependencies of its own), which carries FIT's whole profile,
the definitions and the CRC, so this module says only what goes in each field.

The mapping (docs/clinician.md): sport ``training``, sub-sport ``flexibility_training``; each
part is one ``set`` (active, its duration, its strokes as repetitions) naming the FIT exercise
closest to the area rolled, and one ``lap``, so that every reader shows the parts whether it
reads sets (Garmin Connect) or laps (Strava, intervals.icu).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from fit_tool.fit_file_builder import FitFileBuilder
from fit_tool.profile.messages.activity_message import ActivityMessage
from fit_tool.profile.messages.event_message import EventMessage
from fit_tool.profile.messages.file_id_message import FileIdMessage
from fit_tool.profile.messages.lap_message import LapMessage
from fit_tool.profile.messages.session_message import SessionMessage
from fit_tool.profile.messages.set_message import SetMessage
from fit_tool.profile.messages.sport_message import SportMessage
from fit_tool.profile.profile_type import (
    Activity as FitActivity,
)
from fit_tool.profile.profile_type import (
    Event,
    EventType,
    ExerciseCategory,
    FileType,
    Manufacturer,
    SetType,
    Sport,
    SubSport,
    WarmUpExerciseName,
)

from tracker.core.errors import InputError
from tracker.core.formats.activity import Activity

#: FIT's epoch: its times are seconds from 1989-12-31 00:00 UTC.
FIT_EPOCH: Final = datetime(1989, 12, 31, tzinfo=UTC)
#: The last moment FIT's 32-bit time holds (0xFFFFFFFF is "invalid"); a session after it
#: cannot be written.
FIT_LAST: Final = FIT_EPOCH + timedelta(seconds=0xFFFFFFFE)
#: The most repetitions a set holds (uint16, less the invalid value).
MAX_REPETITIONS: Final = 0xFFFE

#: Each area as FIT's exercise category and name. FIT names foam rolling for the back only
#: (``back_roll_foam_roller``); for the other areas the stretch of the same muscles is the
#: closest exercise FIT has, under the same category (warm_up), so each part still reads as
#: the area it was (docs/clinician.md).
EXERCISES: Final[dict[str, tuple[ExerciseCategory, WarmUpExerciseName]]] = {
    "upper_back": (ExerciseCategory.WARM_UP, WarmUpExerciseName.BACK_ROLL_FOAM_ROLLER),
    "glutes": (ExerciseCategory.WARM_UP, WarmUpExerciseName.GLUTES_STRETCH),
    "hamstrings": (ExerciseCategory.WARM_UP, WarmUpExerciseName.STRETCH_HAMSTRING),
    "calves": (ExerciseCategory.WARM_UP, WarmUpExerciseName.STRETCH_CALF),
}
#: What the file says made it: FIT's "development" manufacturer, which every reader accepts
#: from software that is not a device.
PRODUCT_NAME: Final = "roller"


def _ms(moment: datetime) -> int:
    """A moment as fit-tool takes it: Unix milliseconds (it moves them to FIT's epoch)."""
    return round(moment.timestamp() * 1000)


def _local_s(moment: datetime, zone: str) -> int:
    """FIT's ``local_date_time``: seconds from FIT's epoch on the local clock."""
    offset = moment.astimezone(ZoneInfo(zone)).utcoffset() or timedelta(0)
    return round((moment - FIT_EPOCH + offset).total_seconds())


def _check_range(activity: Activity) -> None:
    end = activity.started_at + timedelta(seconds=activity.duration_s)
    if not (activity.started_at >= FIT_EPOCH and end <= FIT_LAST):
        raise InputError(f"session {activity.session_id}: FIT holds times from 1990 to 2126, "
                         f"not {activity.started_at.isoformat()}")


def _sport(message: Any) -> None:
    message.sport = Sport.TRAINING
    message.sub_sport = SubSport.FLEXIBILITY_TRAINING


def _timed(message: Any, start: datetime, elapsed_s: float, timer_s: float) -> None:
    """A lap's or the session's span: start, end (its timestamp) and its two times."""
    message.start_time = _ms(start)
    message.timestamp = _ms(start + timedelta(seconds=elapsed_s))
    message.total_elapsed_time = elapsed_s
    message.total_timer_time = timer_s


def messages(activity: Activity) -> list[Any]:
    """The FIT messages of ``activity``, in the order a watch writes them: who made the file,
    the timer's start, the sport, a set per part, a lap per part, the session, the timer's
    stop and the activity."""
    _check_range(activity)
    start = activity.started_at
    end = start + timedelta(seconds=activity.duration_s)
    file_id = FileIdMessage()
    file_id.type = FileType.ACTIVITY
    file_id.manufacturer = Manufacturer.DEVELOPMENT.value
    file_id.product = 0
    file_id.serial_number = activity.session_id % 0xFFFFFFFF or 1
    file_id.time_created = _ms(start)
    file_id.product_name = PRODUCT_NAME
    found: list[Any] = [file_id, _event(start, EventType.START)]
    sport = SportMessage()
    _sport(sport)
    sport.sport_name = "Foam rolling"
    found.append(sport)
    for index, part in enumerate(activity.parts):
        category, name = EXERCISES[part.area]
        done = SetMessage()
        done.message_index = index
        done.set_type = SetType.ACTIVE.value
        done.start_time = _ms(start + timedelta(seconds=part.start_s))
        done.timestamp = _ms(start + timedelta(seconds=part.start_s + part.duration_s))
        done.duration = part.duration_s
        done.repetitions = min(part.strokes, MAX_REPETITIONS)
        done.category = [category.value]
        done.category_subtype = [name.value]
        found.append(done)
    for index, part in enumerate(activity.parts):
        lap = LapMessage()
        lap.message_index = index
        _timed(lap, start + timedelta(seconds=part.start_s), part.duration_s, part.duration_s)
        _sport(lap)
        found.append(lap)
    session = SessionMessage()
    session.message_index = 0
    _timed(session, start, activity.duration_s, activity.active_s)
    _sport(session)
    session.first_lap_index = 0
    session.num_laps = len(activity.parts)
    found += [session, _event(end, EventType.STOP_ALL)]
    closing = ActivityMessage()
    closing.timestamp = _ms(end)
    closing.total_timer_time = activity.active_s
    closing.num_sessions = 1
    closing.type = FitActivity.MANUAL
    closing.event = Event.ACTIVITY
    closing.event_type = EventType.STOP
    closing.local_timestamp = _local_s(end, activity.zone)
    found.append(closing)
    return found


def _event(moment: datetime, kind: EventType) -> EventMessage:
    """The timer started or stopped at ``moment``."""
    event = EventMessage()
    event.timestamp = _ms(moment)
    event.event = Event.TIMER
    event.event_type = kind
    return event


def activity_file(activity: Activity) -> bytes:
    """The ``.fit`` file of one session: header, definitions, messages and CRC."""
    builder = FitFileBuilder(auto_define=True)
    builder.add_all(messages(activity))
    return bytes(builder.build().to_bytes())
