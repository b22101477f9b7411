"""What a stored session's show draws, ``roller session show``'s and the dashboard's session
screen's alike: the analysis kept when it ended, its track with it; else (a session still
live, or stored before tracks were kept) its samples analysed again; else, its samples not
kept, its regions alone. Only the middle case loads numpy and the estimator."""

from __future__ import annotations

from typing import NamedTuple

from tracker.config import Settings
from tracker.core.body import Body
from tracker.core.formats.roller_analysis import Analysis
from tracker.store.database import Store
from tracker.store.rows import Detail, SessionRow


class Shown(NamedTuple):
    analysis: Analysis
    body: Body
    tracked: bool  # False: its samples were not kept; no track, no pauses


def shown(store: Store, row: SessionRow, detail: Detail, settings: Settings) -> Shown:
    """``row``'s session (``detail`` its timeline) as analysed; ``settings`` are its person's,
    whose estimator analyses samples again and whose height a session without them is drawn
    for."""
    kept = store.analysis(row.id, detail)
    if kept is not None:
        return Shown(*kept, tracked=True)
    recording = store.recording(row.id)
    if recording is None:
        return Shown(detail.analysis(row), settings.body, tracked=False)
    from tracker.core.estimate import analyze  # numpy and the estimator: this case only

    return Shown(analyze(recording, settings.estimator),
                 Body(recording.header.user_height_cm), tracked=True)
