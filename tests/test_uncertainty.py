"""Position uncertainty and the lumbar caution: pure parts on hand-made tracks, then whole
simulated sessions with the roller put off its landmark."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware_sim.person import Person
from firmware_sim.session import simulate
from tracker.core.estimate import analyze
from tracker.core.estimate.uncertainty import CautionWatch, PositionSpread
from tracker.core.formats.roller_analysis import CautionEvent
from tracker.core.formats.roller_imu import Recording
from tracker.core.tuning import CLEAR_CM, CLEAR_S, Uncertainty

TOP, BOTTOM = 57.75, 75.25  # the lumbar band of a 175 cm person


def test_spread_is_placement_at_the_start_and_grows_with_distance() -> None:
    model = Uncertainty(placement_sd_cm=2.5, scale_sd_percent=4.0, creep_sd_percent=0.1,
                        slip_sd_cm_per_10m=1.0)
    spread = PositionSpread(model, start_cm=40.0)
    assert spread.update(np.array([40.0]))[0] == pytest.approx(2.5)
    away = spread.update(np.array([50.0]))[0]  # 10 cm away, 10 cm rolled
    assert away == pytest.approx(np.sqrt(2.5**2 + 0.4**2 + 0.01**2 + 10 / 1000))
    strokes = np.tile(np.concatenate([np.linspace(50, 40, 50), np.linspace(40, 50, 50)]), 50)
    back = spread.update(strokes[:-49])[-1]  # back at the start after 10 m: creep and slip
    assert spread.travel_cm == pytest.approx(1000, rel=0.01)
    assert back == pytest.approx(np.sqrt(2.5**2 + 1.0**2 + 1.0), rel=0.01)


def bout(bottoms_cm: list[float], rate_hz: float = 20.0) -> tuple[np.ndarray, np.ndarray]:
    """Strokes from 40 cm down to each bottom and back, 2 s each way."""
    s = np.concatenate([np.concatenate([np.linspace(40, b, int(2 * rate_hz)),
                                        np.linspace(b, 40, int(2 * rate_hz))])
                        for b in bottoms_cm])
    return np.arange(len(s)) / rate_hz, s


def test_one_caution_for_a_bout_near_the_band_and_none_far_from_it() -> None:
    t, s = bout([53.0, 54.0, 53.5, 54.0, *[40.0] * 6])  # within 2 SD, then well clear
    watch = CautionWatch(TOP, BOTTOM, margin_cm=0.0, level_sd=2.0)
    raised = watch.update(t, s, np.full_like(s, 2.5))
    (event,) = watch.finish(float(t[-1]))
    assert raised == [event.start_s]
    first_near = t[np.argmax(s + 5.0 >= TOP)]
    assert event.start_s == first_near
    assert event.end_s < t[-1] - CLEAR_S  # ended, dated from when it cleared
    quiet = CautionWatch(TOP, BOTTOM, margin_cm=0.0, level_sd=2.0)
    t, s = bout([48.0, 49.0, 48.0])  # 8 cm and more above the band
    assert quiet.update(t, s, np.full_like(s, 2.5)) == [] and quiet.finish(t[-1]) == []


def test_the_caution_reaches_2_cm_and_widens_with_the_spread_late_in_a_long_part() -> None:
    """2 cm covers an unseen error of 2.5 cm for any episode the alert would flag (1 cm
    deep); once the spread has grown, 0.75 SD reaches further."""
    t = np.arange(3) * 1.0
    for sd_cm, near_cm, far_cm in [(2.5, TOP - 2.0, TOP - 2.1), (4.0, TOP - 3.0, TOP - 3.1)]:
        sd = np.full(3, sd_cm)
        assert CautionWatch(TOP, BOTTOM).update(t, np.full(3, near_cm), sd) == [0.0]
        assert CautionWatch(TOP, BOTTOM).update(t, np.full(3, far_cm), sd) == []


def test_a_caution_from_below_for_the_glutes() -> None:
    s = np.concatenate([np.linspace(84, 78, 40), np.linspace(78, 84, 40)])
    watch = CautionWatch(TOP, BOTTOM, margin_cm=0.0, level_sd=2.0)
    assert len(watch.update(np.arange(80) / 20, s, np.full_like(s, 2.5))) == 1


def one_at_a_time(t: np.ndarray, s: np.ndarray, sd: np.ndarray) -> list[CautionEvent]:
    """The caution's definition, sample by sample: what the vectorised watch must equal."""
    events, since, cleared = [], None, None
    for t_s, s_cm, sd_cm in zip(t.tolist(), s.tolist(), sd.tolist(), strict=True):
        gap = max(TOP - (s_cm + 2 * sd_cm), (s_cm - 2 * sd_cm) - BOTTOM)
        if since is None:
            since, cleared = (t_s, None) if gap <= 0 else (None, None)
        elif cleared is None:
            cleared = t_s if gap > CLEAR_CM else None
        elif gap <= 0:
            cleared = None
        elif t_s >= cleared + CLEAR_S:
            events.append(CautionEvent(since, cleared))
            since = cleared = None
    return events + ([CautionEvent(since, cleared or float(t[-1]))] if since is not None else [])


