"""The person on the roller: the parts of the world that depend on who rolls.

Nobody puts a roller exactly "under the shoulder blades": a start a few centimetres off is
normal, and nothing in the roller can see it. Foam compresses more under a heavier body, so
the roller's effective radius shrinks by a few percent. Over a long part the body creeps
along the roller: the foam gives a little more one way than the other, so each stroke leaves
the contact a fraction of its length further than the roller turned, always the same way.
People roll as they are taught, 2-4 s a one-way stroke; left to themselves some roll far
faster (``stroke_s=None``: 8-25 cm/s).
Carrying the roller from one area to the next, people put it down end for end now and then
(nothing on a plain roller says which end is which), and a carry may take the roller out of
the radio's reach for a moment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Foam compression (fraction of the radius) per kg of body on it, for a medium roller;
#: firm and soft foams range half to one and a half times this.
COMPRESSION_PER_KG = 0.0005
#: How long people take for a one-way stroke when they roll as taught (s).
TAUGHT_STROKE_S = (2.0, 4.0)
#: Creep: the standard deviation, across people, of how much further than the roller turned
#: the contact goes per cm of travel, always the same way (a fraction): 0.1 % is 3 cm after
#: 20 minutes at the taught pace. The IMU cannot see it: the body slides on the roller.
CREEP_SD = 0.001
#: How often a realistic person puts the roller down end for end after a lift: an
#: unmarked roller is symmetric, so about one time in three (a guess; any share will do for
#: the estimator, which must get every one right).
END_FOR_END_P = 0.3
#: How often a carry loses the radio for a moment (a guess, as above).
CARRY_DROPOUT_P = 0.05


@dataclass(frozen=True)
class Person:
    """Who rolls. The defaults are an exact person rolling as taught: exactly on the
    landmark, the roller's own compression, no creep, 2-4 s a one-way stroke."""

    placement_cm: float = 0.0  # where the roller really starts, from the landmark (+: feet)
    mass_kg: float | None = None  # None: the roller's own compression stands
    stroke_s: tuple[float, float] | None = TAUGHT_STROKE_S  # a one-way stroke's duration
    keep_off_cm: float = 2.0  # how close strokes come to the edges of the area rolled
    creep: float = 0.0  # contact travel per cm rolled beyond the roller's, + toward the feet
    #: The chance that a lift puts the roller down end for end. None: the old simulator's
    #: lifts, put down exactly square and the same way round; a number (0 included) draws
    #: how far off square each goes down, and with it the two chances here.
    end_for_end_p: float | None = None
    carry_dropout_p: float = 0.0  # the chance that a carry loses the radio for a while

    @classmethod
    def realistic(
        cls, rng: np.random.Generator, height_cm: float, placement_sd_cm: float = 2.5
    ) -> Person:
        """A person drawn at random: placement error normally distributed, a body mass
        index of 19-32, the taught pace, and creep; a lift puts the roller down end for end
        one time in :data:`END_FOR_END_P`, and a carry loses the radio one in
        :data:`CARRY_DROPOUT_P`. Creep is drawn after the rest, so the same ``rng`` gives
        the same person as before creep was modelled, creep aside."""
        bmi = rng.uniform(19.0, 32.0)
        placement_cm = float(rng.normal(0.0, placement_sd_cm)) if placement_sd_cm else 0.0
        return cls(placement_cm, bmi * (height_cm / 100) ** 2, TAUGHT_STROKE_S,
                   end_for_end_p=END_FOR_END_P, carry_dropout_p=CARRY_DROPOUT_P,
                   creep=float(rng.normal(0.0, CREEP_SD)))

    def compression(self, rng: np.random.Generator) -> float:
        """How much this person's weight compresses a roller's foam (of its radius)."""
        if self.mass_kg is None:
            raise ValueError("compression needs the person's mass")
        return float(COMPRESSION_PER_KG * self.mass_kg * rng.uniform(0.5, 1.5))


#: The person of the simulator before it knew the taught pace: exactly on the landmark,
#: rolling briskly. Recordings pinned in tests (checksums, recorded streams) were made of
#: them; any person would do, so they stay.
BRISK = Person(stroke_s=None)
