"""A roller put down end for end after a lift: told from the carry, and read the right way."""

from __future__ import annotations

import dataclasses
import json
from unittest import mock

import numpy as np
import numpy.typing as npt
import pytest

from firmware_sim.imu import Conditions, ideal
from firmware_sim.lift import Lift
from firmware_sim.person import TAUGHT_STROKE_S, Person
from firmware_sim.session import SimulatedSession, simulate_parts
from tracker.core.body import Body
from tracker.core.estimate import analyze
from tracker.core.estimate.area import LiveState
from tracker.core.estimate.carry import Orientation, carry_turn_deg, orientation_of
from tracker.core.estimate.session import SessionEstimator
from tracker.core.formats.roller_analysis import Analysis
from tracker.core.formats.roller_imu import Recording
from tracker.core.guidance import MARK_IT, MARKED_END, PLACEMENT, placement
from tracker.live.calibration_step import prompt

Array = npt.NDArray[np.float64]
PARTS = [("glutes", 50.0), ("upper_back", 60.0), ("glutes", 40.0)]


def _carry(end_heading_deg: float, bias_dps: float = 0.0, rate_hz: float = 100.0,
           seed: int = 1) -> tuple[Array, Array, Array]:
    """A lift's samples (roller axes) with the roller still on the floor 0.5 s either side."""
    rng = np.random.default_rng(seed)
    lift = dataclasses.replace(Lift.draw(rng, 0.3), end_heading_rad=np.radians(end_heading_deg))
    t = np.arange(-0.5, lift.duration_s + 0.5, 1 / rate_hz)
    during = np.clip(t, 0.0, lift.duration_s)
    force_g, rate_dps = ideal(Conditions(), lift.motion(during))
    still = (t < 0) | (t > lift.duration_s)
    rate_dps[still] = 0.0
    return t, force_g, rate_dps + bias_dps


@pytest.mark.parametrize("heading_deg", [-20.0, 0.0, 8.0, 20.0])
def test_a_carry_put_down_the_way_it_came_up_turns_little(heading_deg: float) -> None:
    turn = carry_turn_deg(*_carry(heading_deg))
    assert turn == pytest.approx(heading_deg, abs=0.5)
    assert orientation_of(turn) is Orientation.SAME


@pytest.mark.parametrize("heading_deg", [160.0, 180.0, -170.0, 195.0])
def test_a_carry_put_down_end_for_end_turns_half_round(heading_deg: float) -> None:
    turn = carry_turn_deg(*_carry(heading_deg))
    assert turn is not None
    assert (turn - heading_deg + 180) % 360 - 180 == pytest.approx(0.0, abs=0.5)
    assert orientation_of(turn) is Orientation.REVERSED


def test_a_gyro_bias_over_a_carry_moves_the_turn_a_few_degrees() -> None:
    """1 deg/s on every axis over a carry of at most 8 s: under 10 degrees, nowhere near the
    45 degrees that would change what it says."""
    for seed in range(5):
        turn = carry_turn_deg(*_carry(180.0, bias_dps=1.0, seed=seed))
        assert turn is not None and abs(turn) > 170.0


def test_a_carry_across_cannot_tell_nor_can_one_unread() -> None:
    across = carry_turn_deg(*_carry(90.0))
    assert across == pytest.approx(90.0, abs=0.5)
    assert orientation_of(across) is Orientation.UNSURE
    t, accel, gyro = _carry(180.0)
    kept = (t < 1.0) | (t > 1.6)  # the radio lost for 0.6 s while it turned
    assert carry_turn_deg(t[kept], accel[kept], gyro[kept]) is None
    assert orientation_of(None) is Orientation.UNSURE
    assert orientation_of(134.0) is Orientation.UNSURE
    assert orientation_of(46.0) is Orientation.UNSURE


def _session(person: Person, seed: int = 5) -> SimulatedSession:
    """A realistic roller and link, but no outage of its own: what a carry's loses is the
    person's (``carry_dropout_p``)."""
    drawn = Conditions.realistic(np.random.default_rng(seed), 150.0, 100.0)
    return simulate_parts(PARTS, "stray", seed, dataclasses.replace(drawn, gaps_s=()), 175.0,
                          None, person)


def _rms_cm(sim: SimulatedSession, a: Analysis, index: int) -> float:
    view = a.part(index)
    t = np.asarray(view.track_t_s)
    truth = np.interp(t, sim.truth.t_s, sim.truth.s_cm)
    ok = np.isfinite(truth)
    return float(np.sqrt(np.mean((np.asarray(view.track_s_cm)[ok] - truth[ok]) ** 2)))


