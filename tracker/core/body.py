"""The body model: where each region lies along the back of the body, and routine landmarks.

Positions are ``s_cm``: distance from the top of the head down the back of the body.
Region bounds are fractions of standing height, so the model scales to any user.

The regions and routines are what every command names; numpy, for positions looked up by the
thousand, is imported by that lookup alone, so that a command that only reads the store
(``roller history``, ``roller session show``) starts without it (``python -m bench.startup``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

#: Regions from the head down, with the fraction of standing height where each one ends.
REGION_ENDS: Final[tuple[tuple[str, float], ...]] = (
    ("head", 0.10),
    ("cervical", 0.17),
    ("thoracic", 0.33),
    ("lumbar", 0.43),
    ("glutes", 0.53),
    ("hamstrings", 0.72),
    ("calves", 1.00),
)
REGIONS: Final[tuple[str, ...]] = tuple(name for name, _ in REGION_ENDS)
LUMBAR: Final = REGIONS.index("lumbar")

#: Where each routine starts, as a fraction of standing height (the recording's first sample).
LANDMARKS: Final[dict[str, float]] = {
    "upper_back": 0.25,  # shoulder blades, about T6
    "glutes": 0.48,
    "hamstrings": 0.62,
    "calves": 0.84,
}
ROUTINES: Final[tuple[str, ...]] = tuple(LANDMARKS)


@dataclass(frozen=True)
class Body:
    """A person's back, scaled from the default proportions by standing height."""

    height_cm: float = 175.0

    def __post_init__(self) -> None:
        if not (50.0 <= self.height_cm <= 272.0):
            raise ValueError(f"height {self.height_cm} cm is not a human standing height")

    @property
    def bounds_cm(self) -> tuple[float, ...]:
        """Region boundaries from the top of the head: 0, end of head, ..., end of calves."""
        return (0.0, *(end * self.height_cm for _, end in REGION_ENDS))

    @property
    def lumbar_cm(self) -> tuple[float, float]:
        """Top and bottom of the lumbar band."""
        bounds = self.bounds_cm
        return bounds[LUMBAR], bounds[LUMBAR + 1]

    def landmark_cm(self, routine: str) -> float:
        """The position where a recording of ``routine`` starts."""
        return LANDMARKS[routine] * self.height_cm

    def region_index(self, s_cm: npt.ArrayLike) -> npt.NDArray[np.intp]:
        """Index into :data:`REGIONS` per position; positions off the body clamp to the ends."""
        import numpy as np

        inner = np.array(self.bounds_cm[1:-1])
        return np.searchsorted(inner, np.asarray(s_cm, dtype=float), side="right")

    def region_at(self, s_cm: float) -> str:
        """The region name at one position."""
        return REGIONS[int(self.region_index(s_cm))]
