"""The rollers a store knows: paired, calibrated, and who each said it is.

Apart from the sessions because a device outlives them (forgetting a roller keeps its
sessions) and its rows change for other reasons: pairing, calibration, a connection. A
session's start marks its roller as seen in the session's own transaction
(:mod:`tracker.store.writes`).

A calibration and an identity are made (their modules imported) by the reads that return
one: every command opens the store, and most never ask.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracker.store.codec import iso
from tracker.store.connection import Connection
from tracker.store.errors import StoreError, UnknownSession, Writing

if TYPE_CHECKING:
    import sqlite_utils

    from tracker.core.calibration import Mounting
    from tracker.core.status import Identity


class Devices:
    """The store's ``devices`` table. Reached as ``Store.devices``."""

    def __init__(self, db: Connection, path: Path, writing: Writing) -> None:
        self.db, self.path, self._writing = db, path, writing

    def pair(self, address: str, name: str, at: datetime, profile: str = "roller") -> None:
        """Pair a roller: ``roller gateway`` watches every paired one, and ``roller track``
        uses the one paired last unless told otherwise (``paired`` counts up: 0 is unpaired)."""
        with self._writing() as db:
            order = db.execute("SELECT coalesce(max(paired), 0) + 1 FROM devices").fetchone()[0]
            _seen(db, address, name, at, paired=order, profile=profile)

    def calibrate(self, address: str, name: str, profile: str, mounting: Mounting,
                  at: datetime) -> None:
        """Keep a sensor's calibration; its sessions use it from now on."""
        with self._writing() as db:
            _seen(db, address, name, at, profile=profile, calibrated_at=iso(at),
                  mounting=json.dumps(mounting.to_json()))

    def remember_identity(self, identity: Identity, at: datetime) -> None:
        """What a device said of itself when it connected."""
        with self._writing() as db:
            _seen(db, identity.address, identity.name, at,
                  manufacturer=identity.manufacturer, model=identity.model,
                  firmware=identity.firmware)

    def rename(self, address: str, label: str) -> None:
        """What its owner calls a roller from now on (Home Assistant's name for it)."""
        with self._writing() as db:
            if not db.execute("UPDATE devices SET label = ? WHERE address = ?",
                              [label, address]).rowcount:
                raise UnknownSession(f"no roller {address} is known (roller devices lists "
                                     "them)")

    def seen(self, address: str) -> tuple[str | None, str | None]:
        """A roller's name given by its owner and when it was last seen (each None when
        not; both for a roller never seen)."""
        row = self.db.execute("SELECT label, last_seen FROM devices WHERE address = ?",
                              [address]).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def labels(self) -> dict[str, str | None]:
        """Every known roller's name given by its owner (None: not named)."""
        return {str(r[0]): r[1] for r in self.db.execute("SELECT address, label FROM devices")}

    def identity(self, address: str) -> Identity | None:
        """What is remembered of who a device is (blank what is not); None if never seen."""
        rows = list(self.db.query("SELECT name, manufacturer, model, firmware FROM devices "
                                  "WHERE address = ?", [address]))
        if not rows:
            return None
        from tracker.core.status import Identity

        return Identity(address, **{k: v or "" for k, v in rows[0].items()})

    def known(self, address: str) -> tuple[str, Mounting | None] | None:
        """A known device's profile and calibration; None for a device never seen."""
        rows = list(self.db.query("SELECT profile, mounting FROM devices WHERE address = ?",
                                  [address]))
        if not rows:
            return None
        if not (mounting := rows[0]["mounting"]):
            return rows[0]["profile"], None
        from tracker.core.calibration import Mounting

        try:
            return rows[0]["profile"], Mounting.from_json(json.loads(mounting))
        except (ValueError, KeyError, TypeError):
            raise StoreError(f"{self.path}: the calibration of {address} is damaged: run "
                             "roller calibrate again") from None

    def forget(self, address: str) -> None:
        """Unpair a roller; its sessions stay."""
        if not self.db.execute("SELECT count(*) FROM devices WHERE address = ?",
                               [address]).fetchone()[0]:
            raise UnknownSession(f"no roller {address} is known")
        with self._writing() as db:
            db.execute("UPDATE devices SET paired = 0 WHERE address = ?", [address])

    def paired(self) -> str | None:
        """The roller paired last: the one to use when none is named."""
        row = self.db.execute("SELECT address FROM devices WHERE paired > 0 "
                              "ORDER BY paired DESC LIMIT 1").fetchone()
        return str(row[0]) if row else None

    def paired_all(self) -> list[str]:
        """Every paired roller, in the order they were paired."""
        return [str(r[0]) for r in self.db.execute(
            "SELECT address FROM devices WHERE paired > 0 ORDER BY paired")]

    def all(self) -> list[dict[str, Any]]:
        """Every device ever seen, with its count of sessions: paired ones first, the one
        paired last first of all, then the most recently seen."""
        return list(self.db.query(
            "SELECT d.*, count(s.id) AS sessions FROM devices d LEFT JOIN sessions s "
            "ON s.device = d.address GROUP BY d.address ORDER BY d.paired DESC, d.last_seen DESC"))


def _seen(db: sqlite_utils.Database, address: str, name: str, at: datetime,
          **values: Any) -> None:
    """A device seen at ``at`` (its first sighting kept), with what else is known of it now,
    inside the caller's transaction."""
    db.table("devices").upsert({"address": address, "name": name, "last_seen": iso(at),
                                **values}, pk="address")
    db.execute("UPDATE devices SET first_seen = ? WHERE address = ? AND first_seen "
               "IS NULL", [iso(at), address])
