"""The simulator behind ``--sim``, ``roller simulate`` and ``roller demo``.

``tracker`` imports ``firmware_sim`` only here, and only when one of those is asked for.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracker.core.formats.roller_imu import Recording, write
from tracker.core.programs import Program
from tracker.live.source import Source

if TYPE_CHECKING:
    from firmware_sim.session import SimulatedSession


@dataclass(frozen=True)
class Who:
    """The simulated person, for ``roller simulate``: where they put the roller (cm from
    the landmark, + toward the feet), their weight (compresses the foam) and their pace."""

    placement_cm: float = 0.0
    mass_kg: float | None = None
    taught_pace: bool = True  # 2-4 s a one-way stroke; else brisk, as people roll untaught


def run(
    routine: str, scenario: str, seconds: float, seed: int, rate_hz: float | None,
    height_cm: float, who: Who = Who(), parts: Sequence[tuple[str, float]] = (),
) -> SimulatedSession:
    """One simulated session: of ``routine`` for ``seconds``, or of ``parts`` (area,
    seconds) one after another, the roller lifted between them."""
    from firmware_sim.person import TAUGHT_STROKE_S, Person
    from firmware_sim.session import simulate, simulate_parts

    person = Person(who.placement_cm, who.mass_kg, TAUGHT_STROKE_S if who.taught_pace else None)
    if parts:
        return simulate_parts(parts, scenario, seed, None, height_cm, rate_hz, person)
    return simulate(routine, scenario, seconds, seed, None, height_cm, rate_hz, person=person)


def simulate_recording(
    routine: str, scenario: str, seconds: float, seed: int, rate_hz: float | None,
    height_cm: float,
) -> Recording:
    """A simulated session as a recording, in memory."""
    sim = run(routine, scenario, seconds, seed, rate_hz, height_cm)
    return Recording(sim.header, sim.samples)


def write_simulation(
    output: Path, routine: str, scenario: str, seconds: float, seed: int,
    rate_hz: float | None, height_cm: float, who: Who = Who(),
    parts: Sequence[tuple[str, float]] = (),
) -> Path:
    """Write a simulated recording and its ground truth beside it; return the truth's path."""
    sim = run(routine, scenario, seconds, seed, rate_hz, height_cm, who, parts)
    write(output, sim.header, sim.samples)
    truth_path = output.with_name(output.name.removesuffix(".csv") + ".truth.json")
    truth = sim.truth.to_json(sim.conditions) | {"person": asdict(who)}
    truth_path.write_text(json.dumps(truth) + "\n", encoding="utf-8")
    return truth_path


SIM_ADDRESS = "C0:FF:EE:00:00:01"  # the simulated roller's address (firmware_sim's default)
#: Each profile's simulated sensor has its own address, so each keeps its own calibration.
SIM_ADDRESSES = {"roller": SIM_ADDRESS, "witmotion": "C0:FF:EE:00:00:02",
                 "movesense": "C0:FF:EE:00:00:03"}


def following(program: Program, skip_glutes: bool) -> list[tuple[str, float]]:
    """The areas a simulated person rolls for ``program``, each well past its target (the
    program moves on first; the person lifts the roller after), glutes left out on a day
    they are skipped."""
    return [(step.area, step.seconds * 1.5 + 15.0) for step in program.steps
            if step.area and not (skip_glutes and step.area == "glutes")]


def sim_roller(
    routine: str, scenario: str, seconds: float, seed: int, speed: float, height_cm: float,
    loss: float = 0.0, corrupt_every: int = 0, drops: tuple[tuple[float, float], ...] = (),
    profile: str = "roller", distance_cm: float = 60.0,
    parts: Sequence[tuple[str, float]] = (),
) -> Source:
    """Put a simulated sensor in the air (``--sim``); call inside the running event loop.

    ``profile`` chooses which device it presents itself as; ``routine="calibrate"`` makes
    it go through the calibration step instead of a session on the body; ``parts``
    (area, seconds) make the person roll several areas, lifting the roller between them.
    """
    from firmware_sim.bleak_backend import AIR, SimClient, SimScanner
    from firmware_sim.peripheral import Faults, SimulatedRoller

    roller = SimulatedRoller(address=SIM_ADDRESSES[profile], routine=routine,
                             scenario=scenario, seconds=seconds, seed=seed, speed=speed,
                             height_cm=height_cm, faults=Faults(loss, corrupt_every, drops),
                             profile=profile, distance_cm=distance_cm, parts=parts)
    AIR[roller.address] = roller
    return Source(roller.address, SimScanner, SimClient, roller.finished, profile,
                  roller.air_time, speed)


def sim_household(count: int, seed: int, speed: float, height_cm: float, **habits: Any
                  ) -> tuple[list[Source], Callable[[], Coroutine[Any, Any, None]]]:
    """``count`` simulated rollers that wake, are rolled and sleep at random (``roller gateway
    --sim``; ``habits`` as :class:`firmware_sim.household.Habits`): their sources, and their
    lives to run beside the gateway."""
    from firmware_sim import household
    from firmware_sim.bleak_backend import SimClient, SimScanner

    def world() -> float:  # the household's clock: the rollers' own, at ``speed``
        return time.monotonic() * speed

    sources = [Source(address, SimScanner, SimClient, profile="roller", clock=world,
                      speed=speed) for address in household.addresses(count)]
    how = household.Habits(**habits)
    return sources, lambda: household.live(count, how, seed, speed, height_cm)
