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

#: Which way round the roller lies: on the floor it reads the same either way, and put the
#: other way round it would read every stroke backwards. Nothing in it can tell at a
#: session's start, so the person keeps the end marked at calibration (``roller calibrate``)
#: on their left; after a lift the carry tells (docs/estimator.md).
MARKED_END: Final = "Keep the roller's marked end on your left."
#: How the mark is set, said when the calibration is done (``roller calibrate``, the
#: dashboard's calibration): the end on the person's left as they rolled it away is +x.
MARK_IT: Final = ("Mark the roller's left end (the one on your left as you rolled it away), "
                  "with tape or a pen: lie on it with that end on your left.")
#: The carry could not tell which way round the roller went down (a turn of about 90
#: degrees, or the radio lost while carrying): it is read with the marked end on the left.
ORIENTATION_UNSURE: Final = ("Could not tell which way round the roller went down: check "
                             "its marked end is on your left.")
ORIENTATION_UNSURE_SHORT: Final = "which way round? marked end on your left"


def placement(area: str, first: bool) -> str:
    """Where to put the roller for ``area``; at a session's start (``first``), also which way
    round, which only the mark can tell then."""
    return f"{PLACEMENT[area]} {MARKED_END}" if first else PLACEMENT[area]


#: Short forms, for a terminal's status line.
ALERT_SHORT: Final = "LOWER BACK: roll back up, or switch to glutes"
CAUTION_SHORT: Final = "nearing the lower back"
#: The contact is probably in the lumbar band.
ALERT: Final = ("LOWER BACK: roll back up to the shoulder blades, or switch to glutes. "
                "The lumbar spine has no ribs to protect it.")
#: The contact is possibly in the lumbar band (its uncertainty reaches it).
CAUTION: Final = "Nearing the lower back: keep your strokes higher (or lower, on the glutes)."
