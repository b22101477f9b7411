"""The estimator's settings: what is counted (``[estimator]`` in the configuration file), how
far a position may be off, and the tuning of the rotation's fusion.

Apart from :mod:`tracker.core.estimate`, which uses them, because every command reads the
configuration and most never run the estimator: the settings are plain numbers, checked where
they are read, and the estimator is numpy, which a command that only reads the store
(``roller history``, ``roller schedule``) starts without (``python -m bench.startup``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from tracker.core.limits import check_ranges

#: A caution ends once the interval is this far (cm) clear of the band again ...
CLEAR_CM = 1.0
#: ... and has stayed clear this long (s): a person working just above the band gets one
#: caution for the bout, not one at the bottom of every stroke (a stroke cycle is 4-8 s at
#: the taught pace, and a pause on a tight spot 10-20 s).
CLEAR_S = 15.0


@dataclass(frozen=True)
class FusionConfig:
    """Tuning of the gyro-gravity fusion; the defaults fit the specified hardware ranges."""

    block_s: float = 0.1
    gap_periods: float = 2.5  # an interval this many sample periods long is a gap
    sensor_offset_max_m: float = 0.03
    accel_floor_rad: float = 0.03  # accelerometer bias and scale errors, as an angle
    bias_walk_rad2_s3: float = 1e-6
    bias_prior_rad_s: float = math.radians(1.5)
    reference_s: float = 1.0  # the start angle is refined over this first stretch
    centre_s: float = 3.0  # memory of "where the roller has been lately", for long gaps


@dataclass(frozen=True)
class Uncertainty:
    """The error model's sizes; ``[estimator]`` in the configuration file."""

    placement_sd_cm: float = 2.5
    scale_sd_percent: float = 4.0
    creep_sd_percent: float = 0.1
    slip_sd_cm_per_10m: float = 1.0

    def __post_init__(self) -> None:
        check_ranges("uncertainty", self, {
            "placement_sd_cm": (0, 20), "scale_sd_percent": (0, 30),
            "creep_sd_percent": (0, 5), "slip_sd_cm_per_10m": (0, 20)})


@dataclass(frozen=True)
class EstimatorConfig:
    """Definitions of what is counted; ``[estimator]`` in the configuration file."""

    stroke_min_cm: float = 2.0
    stroke_reversal_cm: float = 0.5
    pause_speed_cm_s: float = 0.5
    pause_min_s: float = 3.0
    lumbar_alert_depth_cm: float = 1.0
    lumbar_caution_cm: float = 2.0
    lumbar_caution_sd: float = 0.75
    lumbar_caution_hold_s: float = CLEAR_S
    track_rate_hz: float = 10.0
    fusion: FusionConfig = field(default_factory=FusionConfig)
    uncertainty: Uncertainty = field(default_factory=Uncertainty)

    def __post_init__(self) -> None:
        check_ranges("estimator", self, {
            "stroke_min_cm": (0.1, 100), "stroke_reversal_cm": (0.01, 50),
            "pause_speed_cm_s": (0.01, 100), "pause_min_s": (0.1, 600),
            "lumbar_alert_depth_cm": (0, 10), "lumbar_caution_cm": (0, 20),
            "lumbar_caution_sd": (0, 5), "lumbar_caution_hold_s": (0, 600),
            "track_rate_hz": (0.1, 100)})
