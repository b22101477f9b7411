"""What the pictures show of one session: its track, the regions as bands, its marks, and
its bouts and pauses against their guides. Pure: an analysis in, plain values out.

Three painters draw it: :mod:`~tracker.core.pictures.charts` on a terminal (``roller session
show``), the dashboard's session screen, and :mod:`~tracker.core.pictures.share`'s report.
Apart from the calendar's figures (:mod:`~tracker.core.pictures.figures`) so that a session's
show loads none of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tracker.core.body import LUMBAR, REGIONS, Body
from tracker.core.formats.roller_analysis import Analysis
from tracker.core.schedule import Rules, score

MARGIN_CM = 3.0  # the view's room above and below the track and the lumbar band


@dataclass(frozen=True)
class Band:
    """A body region's stretch of the view, from the head down."""

    region: str
    top_cm: float
    bottom_cm: float

    @property
    def mid_cm(self) -> float:
        return (self.top_cm + self.bottom_cm) / 2


@dataclass(frozen=True)
class SessionPicture:
    """One session as the charts draw it; times are seconds from its start."""

    duration_s: float
    t_s: list[float]  # the contact's track; empty when its samples were not kept
    s_cm: list[float]
    top_cm: float  # the view, head side
    bottom_cm: float
    bands: list[Band]  # the regions in view, head first (the lumbar band always whole)
    contacts: list[tuple[float, float]]  # on the lumbar band
    alerts_s: list[float]  # when each contact was announced
    cautions: list[tuple[float, float]]
    holds: list[tuple[float, float]]  # pauses on a spot: the flat stretches of the track
    lifts: list[tuple[float, float]]  # between parts: the roller in the air
    regions: list[tuple[str, float, float]]  # (region, start, end): where it was when
    region_s: dict[str, float]  # time in each region visited, head first
    bouts_s: list[float]
    pauses_s: list[float]
    bout_guide_s: tuple[float, float]
    pause_guide_s: tuple[float, float]

    @property
    def lumbar(self) -> Band:
        return next(band for band in self.bands if band.region == REGIONS[LUMBAR])


def session_picture(analysis: Analysis, body: Body, rules: Rules) -> SessionPicture:
    """The session's track, bands and marks. An analysis without a track (a session whose
    samples were not kept) still gives its regions, events and time per region, but no
    bouts or pauses: where it paused is not stored without the samples."""
    a = analysis
    origin = a.start_s

    def spans(pairs: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
        return [(start - origin, end - origin) for start, end in pairs]

    top, bottom = body.lumbar_cm
    seen = [*a.track_s_cm] or [p for seg in a.segments for p in _region_cm(body, seg.region)]
    view_top = min([*seen, top]) - MARGIN_CM
    view_bottom = max([*seen, bottom]) + MARGIN_CM
    bounds = body.bounds_cm
    bands = [Band(name, max(view_top, bounds[i]), min(view_bottom, bounds[i + 1]))
             for i, name in enumerate(REGIONS)
             if bounds[i + 1] > view_top and bounds[i] < view_bottom]
    visited = a.time_in_regions()
    scored = score(a, rules)
    bouts, pauses = (scored.bouts, scored.pauses) if a.track_t_s else ([], [])  # unknown
    return SessionPicture(
        duration_s=a.duration_s,
        t_s=[t - origin for t in a.track_t_s],
        s_cm=list(a.track_s_cm),
        top_cm=view_top,
        bottom_cm=view_bottom,
        bands=bands,
        contacts=spans([(e.start_s, e.end_s) for e in a.lumbar_events]),
        alerts_s=[e.alert_s - origin for e in a.lumbar_events],
        cautions=spans([(e.start_s, e.end_s) for e in a.caution_events]),
        holds=spans(a.pauses),
        lifts=spans(a.lifts),
        regions=[(seg.region, seg.start_s - origin, seg.end_s - origin) for seg in a.segments],
        region_s={name: visited[name] for name in REGIONS if name in visited},
        bouts_s=bouts,
        pauses_s=pauses,
        bout_guide_s=(rules.bout_min_s, rules.bout_max_s),
        pause_guide_s=(rules.pause_min_s, rules.pause_max_s),
    )


def _region_cm(body: Body, region: str) -> tuple[float, float]:
    i = REGIONS.index(region)
    return body.bounds_cm[i], body.bounds_cm[i + 1]
