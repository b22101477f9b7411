"""The streaming estimator on simulated sessions, checked against the simulator's truth."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_sim.session import SimulatedSession, simulate
from tracker.core.body import Body
from tracker.core.estimate import SessionEstimator, analyze
from tracker.core.formats.roller_analysis import Analysis
from tracker.core.formats.roller_imu import Recording


def run_in_chunks(sim: SimulatedSession, size: int) -> Analysis:
    h, x = sim.header, sim.samples
    est = SessionEstimator(h.routine, Body(h.user_height_cm), h.roller_diameter_cm,
                           h.sample_rate_hz)
    for start in range(0, len(x), size):
        c = x[start : start + size]
        est.feed(c[:, 0], c[:, 1:4], c[:, 4:7])
    return est.finish()


def position_rms_cm(sim: SimulatedSession, a: Analysis) -> float:
    truth = np.interp(a.track_t_s, sim.truth.t_s, sim.truth.s_cm)
    return float(np.sqrt(np.mean((np.array(a.track_s_cm) - truth) ** 2)))


@pytest.mark.parametrize(
    ("routine", "rate_hz", "seed"),
    [("upper_back", 25.0, 1), ("glutes", 50.0, 2), ("hamstrings", 100.0, 3), ("calves", 200.0, 4)],
)
def test_counts_match_the_truth(routine: str, rate_hz: float, seed: int) -> None:
    sim = simulate(routine, "stray", 120.0, seed, sample_rate_hz=rate_hz)
    a = analyze(Recording(sim.header, sim.samples))
    truth = sim.truth
    assert a.duration_s == pytest.approx(truth.duration_s, abs=1e-9)
    assert abs(a.strokes - truth.strokes) <= max(1, 0.02 * truth.strokes)
    assert a.active_s == pytest.approx(truth.active_s, rel=0.01)
    assert len(a.pauses) == len(truth.pauses)
    assert position_rms_cm(sim, a) < 1.0


def test_every_deep_lumbar_stray_is_alerted_quickly(stray_session: SimulatedSession) -> None:
    a = analyze(Recording(stray_session.header, stray_session.samples))
    episodes = [e for e in stray_session.truth.lumbar_episodes
                if e["end_s"] - e["start_s"] >= 1.0 and e["max_depth_cm"] >= 2.0]
    assert episodes, "the stray scenario should produce lumbar episodes"
    alerts = [e.alert_s for e in a.lumbar_events]
    for episode in episodes:
        hits = [t for t in alerts if episode["start_s"] <= t <= episode["end_s"]]
        assert hits and hits[0] - episode["start_s"] <= 0.3
    assert len(a.lumbar_events) <= len(stray_session.truth.lumbar_episodes)


def test_clean_sessions_raise_no_alert() -> None:
    for seed, routine in enumerate(["upper_back", "glutes"]):
        sim = simulate(routine, "clean", 120.0, 40 + seed)
        assert analyze(Recording(sim.header, sim.samples)).lumbar_events == []


@pytest.mark.parametrize("size", [1, 7, 64])
def test_streaming_in_any_chunks_equals_the_batch(
    stray_session: SimulatedSession, size: int
) -> None:
    batch = analyze(Recording(stray_session.header, stray_session.samples))
    streamed = run_in_chunks(stray_session, size)
    assert streamed.strokes == batch.strokes
    np.testing.assert_allclose(streamed.pauses, batch.pauses)
    assert [e.alert_s for e in streamed.lumbar_events] == [e.alert_s for e in batch.lumbar_events]
    np.testing.assert_allclose(streamed.track_s_cm, batch.track_s_cm, atol=1e-6)


def test_alerts_are_causal(stray_session: SimulatedSession) -> None:
    """Cut the session right after an alert: the alert is raised at the same sample."""
    first = analyze(Recording(stray_session.header, stray_session.samples)).lumbar_events[0]
    cut = stray_session.samples[stray_session.samples[:, 0] <= first.alert_s]
    again = analyze(Recording(stray_session.header, cut)).lumbar_events
    assert again[0].alert_s == first.alert_s


def test_segments_cover_the_session_in_order(stray_session: SimulatedSession) -> None:
    a = analyze(Recording(stray_session.header, stray_session.samples))
    assert a.segments[0].start_s == a.start_s
    assert a.segments[-1].end_s == pytest.approx(a.start_s + a.duration_s)
    for before, after in zip(a.segments, a.segments[1:], strict=False):
        assert before.end_s == after.start_s
        assert before.region != after.region


def test_long_radio_gaps_on_a_small_roller_keep_the_position() -> None:
    """1.2 s outages: the gyro sees nothing, a 10 cm roller can turn a full circle in that time."""
    import dataclasses

    from firmware_sim.imu import Conditions

    base = Conditions.realistic(np.random.default_rng(5), 160.0, 100.0)
    conditions = dataclasses.replace(
        base, diameter_cm=10.0, vibration_g=0.35, sensor_offset_cm=(2.1, -2.1),
        gaps_s=((30.0, 1.2), (70.0, 1.2), (110.0, 0.9), (140.0, 1.2)),
    )
    for seed in (1, 2, 3):
        sim = simulate("upper_back", "clean", 160.0, seed, conditions)
        a = analyze(Recording(sim.header, sim.samples))
        assert position_rms_cm(sim, a) < 1.0
