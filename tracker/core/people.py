"""People who share a roller: each with their own height, time zone and glute schedule.

The body model scales with standing height and the schedule is personal, so a household
sharing one roller needs one profile each. What a person leaves unset follows the
configuration (``[user]``, ``[schedule]``): the profile made for a store from before people
existed sets nothing, so it behaves exactly as that store did. Pure: names are checked and
profiles resolved here; the store keeps them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date
from typing import TYPE_CHECKING, Any, Final

from tracker.core.body import Body
from tracker.core.errors import InputError
from tracker.core.limits import normal_text, quote, visible
from tracker.core.schedule import Rules

if TYPE_CHECKING:
    from tracker.core.prescription import Prescription

#: The profile a store from before people existed gives all its sessions, and the first
#: session of a new store makes when nobody else exists.
FIRST_PERSON: Final = "me"
_NAME = re.compile(r"[^\W_][\w .'-]{0,31}", re.UNICODE)
#: The ``[schedule]`` keys a person may set for themselves.
PERSONAL_RULES: Final = tuple(f.name for f in fields(Rules))


class PersonError(InputError):
    """A name or setting a person cannot have."""


def check_name(name: str) -> str:
    """A person's name: 1-32 letters, digits, spaces, ``.'-_``, starting with a letter or
    digit; it appears in topics only through the person's ``uid``, so any script is fine.
    Kept NFC: a name typed decomposed (macOS gives "Zoe" and a combining diaeresis) is the
    same name as the one typed composed, and passes as it does."""
    name = normal_text(name.strip())
    if not _NAME.fullmatch(name):
        raise PersonError(f"{quote(name)} is not a name: 1-32 letters, digits, spaces or "
                          ".'-_, starting with a letter or digit")
    return name


def name_key(name: str) -> str:
    """What makes two names the same name: compatibility-normalised (full-width letters are
    the plain ones, decomposed ``Zoë`` is composed) and case folded in full (Straße, STRASSE)."""
    folded = unicodedata.normalize("NFKC", name.strip()).casefold()
    return unicodedata.normalize("NFKC", folded)


@dataclass(frozen=True)
class Person:
    """One profile. ``None`` (and rules left out) means "as the configuration says"."""

    id: int
    uid: str  # stable across renames: Home Assistant's unique ids are made from it
    name: str
    height_cm: float | None = None
    zone: str | None = None
    rules: Mapping[str, Any] = field(default_factory=dict)  # [schedule] keys set for them
    #: Their prescription not ended, whose dates may or may not run today (:meth:`treated`).
    prescription: Prescription | None = None

    def body(self, default: Body) -> Body:
        return Body(self.height_cm) if self.height_cm is not None else default

    def schedule(self, default: Rules) -> Rules:
        """The configuration's rules with this person's own on top."""
        try:
            return replace(default, **self.rules)
        except TypeError:
            unknown = sorted(set(self.rules) - set(PERSONAL_RULES))
            raise PersonError(f"{visible(self.name)}: unknown schedule rule(s) "
                              f"{visible(', '.join(unknown))}"
                              ) from None

    def treated(self, day: date) -> Prescription | None:
        """Their prescription, if it runs on ``day`` (their local day)."""
        rx = self.prescription
        return rx if rx is not None and rx.running(day) else None

    def describe(self, default: Body, default_zone: str, default_rules: Rules,
                 prescribed: Prescription | None = None) -> str:
        """One line: height, zone and glute quota, saying which come from the configuration
        and which from the prescription ``prescribed`` (theirs, running today)."""
        rules = self.schedule(default_rules)

        def own(value: str, mine: bool) -> str:
            return value if mine else f"{value} (configured)"

        height = own(f"{self.body(default).height_cm:g} cm", self.height_cm is not None)
        zone = own(self.zone or default_zone, self.zone is not None)
        quota = own(f"{rules.glute_sessions_per_week}x a week",
                    "glute_sessions_per_week" in self.rules)
        if prescribed is not None and "glutes" in {d.area for d in prescribed.doses}:
            quota = f"{prescribed.rules(rules).glute_sessions_per_week}x a week (prescribed)"
        return f"{height}, {zone}, glutes {quota}"
