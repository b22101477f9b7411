"""Rollers in a household or a gym corner: each sleeps, wakes on motion, is rolled, is left
on the mat, and sleeps again; at random, for ``roller gateway --sim N``.

A woken roller advertises until someone connects and streams its use from then on: lying
still a few seconds while it is placed, rolling, then left still on the mat (or put away)
until its firmware sleeps, :attr:`Habits.tail_s` after the last motion, as a real roller's
does to save its battery. That is well past the gateway's still end
(``[session] end_after_still_s``, 60 s), so each use ends its session by lying still, and the
next wake starts a new one. Asleep, the link drops and the roller is gone from the air, while
its clock runs on: the next use's samples go on from where the clock stood, and their packet
numbers start again from zero, as a real roller's do.
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

    asleep_s: tuple[float, float] = (30.0, 600.0)  # between uses
    rolling_s: tuple[float, float] = (60.0, 240.0)
    lead_s: tuple[float, float] = (2.0, 8.0)  # awake, picked up and placed, before rolling
    #: Left still after rolling until the firmware sleeps: it sleeps after 2 minutes
    #: without motion (the gateway ends the session after 1).
    tail_s: float = 120.0
    sessions: int = 0  # each roller's uses; 0: for ever
    routine: str = "upper_back"
    scenarios: tuple[str, ...] = ("clean", "stray")  # drawn for each use


def addresses(count: int) -> list[str]:
    """The household's rollers: C0:FF:EE:00:01:01, ...:02, ..."""
    return [f"C0:FF:EE:00:01:{i + 1:02X}" for i in range(count)]


async def live(count: int, habits: Habits, seed: int, speed: float, height_cm: float) -> None:
    """Every roller's life, until cancelled (or each has been used ``habits.sessions``
    times)."""
    await asyncio.gather(*(_life(address, np.random.default_rng([seed, i]), habits, speed,
                                 height_cm) for i, address in enumerate(addresses(count))))


async def _life(address: str, rng: np.random.Generator, habits: Habits, speed: float,
                height_cm: float) -> None:
    loop = asyncio.get_running_loop()
    born, clock_s = loop.time(), float(rng.uniform(0.0, 5000.0))  # its clock when it began
    used = 0
    while not habits.sessions or used < habits.sessions:
        await asyncio.sleep(rng.uniform(*habits.asleep_s) / speed)
        lead, rolling = rng.uniform(*habits.lead_s), rng.uniform(*habits.rolling_s)
        roller = SimulatedRoller(
            address=address, routine=habits.routine, scenario=str(rng.choice(habits.scenarios)),
            seconds=lead + rolling + habits.tail_s, seed=int(rng.integers(2**31)), speed=speed,
            height_cm=height_cm, lead_s=lead, tail_s=habits.tail_s,
            clock_start_s=clock_s + (loop.time() - born) * speed)
        AIR[address] = roller
        try:
            await roller.finished.wait()
        finally:
            AIR.pop(address, None)
            roller.sleep()
        used += 1