@given(st.lists(st.floats(40, 80), min_size=2, max_size=200), st.floats(0.05, 2.0),
       st.lists(st.integers(1, 50), max_size=6))
def test_the_watch_is_its_definition_whatever_the_chunks(
        points: list[float], step_s: float, cuts: list[int]) -> None:
    s = np.array(points)
    t, sd = np.arange(len(s)) * step_s, np.full(len(s), 2.5)
    watch = CautionWatch(TOP, BOTTOM, margin_cm=0.0, level_sd=2.0)
    edges = sorted({min(c, len(t)) for c in np.cumsum(cuts).tolist()})
    for a, b in zip([0, *edges], [*edges, len(t)], strict=True):
        if b > a:
            watch.update(t[a:b], s[a:b], sd[a:b])
    assert watch.finish(float(t[-1])) == one_at_a_time(t, s, sd)


@pytest.mark.parametrize(("routine", "placement_cm"), [("upper_back", 2.5),
                                                       ("glutes", -2.5)])
def test_episodes_are_cautioned_though_the_roller_was_put_2_5_cm_off(
        routine: str, placement_cm: float) -> None:
    """The edge of what the caution promises: the estimate is 2.5 cm on the safe side of
    the truth, so the alert stays quiet for shallow strays; the caution does not."""
    person = Person(placement_cm=placement_cm, mass_kg=80.0)
    sim = simulate(routine, "stray", 600.0, 31, height_cm=175.0, person=person)
    a = analyze(Recording(sim.header, sim.samples))
    episodes = [e for e in sim.truth.lumbar_episodes if e["max_depth_cm"] >= 1.0]
    assert episodes
    warned = [*a.caution_events, *a.lumbar_events]
    for e in episodes:
        assert any(w.start_s <= e["end_s"] and w.end_s >= e["start_s"] for w in warned), e


def test_the_analysis_carries_the_spread_and_the_cautions() -> None:
    sim = simulate("upper_back", "stray", 120.0, 17, sample_rate_hz=100.0)
    out = analyze(Recording(sim.header, sim.samples)).to_json()
    track = out["track"]
    assert len(track["s_sd_cm"]) == len(track["s_cm"]) and min(track["s_sd_cm"]) >= 2.5
    assert out["format"] == "roller-analysis/1"
    for event in out["caution_events"]:
        assert set(event) == {"start_s", "end_s"} and event["start_s"] <= event["end_s"]
    alerts = out["lumbar_events"]
    assert alerts and all(  # every alert comes with a caution that began no later
        any(c["start_s"] <= e["alert_s"] <= c["end_s"] for c in out["caution_events"])
        for e in alerts)
