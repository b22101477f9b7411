"""Rollers in a household or a gym corner: each sleeps, wakes on motion, is rolled, is left
on the mat, and sleeps again; at random, for ``roller gateway --sim N``.

A woken roller advertises until someone connects, streams its session from then on (lying
still a few seconds while it is placed, rolling, then still on the mat), and its firmware
sleeps once the session has lain still ``tail_s``: the link drops and it is gone from the
air until it wakes again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import numpy as np

from firmware_sim.bleak_backend import AIR
from firmware_sim.peripheral import SimulatedRoller


@dataclass(frozen=True)
class Habits:
    """How the people using the rollers behave (simulated seconds)."""

    asleep_s: tuple[float, float] = (30.0, 600.0)  # between sessions
    rolling_s: tuple[float, float] = (60.0, 240.0)
    lead_s: tuple[float, float] = (2.0, 8.0)  # awake, picked up and placed, before rolling
    tail_s: float = 75.0  # left still on the mat before the firmware sleeps
    sessions: int = 0  # each roller's; 0: for ever
    routine: str = "upper_back"
    scenarios: tuple[str, ...] = ("clean", "stray")  # drawn for each session


def addresses(count: int) -> list[str]:
    """The household's rollers: C0:FF:EE:00:01:01, ...:02, ..."""
    return [f"C0:FF:EE:00:01:{i + 1:02X}" for i in range(count)]


async def live(count: int, habits: Habits, seed: int, speed: float, height_cm: float) -> None:
    """Every roller's life, until cancelled (or each has rolled ``habits.sessions``)."""
    await asyncio.gather(*(_life(address, np.random.default_rng([seed, i]), habits, speed,
                                 height_cm) for i, address in enumerate(addresses(count))))


async def _life(address: str, rng: np.random.Generator, habits: Habits, speed: float,
                height_cm: float) -> None:
    rolled = 0
    while not habits.sessions or rolled < habits.sessions:
        await asyncio.sleep(rng.uniform(*habits.asleep_s) / speed)
        lead, rolling = rng.uniform(*habits.lead_s), rng.uniform(*habits.rolling_s)
        roller = SimulatedRoller(
            address=address, routine=habits.routine, scenario=str(rng.choice(habits.scenarios)),
            seconds=lead + rolling + habits.tail_s, seed=int(rng.integers(2**31)), speed=speed,
            height_cm=height_cm, lead_s=lead, tail_s=habits.tail_s)
        AIR[address] = roller
        try:
            await roller.finished.wait()
        finally:
            AIR.pop(address, None)
            roller.sleep()
        rolled += 1
