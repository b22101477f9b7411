"""A TOML file a person writes (a program, a prescription), read so that every problem names
the line it is on: ``FILE:LINE: problem`` in one line.

``tomllib`` says where a syntax error is but not where a value is, so the lines of the
tables and their keys are found in the text itself (:func:`layout`); :class:`Fields` reads
one table's values and places each problem at its key's line, or at the table's header when
the key is missing. Pure: text in, values or a :class:`~tracker.core.limits.FileProblem` out.
"""

from __future__ import annotations

import datetime
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, NoReturn

from tracker.core.limits import FileProblem, quote


@dataclass(frozen=True)
class Fields:
    """One table's values, read so that each problem names the line it is on: the key's, or
    the table header's when the key is missing. ``error`` is the file kind's own problem
    (a :class:`FileProblem`), ``longest`` the most characters each text key may hold."""

    values: dict[str, Any]
    table: Table
    source: str
    what: str  # the table, as a message names it
    error: type[FileProblem]
    longest: Mapping[str, int]

    def fail(self, key: str | None, problem: str) -> NoReturn:
        raise self.error(self.source, self.line_of(key), problem)

    def line_of(self, key: str | None) -> int | None:
        return self.table.keys.get(key, self.table.line) if key else self.table.line

    def get(self, key: str) -> Any:
        if key not in self.values:
            self.fail(None, f"the {self.what} has no {key}")
        return self.values[key]

    def only(self, known: Sequence[str]) -> None:
        for key in self.values:
            if key not in known:
                self.fail(key, f"unknown key {quote(key)} ({self.what}s take "
                               f"{', '.join(known)})")

    def text(self, key: str, default: str | None = None) -> str:
        if default is not None and key not in self.values:
            return default
        value, longest = self.get(key), self.longest[key]
        if not isinstance(value, str):
            self.fail(key, f"{key} must be text in quotes, not {quote(value)}")
        if not value.strip() or not value.isprintable() or len(value) > longest:
            self.fail(key, f"{key} must be one line of 1 to {longest} characters, "
                           f"not {quote(value)}")
        return value

    def number(self, key: str, bounds: tuple[float, float], unit: str) -> float:
        """A number of ``unit`` within ``bounds`` (never a boolean, nan or infinity)."""
        value, (low, high) = self.get(key), bounds
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(key, f"{key} must be a number of {unit}, not {quote(value)}")
        if not low <= value <= high:  # also refuses nan
            self.fail(key, f"{key} must be {low:g} to {high:g} {unit}, not {quote(value)}")
        return float(value)

    def whole(self, key: str, bounds: tuple[int, int], unit: str) -> int:
        """A whole number of ``unit`` within ``bounds``."""
        value = self.number(key, bounds, unit)
        if not value.is_integer():
            self.fail(key, f"{key} must be a whole number of {unit}, not {quote(value)}")
        return int(value)

    def date(self, key: str) -> datetime.date:
        """A day, written as TOML writes one: ``2026-12-07`` (no time, no quotes)."""
        value = self.get(key)
        if type(value) is not datetime.date:
            self.fail(key, f"{key} must be a date such as 2026-12-07, not {quote(value)}")
        return value

    def seconds(self, key: str, bounds: tuple[float, float]) -> float:
        return self.number(key, bounds, "seconds")

    def tables(self, key: str, header: str) -> list[dict[str, Any]]:
        value = self.get(key)
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.fail(key, f"{key} must be {header} tables")
        return value

    def table_of(self, key: str, header: str) -> dict[str, Any]:
        value = self.get(key)
        if not isinstance(value, dict):
            self.fail(key, f"{key} must be a {header} table")
        return value

    def within(self, key: str, tables: Sequence[dict[str, Any]], what: str) -> list[Fields]:
        """The Fields of each of ``tables``, the values of this table's ``key`` (an array of
        tables), each placed at its own header when the text has one per table, else at what
        holds them all (an inline array: its key's line)."""
        places = self.table.children.get(key, [])
        if len(places) != len(tables):
            places = [Table(self.line_of(key))] * len(tables)
        return [Fields(values, place, self.source, what, self.error, self.longest)
                for values, place in zip(tables, places, strict=True)]


def load(text: str, source: str, error: type[FileProblem]) -> dict[str, Any]:
    """The TOML document; a syntax error names the line tomllib gives."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # "Invalid value (at line 3, column 9)" or "... (at end of document)" (Python 3.11+)
        found = re.fullmatch(r"(.*) \(at (?:line (\d+), column (\d+)|end of document)\)",
                             str(exc))
        if found is None:
            raise error(source, None, f"not valid TOML: {exc}") from None
        what, line, column = found.groups()
        if line is None:
            raise error(source, text.rstrip().count("\n") + 1,
                        f"not valid TOML: {what} at the end") from None
        raise error(source, int(line), f"not valid TOML: {what} (column {column})") from None
    except RecursionError:
        raise error(source, None, "not valid TOML: nested too deeply") from None
    except ValueError:  # int() past Python's digit limit, which tomllib lets through
        raise error(source, None, "not valid TOML: a number has too many digits") from None


@dataclass(frozen=True)
class Table:
    """Where one table is in the text: its header's line (None for the top level), the first
    line of each key it sets, and the tables under it with a header of their own, by key
    (``[[program.step]]`` under the ``[[program]]`` before it)."""

    line: int | None
    keys: dict[str, int] = field(default_factory=dict)
    children: dict[str, list[Table]] = field(default_factory=dict)


#: What may hold any text in TOML: strings (multi-line ones first) and comments. Blanked out,
#: they leave the structure, whose lines can then be read one by one.
_OPAQUE: Final = re.compile(r'"""(?:[^\\]|\\[\s\S])*?"{3,5}|\'\'\'[\s\S]*?\'{3,5}'
                            r'|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'|#[^\n]*')
_BARE: Final = r"[A-Za-z0-9_-]+"
_HEADER: Final = re.compile(rf"\s*(\[\[?)\s*({_BARE}(?:\s*\.\s*{_BARE})*)\s*\]\]?\s*")
_KEY: Final = re.compile(rf"\s*({_BARE})\s*[.=]")


def layout(text: str) -> Table:
    """The lines of the tables and keys of valid TOML, from the top level down through the
    headers (``[name]``, ``[[name]]``, ``[[name.sub]]``), in order; a header's first part is
    also a key of the top level, at its first header. What is spelled in quotes is not
    found, nor are tables without a header (an inline array of them): a problem there is
    reported on the line of what holds it, the table's header or the array's key."""
    structure = _OPAQUE.sub(lambda m: re.sub(r"[^\n]", " ", m[0]), text)
    root = Table(None)
    table = root
    for number, line in enumerate(structure.split("\n"), start=1):
        if header := _HEADER.fullmatch(line):
            *parents, name = re.sub(r"\s", "", header[2]).split(".")
            root.keys.setdefault(parents[0] if parents else name, number)
            table = Table(number)
            holder: Table | None = root
            for parent in parents:
                holder = holder.children[parent][-1] if holder and holder.children.get(
                    parent) else None
            if holder is not None and header[1] == "[[":
                holder.children.setdefault(name, []).append(table)
            elif holder is not None:
                holder.children[name] = [table]
        elif key := _KEY.match(line):
            table.keys.setdefault(key[1], number)
    return root
