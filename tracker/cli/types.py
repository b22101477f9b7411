"""Command-line value types that refuse what would only fail later: ``nan`` and infinity
(which compare false with every bound, so ``click.FloatRange`` lets them through), and
integers larger than the store or the random generator can hold."""

from __future__ import annotations

import math
from typing import Any

import click

from tracker.core.body import ROUTINES


class Finite(click.FloatRange):
    """A :class:`click.FloatRange` of finite numbers only."""

    name = "number"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{number} is not a finite number", param, ctx)
        return number


#: A session id: what SQLite's integer key can hold.
SESSION_ID = click.IntRange(1, 2**63 - 1)
#: A simulator seed: what NumPy's generator takes.
SEED = click.IntRange(0, 2**32 - 1)
#: A count of sessions to show.
COUNT = click.IntRange(1, 2**31 - 1)


def parts(_ctx: click.Context, _param: click.Parameter,
          value: str | None) -> list[tuple[str, float]] | None:
    """``--parts AREA:SECONDS,...``: a simulated session's parts, each 10 s to 4 h."""
    if value is None:
        return None
    found = []
    for item in value.split(","):
        area, _, seconds = item.strip().partition(":")
        try:
            duration = float(seconds)
        except ValueError:
            duration = math.nan
        if area not in ROUTINES or not 10 <= duration <= 4 * 3600:
            raise click.BadParameter(f"{item.strip()!r} is not AREA:SECONDS (areas: "
                                     f"{', '.join(ROUTINES)}; 10 s to 4 h)")
        found.append((area, duration))
    return found
