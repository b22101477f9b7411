"""Strokes, pauses, regions and lumbar alerts on hand-made tracks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.core.body import Body
from tracker.core.estimate.lumbar import LumbarWatch
from tracker.core.estimate.motion import PauseDetector, StrokeCounter


def test_regions_scale_with_height() -> None:
    body = Body(200.0)
    assert body.region_at(0.30 * 200) == "thoracic"
    assert body.region_at(0.35 * 200) == "lumbar"
    assert body.lumbar_cm == pytest.approx((66.0, 86.0))
    assert body.landmark_cm("glutes") == pytest.approx(96.0)
    assert body.region_at(-5) == "head" and body.region_at(500) == "calves"


def test_strokes_need_two_centimetres_and_ignore_wobble() -> None:
    counter = StrokeCounter(min_cm=2.0, reversal_cm=0.5)
    track = [0, 1, 2, 3, 2.8, 3.1, 1, 0, 0.3, 0.1, 1.5, 1.0]  # 3 down, 3 up, 1.5 (too short)
    counter.update([float(s) for s in track])
    assert counter.total == 2


@given(st.lists(st.floats(2.5, 20.0), min_size=1, max_size=30))
def test_alternating_strokes_are_all_counted(lengths: list[float]) -> None:
    s, track = 0.0, [0.0]
    for i, length in enumerate(lengths):
        direction = 1 if i % 2 == 0 else -1
        for step in np.linspace(0, length, 12)[1:]:
            track.append(s + direction * step)
        s += direction * length
    counter = StrokeCounter()
    counter.update(track)
    assert counter.total == len(lengths)


def test_pause_needs_three_still_seconds() -> None:
    t = np.arange(0, 20, 0.05)
    s = np.where(t < 5, 10 * np.sin(t * 3), np.where(t < 9, 10 * np.sin(15.0), 0.0))
    s = np.where(t >= 9, 10 * np.sin(15.0) + 10 * np.sin((t - 9) * 3), s)
    detector = PauseDetector(reach=2)
    detector.update(t.tolist(), s.tolist())
    (pause,) = detector.finish()
    assert pause[0] == pytest.approx(5.0, abs=0.15)
    assert pause[1] == pytest.approx(9.0, abs=0.15)


def test_short_stillness_is_not_a_pause() -> None:
    t = np.arange(0, 10, 0.05)
    s = np.where((t > 4) & (t < 6), 0.0, np.sin(t * 2) * 5)
    detector = PauseDetector(reach=2)
    detector.update(t.tolist(), s.tolist())
    assert detector.finish() == []


def test_lumbar_alert_waits_for_depth_and_dates_the_entry() -> None:
    watch = LumbarWatch(top_cm=50.0, bottom_cm=60.0, alert_depth_cm=1.0)
    t = np.arange(0, 3, 0.01)
    s = 49.0 + 4 * np.sin(np.pi * t / 3)  # in at 50 (t=0.25), peak 53, out at t=2.75
    alerts = watch.update(t[:100], s[:100]) + watch.update(t[100:], s[100:])
    (event,) = watch.finish(float(t[-1]))
    assert alerts == [event.alert_s]
    assert event.start_s == pytest.approx(0.25, abs=0.02)
    assert event.alert_s == pytest.approx(0.5, abs=0.02)  # depth 1 cm at sin = 0.5
    assert event.end_s == pytest.approx(2.76, abs=0.02)


def test_grazing_the_edge_raises_nothing() -> None:
    watch = LumbarWatch(top_cm=50.0, bottom_cm=60.0, alert_depth_cm=1.0)
    t = np.arange(0, 3, 0.01)
    assert watch.update(t, 49.0 + 1.8 * np.sin(np.pi * t / 3)) == []
    assert watch.finish(3.0) == []
