"""Multi-part simulated sessions: areas rolled in turn, the roller lifted between them."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import re

import numpy as np
import numpy.typing as npt
import pytest

from firmware_sim.imu import ACCEL_LSB_G, GYRO_LSB_DPS, Conditions, ideal, rolling
from firmware_sim.lift import Lift
from firmware_sim.motion import Move, Trajectory
from firmware_sim.person import BRISK
from firmware_sim.session import SimulatedSession, simulate, simulate_parts
from tracker.core.formats.roller_imu import format_recording, parse

Array = npt.NDArray[np.float64]
PARTS = [("upper_back", 50.0), ("glutes", 40.0), ("hamstrings", 30.0), ("calves", 25.0)]
#: simulate("upper_back", "stray", 60, seed=3) as it was before multi-part sessions existed:
#: its samples in sensor counts (timestamps in microseconds).
SINGLE_PART_SHA256 = "c8bac4be6332cbad1deacd6d97fd9e1af7e22bd51fe2b4bb867f79c32db9ce68"


def _steady(seed: int) -> Conditions:
    """A realistic roller and sensor on a link that loses nothing, so every window has samples."""
    drawn = Conditions.realistic(np.random.default_rng(seed), 200.0, 100.0)
    return dataclasses.replace(drawn, packet_loss=0.0, gaps_s=())


@pytest.fixture(scope="module")
def session() -> SimulatedSession:
    return simulate_parts(PARTS, "stray", seed=7, conditions=_steady(7))


def _since_start(sim: SimulatedSession) -> Array:
    return sim.samples[:, 0] - sim.samples[0, 0]


def _lifts(sim: SimulatedSession) -> list[tuple[float, float]]:
    """(lifted, put down) of every lift, recording clock."""
    parts = sim.truth.parts
    return [(after.asked_s, after.start_s) for after in parts[1:]]


def _within(sim: SimulatedSession, t0_s: float, t1_s: float) -> Array:
    t = sim.samples[:, 0]
    return sim.samples[(t >= t0_s) & (t < t1_s)]


def test_single_part_simulate_is_unchanged() -> None:
    x = simulate("upper_back", "stray", 60, seed=3, person=BRISK).samples
    counts = np.concatenate([
        np.round(x[:, 0] * 1e6), np.round(x[:, 1:4] / ACCEL_LSB_G).ravel(),
        np.round(x[:, 4:] / GYRO_LSB_DPS).ravel(),
    ]).astype(np.int64)
    assert hashlib.sha256(counts.tobytes()).hexdigest() == SINGLE_PART_SHA256


def test_one_part_is_simulate() -> None:
    one = simulate("glutes", "lumbar", 45.0, seed=2)
    same = simulate_parts([("glutes", 45.0)], "lumbar", seed=2)
    assert np.array_equal(one.samples, same.samples)
    assert one.header == same.header and "parts" not in one.header.extra
    assert [p.routine for p in one.truth.parts] == ["glutes"]
    (part,) = one.truth.parts
    assert part.strokes == one.truth.strokes and part.pauses == one.truth.pauses
    assert part.asked_s == part.start_s == one.samples[0, 0]


def test_the_lift_starts_and_ends_at_the_rest_reading() -> None:
    conditions = _steady(3)
    for seed in range(5):
        lift = Lift.draw(np.random.default_rng(seed), phi_start_rad=0.3 + seed)
        lifted = ideal(conditions, lift.motion(np.array([0.0, lift.duration_s])))
        for row, phi in ((0, lift.phi_start_rad), (1, lift.phi_end_rad)):
            lying = Trajectory([Move(0.0, 1.0, 50.0, 50.0)], conditions.effective_radius_cm, phi)
            force_g, rate_dps = ideal(conditions, rolling(conditions, lying.at(np.array([0.5]))))
            # The rates come from central differences: what is left is far below one count.
            assert lifted[0][row] == pytest.approx(force_g[0], abs=ACCEL_LSB_G / 20)
            assert lifted[1][row] == pytest.approx(rate_dps[0], abs=GYRO_LSB_DPS / 20)


def test_samples_run_on_across_the_splice(session: SimulatedSession) -> None:
    noise = 6 * session.conditions.accel_noise_g * np.sqrt(2) + 2 * ACCEL_LSB_G
    for lifted, put_down in _lifts(session):
        for moment in (lifted, put_down):
            accel = _within(session, moment - 0.1, moment + 0.1)[:, 1:4]
            assert len(accel) >= 15
            assert np.abs(np.diff(accel, axis=0)).max() < noise


def test_a_lift_tumbles_the_roller() -> None:
    for seed in (7, 8, 9):
        sim = simulate_parts(PARTS[:3], "clean", seed=seed, conditions=_steady(seed))
        for lifted, put_down in _lifts(sim):
            x = _within(sim, lifted, put_down)
            assert 3.0 <= put_down - lifted <= 8.0
            assert np.abs(x[:, 5]).max() >= 30 and np.abs(x[:, 6]).max() >= 30  # gy, gz
            assert np.abs(x[:, 1]).max() > 0.4  # gravity on the roller's axis: it tilts


def test_each_part_starts_with_the_roller_lying_still(session: SimulatedSession) -> None:
    for part in session.truth.parts[1:]:
        x = _within(session, part.start_s, part.start_s + 0.29)  # the placement hold >= 0.3 s
        assert len(x) >= 20
        assert np.ptp(x[:, 1:4], axis=0).max() < 0.03
        assert np.ptp(x[:, 4:7], axis=0).max() < 1.5


def test_truth_parts_follow_each_other(session: SimulatedSession) -> None:
    truth, t = session.truth, session.samples[:, 0]
    parts = truth.parts
    assert [p.routine for p in parts] == [routine for routine, _ in PARTS]
    assert parts[0].asked_s == parts[0].start_s == t[0]
    for before, after in itertools.pairwise(parts):
        assert before.end_s == after.asked_s < after.start_s < after.end_s
    assert parts[-1].end_s == pytest.approx(t[-1], abs=0.01)
    assert truth.strokes == sum(p.strokes for p in parts) and all(p.strokes for p in parts)
    assert truth.pauses == [pause for p in parts for pause in p.pauses]
    assert truth.lumbar_episodes == [e for p in parts for e in p.lumbar_episodes]
    for p in parts:
        assert all(p.start_s <= a < b <= p.end_s for a, b in p.pauses)
        assert all(p.start_s <= e["start_s"] <= e["end_s"] <= p.end_s for e in p.lumbar_episodes)
    lifted = np.zeros(len(t), dtype=bool)
    for up, down in _lifts(session):
        lifted |= (t > up + 0.01) & (t < down - 0.01)
    assert np.isnan(truth.s_cm[lifted]).all()
    on_body = ~np.isnan(truth.s_cm)
    assert on_body.sum() >= len(t) - lifted.sum() - 2 * len(parts)  # jitter at the edges


def test_truth_file_has_the_parts_and_no_nan(session: SimulatedSession) -> None:
    truth = json.loads(json.dumps(session.truth.to_json(session.conditions), allow_nan=False))
    assert [p["routine"] for p in truth["parts"]] == [routine for routine, _ in PARTS]
    assert None in truth["track"]["s_cm"]
    assert truth["strokes"] == sum(p["strokes"] for p in truth["parts"])


def test_same_seed_same_session() -> None:
    a, b = (simulate_parts(PARTS[:2], "stray", seed=5) for _ in range(2))
    assert np.array_equal(a.samples, b.samples) and a.header == b.header
    assert a.truth.parts == b.truth.parts
    other = simulate_parts(PARTS[:2], "stray", seed=6)
    assert not np.array_equal(a.samples[:100], other.samples[:100])


def test_header_names_every_switch(session: SimulatedSession) -> None:
    header = session.header
    assert header.routine == "upper_back"
    assert {"source", "scenario", "seed"} <= set(header.extra)
    value = header.extra["parts"]
    assert re.fullmatch(r"[a-z_]+@\d+\.\d{3}(,[a-z_]+@\d+\.\d{3})*", value)
    switches = [item.split("@") for item in value.split(",")]
    assert [routine for routine, _ in switches] == [routine for routine, _ in PARTS[1:]]
    first = session.samples[0, 0]
    for (_, at_s), part in zip(switches, session.truth.parts[1:], strict=True):
        assert float(at_s) == pytest.approx(part.asked_s - first, abs=0.0006)
    again = parse(format_recording(header, session.samples[:10])).header
    assert again.extra["parts"] == value
