"""``[alerts]``: when a clinician wants to hear of a person, apart from the alerts
themselves (:mod:`tracker.core.alerts`) so that reading the configuration, which every
command does, loads none of what works them out."""

from __future__ import annotations

from dataclasses import dataclass

from tracker.core.limits import check_ranges


@dataclass(frozen=True)
class AlertRules:
    """``[alerts]`` in the configuration file."""

    idle_days: int = 14  # days without rolling
    comfort_at_least: int = 7  # a score this bad or worse
    comfort_rise: int = 2  # a score this much above the person's usual for the area

    def __post_init__(self) -> None:
        check_ranges("alerts", self, {"idle_days": (1, 365), "comfort_at_least": (1, 10),
                                      "comfort_rise": (1, 10)})
