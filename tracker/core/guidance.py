"""What the person is told, in plain words: where to put the roller, and what to do near the
lower back. One place, so the dashboard and the terminal say the same thing."""

from __future__ import annotations

from typing import Final

#: How to find each routine's start by feel: every position is measured from it, so a start
#: a few centimetres off is the largest error there is (docs/estimator.md).
PLACEMENT: Final[dict[str, str]] = {
    "upper_back": "Lie back with the roller across your back at the bottom tips of your "
                  "shoulder blades (bra-strap height); hands behind your head, hips down.",
    "glutes": "Sit on the roller with it under the fleshy middle of your buttocks, below the "
              "bony rim of the pelvis; lean to one side.",
    "hamstrings": "Sit with the roller under the middle of your thighs, halfway between the "
                  "buttock crease and the back of the knee; hands behind you.",
    "calves": "Sit with the roller under the thickest part of your calves, a hand's width "
              "below the back of the knee; hands behind you.",
}

#: Short forms, for a terminal's status line.
ALERT_SHORT: Final = "LOWER BACK: roll back up, or switch to glutes"
CAUTION_SHORT: Final = "nearing the lower back"
#: The contact is probably in the lumbar band.
ALERT: Final = ("LOWER BACK: roll back up to the shoulder blades, or switch to glutes. "
                "The lumbar spine has no ribs to protect it.")
#: The contact is possibly in the lumbar band (its uncertainty reaches it).
CAUTION: Final = "Nearing the lower back: keep your strokes higher (or lower, on the glutes)."