def test_a_part_put_down_end_for_end_is_tracked_the_right_way_round() -> None:
    flipped = _session(Person(0.0, None, TAUGHT_STROKE_S, end_for_end_p=1.0))
    same = _session(Person(0.0, None, TAUGHT_STROKE_S, end_for_end_p=0.0))
    assert [p.reversed for p in flipped.truth.parts] == [False, True, False]
    a, b = analyze(Recording(flipped.header, flipped.samples)), \
        analyze(Recording(same.header, same.samples))
    assert [(p.end_for_end, p.orientation_unsure) for p in a.areas] == \
        [(False, False), (True, False), (False, False)]
    assert not any(p.end_for_end or p.orientation_unsure for p in b.areas)
    for i in range(3):
        assert _rms_cm(flipped, a, i) < 3.0
        assert _rms_cm(flipped, a, i) == pytest.approx(_rms_cm(same, b, i), abs=0.5)
    assert any(e.start_s > a.areas[1].start_s for e in a.lumbar_events)  # after the lift
    assert [t for e in a.lumbar_events for t in (e.start_s, e.end_s)] == \
        pytest.approx([t for e in b.lumbar_events for t in (e.start_s, e.end_s)], abs=0.3)
    part = a.to_json()["parts"][1]
    assert part["end_for_end"] is True and part["orientation_unsure"] is False


def _live(sim: SimulatedSession, chunk_s: float = 0.5) -> tuple[list[LiveState], Analysis]:
    """The session fed as it would arrive live, its switches asked for when they were."""
    h, x = sim.header, sim.samples
    estimator = SessionEstimator(h.routine, Body(h.user_height_cm), h.roller_diameter_cm,
                                 h.sample_rate_hz)
    switches = [dataclasses.replace(p, at_s=x[0, 0] + p.at_s) for p in h.parts]
    states = []
    edges = np.arange(x[0, 0], x[-1, 0], chunk_s)[1:]
    for chunk in np.split(x, np.searchsorted(x[:, 0], edges)):
        if not len(chunk):
            continue
        while switches and switches[0].at_s <= chunk[0, 0]:
            step = switches.pop(0)
            estimator.switch(step.routine, step.at_s)
        states.append(estimator.feed(chunk[:, 0], chunk[:, 1:4], chunk[:, 4:7]))
    return states, estimator.finish()


def test_a_carry_put_down_across_is_told_at_once_and_marked() -> None:
    """A carry whose turn is about 90 degrees cannot say which way round the roller lies:
    the live state says so from the part's first moments, and the analysis marks that part
    and the one after it (known only relative to it)."""
    draw = Lift.draw

    def across(rng: np.random.Generator, phi_rad: float, *args: object) -> Lift:
        return dataclasses.replace(draw(rng, phi_rad), end_heading_rad=np.pi / 2)

    with mock.patch.object(Lift, "draw", across):
        sim = _session(Person(0.0, None, TAUGHT_STROKE_S))
    states, a = _live(sim)
    assert [(p.end_for_end, p.orientation_unsure) for p in a.areas] == \
        [(False, False), (False, True), (False, True)]
    unsure = [s for s in states if s.orientation_unsure]
    assert unsure and all(s.part >= 1 and not s.placing for s in unsure)
    rolling = next(s for s in states if s.part == 1 and not s.placing)
    assert rolling.orientation_unsure  # from the first state that shows the part rolled
    assert not any(s.orientation_unsure for s in states if s.part == 0)
    assert json.loads(json.dumps(a.to_json()))["parts"][1]["orientation_unsure"] is True


def test_a_carry_out_of_the_radio_s_reach_is_marked_unsure() -> None:
    sim = _session(Person(0.0, None, TAUGHT_STROKE_S, end_for_end_p=0.0, carry_dropout_p=1.0))
    assert len(sim.conditions.gaps_s) >= 2
    a = analyze(Recording(sim.header, sim.samples))
    assert [p.orientation_unsure for p in a.areas] == [False, True, True]


def test_people_of_the_old_simulator_put_it_down_as_before() -> None:
    """Person() draws no new numbers: the same seed, the same session as before."""
    lift = Lift.draw(np.random.default_rng(3), 0.0)
    assert lift.end_heading_rad == 0.0 and lift.dropout_s is None
    assert Person().end_for_end_p is None
    realistic = Person.realistic(np.random.default_rng(3), 175.0)
    assert realistic.end_for_end_p is not None and realistic.end_for_end_p > 0


def test_the_session_s_start_says_which_way_round_and_calibrate_says_how_it_is_marked() -> None:
    """At a session's start nothing in the roller can tell which way round it lies: the
    placement guidance names the marked end, and the calibration says how to mark it."""
    assert placement("upper_back", first=True).endswith(MARKED_END)
    assert placement("glutes", first=False) == PLACEMENT["glutes"]
    assert "marked end" in MARKED_END and "on your left" in MARK_IT
    assert "left" in prompt("roll", None)
