"""``roller track``'s live frame, drawn for a width: pure lines, and what it writes."""

from __future__ import annotations

import io
from dataclasses import replace

import click
import pytest

from tracker.cli.frame import BELL, LiveFrame, frame_lines
from tracker.core.estimate import LiveState
from tracker.core.guidance import ALERT, ALERT_SHORT
from tracker.core.status import Status

STATE = LiveState(t_s=30.0, s_cm=62.0, s_sd_cm=2.5, region="lumbar", lumbar=True,
                  alerts_s=[30.0], caution=True, cautions_s=[], strokes=9, active_s=30.0,
                  paused_s=0.0, bout_s=30.0, pause_s=0.0)
WARNING = ("the roller turns 35 deg away from its calibrated axis: has the sensor moved? run "
           "roller calibrate")


@pytest.mark.parametrize("columns", [30, 40, 60, 80, 100, 120, 200])
def test_no_line_reaches_the_last_column_and_the_alert_comes_first_whole(columns: int) -> None:
    drawn = frame_lines(Status("live", 0, STATE, 0.0, 80, WARNING), "connected", columns)
    lines = [click.unstyle(line) for line in drawn]
    assert all(len(line) < columns for line in lines)
    red = sum(line != plain for line, plain in zip(drawn, lines, strict=True))
    assert all(line != plain for line, plain in zip(drawn[:red], lines, strict=False))  # first
    alert = ALERT if len(ALERT) < columns else ALERT_SHORT
    assert " ".join(lines[:red]) == alert  # wrapped at words when even the short form is wide
    assert red == 1 or columns <= len(ALERT_SHORT)
    assert " ".join(lines).endswith(WARNING)  # the warning in full, however narrow


def test_the_bell_rings_once_an_alert_and_the_frame_is_erased() -> None:
    out = io.StringIO()
    frame = LiveFrame(out)
    status = Status("live", 0, STATE, 0.0, 80)
    frame.draw(status)
    frame.draw(status)  # the same state shown again (the link's news)
    frame.draw(replace(status, state=replace(STATE, alerts_s=[])))  # the alert goes on
    assert out.getvalue().count(BELL) == 1
    frame.draw(replace(status, state=replace(STATE, t_s=40.0, alerts_s=[40.0])))
    assert out.getvalue().count(BELL) == 2
    drawn = len(frame_lines(status, None, 80))
    frame.clear()
    assert out.getvalue().endswith(f"\r\x1b[{drawn - 1}A\x1b[J")
