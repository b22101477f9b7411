"""Device profiles: our roller's protocol and off-the-shelf BLE IMUs in a hollow roller.

Each profile module holds pure frame decoding plus a :class:`Profile` description;
:func:`identify` names the profile of an advertising device, and :mod:`.ble` is the one
Bluetooth LE link that speaks any of them.
"""

from __future__ import annotations

from collections.abc import Iterable

from tracker.devices import movesense, roller, witmotion
from tracker.devices.base import Decoder, FrameError, Profile, Samples

PROFILES: dict[str, Profile] = {
    p.name: p for p in (roller.PROFILE, witmotion.PROFILE, movesense.PROFILE)}


def profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown device profile {name!r} (known: "
                         f"{', '.join(PROFILES)})") from None


def identify(name: str | None, service_uuids: Iterable[str]) -> Profile | None:
    """The profile of a device from its advertisement: its services, else its name."""
    services = {uuid.lower() for uuid in service_uuids}
    for candidate in PROFILES.values():
        if candidate.service_uuid in services:
            return candidate
    for candidate in PROFILES.values():
        if name and name.startswith(candidate.name_prefixes):
            return candidate
    return None


__all__ = ["PROFILES", "Decoder", "FrameError", "Profile", "Samples", "identify", "profile"]
