"""Configuration: embedded defaults, then the user's file, then ``ROLLER_<SECTION>_<KEY>``.

The defaults file (``config/roller.toml``, shipped inside the package) documents every key;
a key it does not have is a mistake in the user's file and is reported, not ignored.

What the settings are made of (the body, the estimator's and the schedule's settings, MQTT's)
is imported when they are made (:func:`load`): ``roller --help`` names the configuration file
without loading numpy and the estimator.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs

from tracker.core import clock
from tracker.core.errors import InputError
from tracker.core.limits import quote, within
from tracker.files import read_text

if TYPE_CHECKING:
    from tracker.core.alert_rules import AlertRules
    from tracker.core.body import Body
    from tracker.core.lifecycle import Lifecycle
    from tracker.core.people import Person
    from tracker.core.prescription import Prescription
    from tracker.core.programs import Program
    from tracker.core.proxy_settings import ProxyAddress
    from tracker.core.schedule import Rules
    from tracker.core.tuning import EstimatorConfig
    from tracker.mqtt.settings import MqttSettings

ENV_PREFIX = "ROLLER_"
#: ``[log] level``'s values, quietest last; empty: each command's own (warning; info for the
#: gateway).
LOG_LEVELS = ("debug", "info", "warning", "error")
Table = dict[str, dict[str, Any]]


class ConfigError(InputError):
    """A configuration file or variable that cannot be used."""


def defaults_text() -> str:
    """The embedded defaults (from the wheel, or from the source tree in development). The
    wheel puts them beside this module (``force-include`` in ``pyproject.toml``) and roller
    is installed as files, never run from a zip: a path, not :mod:`importlib.resources`,
    whose import every command would pay (``python -m bench.startup``)."""
    packaged = Path(__file__).with_name("roller.toml")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).parent.parent / "config" / "roller.toml").read_text(encoding="utf-8")


def user_config_path() -> Path:
    """Where the user's own configuration file lives on this platform."""
    return platformdirs.user_config_path("roller") / "roller.toml"


def programs() -> dict[str, Program]:
    """The built-in programs and the user's own (``programs/*.toml`` beside their
    configuration file); :class:`ProgramError` names the file and line of a malformed one."""
    from tracker.core.programs import load as load_programs
    from tracker.core.programs import user_program_files

    return load_programs(user_program_files(user_config_path().parent), read=_program_text)


def _program_text(path: Path) -> str:
    """A program file's text: a regular file of at most 1 MiB (a FIFO left in ``programs/``
    would otherwise block every command that loads programs)."""
    from tracker.core.programs import ProgramError

    return read_text(path, lambda why: ProgramError(str(path), None, why))


@dataclass(frozen=True)
class Settings:
    body: Body
    zone: str
    estimator: EstimatorConfig
    rules: Rules
    alerts: AlertRules
    lifecycle: Lifecycle
    mqtt: MqttSettings
    redraw_hz: float  # the dashboard's redraw rate
    db_path: str  # empty: the platform data directory
    diameter_cm: float = 15.0  # of the roller a sensor that does not report it sits in
    log_level: str = ""  # one of LOG_LEVELS; empty: the command's own
    proxies: tuple[ProxyAddress, ...] = ()  # [bluetooth] proxies: ESPHome Bluetooth proxies
    person: Person | None = None  # whose these are; None: the configuration's own
    #: The person's prescription, while it runs (on their local day when these were made).
    prescription: Prescription | None = None
    #: The configuration's own settings, under a person's (None: these are they).
    base: Settings | None = field(default=None, repr=False, compare=False)

    @property
    def program(self) -> Program | None:
        """The person's own program, followed when no other is asked for: their running
        prescription's. None: a session follows none."""
        return self.prescription.program() if self.prescription else None

    @property
    def configured(self) -> Settings:
        """The configuration's own settings, whoever these are for: what is shared (the
        bridge's defaults for every person) and what another person starts from."""
        return self.base or self

    def for_person(self, person: Person) -> Settings:
        """The configuration as ``person`` has it: their height, zone and schedule rules
        where they set them, else the configuration's (never another person's). While
        their prescription runs (on their local day now), its pace and glute quota are
        their rules and it is their program."""
        base = self.configured
        zone = person.zone or base.zone
        treated = person.treated(clock.now().astimezone(ZoneInfo(zone)).date())
        try:
            rules = person.schedule(base.rules)
            return replace(base, body=person.body(base.body), zone=zone,
                           rules=treated.rules(rules) if treated else rules,
                           prescription=treated, person=person, base=base)
        except ValueError as exc:  # a rule out of its range, kept from an older roller
            raise ConfigError(f"{person.name}: {exc}") from None


def local_zone(env: Mapping[str, str]) -> str:
    """This computer's IANA zone name: TZ, else /etc/localtime's target, else UTC."""
    for candidate in (env.get("TZ", "").lstrip(":"), _zone_of_localtime()):
        if candidate and known_zone(candidate):
            return candidate
    return "UTC"


def _zone_of_localtime() -> str:
    try:
        target = os.path.realpath("/etc/localtime")
    except OSError:
        return ""
    _, sep, name = target.partition("zoneinfo/")
    return name if sep else ""


