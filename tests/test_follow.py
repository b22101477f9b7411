"""A program over a live session (``tracker.live.program.Follow``), with the session faked
by what it tells the program: its state, and the area it rolls."""

from __future__ import annotations

from dataclasses import replace

from tracker.core.estimate import LiveState
from tracker.core.programs import Program, Step
from tracker.live.program import Follow

PROGRAM = Program("p", "Back and glutes", "", (
    Step("area", "upper_back", 20.0, "Upper back"),
    Step("area", "glutes", 20.0, "Glutes"),
    Step("stretch", None, 10.0, "Piriformis, left", "Sit tall."),
))
STILL = LiveState(t_s=0.0, s_cm=44.0, s_sd_cm=2.5, region="thoracic", lumbar=False,
                  alerts_s=[], caution=False, cautions_s=[], strokes=0, active_s=0.0,
                  paused_s=0.0, bout_s=0.0, pause_s=0.0)


class Session:
    """What a live session does when the program asks."""

    def __init__(self) -> None:
        self.area, self.calls, self.excused, self.ended = "upper_back", [], 0.0, False

    def switch(self, area: str, off: bool, override: bool) -> None:
        self.calls.append((area, off, override))
        self.area = area

    def follow(self, refusal: str | None = None) -> Follow:
        return Follow(PROGRAM, refusal, self.switch, lambda: setattr(self, "ended", True),
                      lambda t: setattr(self, "excused", t), lambda: self.area)


def test_steps_switch_areas_stretch_off_the_roller_and_end() -> None:
    s = Session()
    follow = s.follow()
    follow.tick(replace(STILL, t_s=1.0, part_active_s=0.0))
    assert s.calls == [] and follow.run.index == 0
    follow.tick(replace(STILL, t_s=30.0, part_active_s=21.0))  # upper back done
    assert s.calls == [("glutes", False, False)]
    follow.tick(replace(STILL, t_s=40.0, part=1, part_active_s=20.5))  # glutes done
    assert s.calls[-1] == ("glutes", True, False) and s.excused == 50.0  # off for a stretch
    follow.tick(replace(STILL, t_s=51.0, part=1, placing=True))
    assert s.ended and follow.run.finished


def test_an_area_switched_by_hand_is_the_sessions_and_the_program_switches_back() -> None:
    s = Session()
    follow = s.follow()
    follow.tick(replace(STILL, t_s=1.0, part_active_s=0.0))
    s.area = "hamstrings"  # the a key, or Home Assistant's select
    assert follow.rolled_s(replace(STILL, t_s=5.0, part=1, part_active_s=8.0)) == 0.0
    follow.tick(replace(STILL, t_s=5.0, part=1, part_active_s=8.0))
    assert s.calls == [("upper_back", False, False)]  # the step's area again


def test_a_refused_glute_step_waits_and_an_override_rolls_it_recorded() -> None:
    s = Session()
    follow = s.follow("a glute session yesterday")
    follow.tick(replace(STILL, t_s=1.0))
    follow.tick(replace(STILL, t_s=30.0, part_active_s=21.0))
    assert follow.run.refusal and s.calls == []  # waits: no switch to refused glutes
    follow.override()
    follow.tick(replace(STILL, t_s=31.0, part_active_s=21.0))
    assert s.calls == [("glutes", False, True)]  # with the override, to be kept
