"""Command-line value types that refuse what would only fail later: ``nan`` and infinity
(which compare false with every bound, so ``click.FloatRange`` lets them through), and
integers larger than the store or the random generator can hold."""

from __future__ import annotations

import math
from typing import Any

import click


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