def known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def load(path: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Merge defaults, the file at ``path`` (else the user's file, if any) and the environment."""
    from tracker.core import proxy_settings
    from tracker.core.alert_rules import AlertRules
    from tracker.core.body import Body
    from tracker.core.lifecycle import Lifecycle
    from tracker.core.schedule import Rules
    from tracker.core.tuning import EstimatorConfig, Uncertainty
    from tracker.mqtt.settings import MqttSettings

    table = _parse(defaults_text(), "built-in defaults")
    file = path or user_config_path()
    if path is not None or os.path.lexists(file):  # a FIFO or device there: refused, not skipped
        text = read_text(file, lambda why: ConfigError(
            f"{file}: {why}{' (TOML files are UTF-8)' if 'UTF-8' in why else ''}"))
        _merge(table, _parse(text, str(file)), str(file))
    env = os.environ if env is None else env
    _merge(table, _from_env(table, env), "environment")
    user = dict(table["user"])
    zone = user.pop("timezone") or local_zone(env)
    if not known_zone(zone):
        raise ConfigError(f"configuration: [user] timezone {quote(zone)} is not an IANA time "
                          "zone, e.g. \"Europe/Berlin\"")
    try:
        within("[user] height_cm", user["height_cm"], 50.0, 272.0)
        return Settings(
            body=Body(**user),
            zone=zone,
            estimator=EstimatorConfig(**table["estimator"],
                                      uncertainty=Uncertainty(**table["uncertainty"])),
            rules=Rules(**table["schedule"]),
            alerts=AlertRules(**table["alerts"]),
            lifecycle=Lifecycle(**table["session"]),
            mqtt=MqttSettings(**table["mqtt"],
                              credentials_directory=env.get("CREDENTIALS_DIRECTORY", "")),
            redraw_hz=_redraw_rate(table["dashboard"]["redraw_hz"]),
            db_path=_db_path(env.get("ROLLER_DB", table["store"]["path"])),
            diameter_cm=_diameter(table["device"]["diameter_cm"]),
            log_level=log_level(table["log"]["level"], "[log] level"),
            proxies=proxy_settings.parse(table["bluetooth"]["proxies"]),
        )
    except ValueError as exc:
        raise ConfigError(f"configuration: {exc}") from None


def log_level(text: str, where: str) -> str:
    """``text`` as one of :data:`LOG_LEVELS` (any case; empty stays empty), or one line
    naming them."""
    level = text.strip().lower()
    if level and level not in LOG_LEVELS:
        raise ConfigError(f"{where} must be one of {', '.join(LOG_LEVELS)}, not {quote(text)}")
    return level


def _redraw_rate(rate_hz: float) -> float:
    within("[dashboard] redraw_hz", rate_hz, 1.0, 60.0)
    return rate_hz


def _diameter(diameter_cm: float) -> float:
    within("[device] diameter_cm", diameter_cm, 4.0, 40.0)
    return diameter_cm


def _db_path(path: str) -> str:
    if "\0" in path or len(path) > 4096:
        raise ValueError("[store] path must be a file path (no NUL, at most 4096 characters)")
    return path


def _parse(text: str, source: str) -> Table:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None


def _merge(base: Table, override: Table, source: str) -> None:
    """Override ``base`` in place, refusing unknown keys and values of the wrong type."""
    for section, values in override.items():
        if section not in base or not isinstance(values, dict):
            raise ConfigError(f"{source}: unknown section [{section}]")
        for key, value in values.items():
            if key not in base[section]:
                raise ConfigError(f"{source}: unknown key '{key}' in [{section}]")
            base[section][key] = _typed(value, base[section][key], f"{source}: [{section}] {key}")


def _typed(value: Any, default: Any, where: str) -> Any:
    if isinstance(default, bool) or isinstance(value, bool):
        if type(value) is not type(default):
            raise ConfigError(f"{where} must be true or false")
        return value
    if isinstance(default, float) and isinstance(value, int):
        value = float(value)
    if not isinstance(value, type(default)):
        raise ConfigError(f"{where} must be a {type(default).__name__}, not {quote(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{where} must be a finite number, not {value}")
    return value



def _from_env(base: Table, env: Mapping[str, str]) -> Table:
    """``ROLLER_<SECTION>_<KEY>`` variables, converted to the type of the key's default."""
    table: Table = {}
    for section, values in base.items():
        for key, default in values.items():
            name = f"{ENV_PREFIX}{section}_{key}".upper()
            if name in env:
                table.setdefault(section, {})[key] = _env_value(name, env[name], default)
    return table


def _env_value(name: str, text: str, default: Any) -> Any:
    try:
        if isinstance(default, bool):
            if text.lower() not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
                raise ValueError
            return text.lower() in {"1", "true", "yes", "on"}
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
        if isinstance(default, list):  # a TOML array, as the file would have it
            return tomllib.loads(f"value = {text}")["value"]
    except (ValueError, tomllib.TOMLDecodeError):
        what = "TOML array" if isinstance(default, list) else type(default).__name__
        raise ConfigError(f"{name}={quote(text)} is not a {what}") from None
    return text
