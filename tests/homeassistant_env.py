"""A real Home Assistant for the tests, in a venv of its own outside the repository.

Home Assistant 2026.2.x wants Python 3.13.2 or newer; it runs under any 3.13 installed with
``--ignore-requires-python`` and its own ``package_constraints.txt`` (read from its wheel),
plus ``home-assistant-frontend`` and ``paho-mqtt`` at the versions that file pins. The venv
is built once, in ``$ROLLER_HA_CACHE`` (default ``~/.cache/roller-ha``), and reused.

    python -m tests.homeassistant_env          # build it (minutes; needs PyPI), print its hass

The tests build it only when ``ROLLER_TEST_HOMEASSISTANT=1`` (``make test-homeassistant``);
otherwise they use it when it is already there, and skip with one line when it is not.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

VERSION = "2026.2.3"
#: Set to 1 to let the tests build the venv (it takes minutes and needs PyPI).
ENV_INSTALL = "ROLLER_TEST_HOMEASSISTANT"
#: Home Assistant checks this against the running Python at start; 3.13.0 and 3.13.1 run it.
REQUIRED = "3.13"


PIP_STEPS = ("download", "install")


class Unavailable(Exception):
    """Home Assistant cannot run here; the message is the one-line reason."""


def cache() -> Path:
    return Path(os.environ.get("ROLLER_HA_CACHE", Path.home() / ".cache" / "roller-ha"))


def venv() -> Path:
    return cache() / f"venv-{VERSION}"


def stamp() -> Path:
    return venv() / ".installed"


def python313() -> str | None:
    """A Python 3.13: ``$ROLLER_HA_PYTHON``, ``python3.13`` on the PATH, or pyenv's."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    on_path = shutil.which("python3.13")
    candidates = [os.environ.get("ROLLER_HA_PYTHON"),
                  *sorted(glob.glob(str(pyenv / "3.13*" / "bin" / "python3.13")), reverse=True),
                  on_path if on_path and "/shims/" not in on_path else None]  # pyenv's shim
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return candidate
    return None


def launcher() -> list[str]:
    """The command that starts ``hass`` from the venv, on a 3.13 older than it asks for."""
    return [str(venv() / "bin" / "python"), "-c",
            "import sys, homeassistant.const as c\n"
            "c.REQUIRED_PYTHON_VER = min(c.REQUIRED_PYTHON_VER, sys.version_info[:3])\n"
            "from homeassistant.__main__ import main\n"
            "sys.exit(main())\n"]


def install(log: Path | None = None) -> float:
    """Build the venv; seconds taken. Raises :class:`Unavailable` with the reason."""
    python = python313()
    if python is None:
        raise Unavailable("no Python 3.13 (pyenv install 3.13, or set ROLLER_HA_PYTHON)")
    started = time.monotonic()
    target = venv()
    shutil.rmtree(target, ignore_errors=True)
    downloads = cache() / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    out = (log or cache() / f"install-{VERSION}.log").open("w")

    def run(*args: str) -> None:
        out.write("$ " + " ".join(args) + "\n")
        out.flush()
        done = subprocess.run(args, stdout=out, stderr=subprocess.STDOUT, timeout=1800)
        if done.returncode != 0:
            step = "venv" if "venv" in args else next(a for a in args if a in PIP_STEPS)
            raise Unavailable(f"Home Assistant {VERSION} did not install: {step} failed "
                              f"(see {out.name})")

    with out:
        run(python, "-m", "venv", str(target))
        pip = [str(target / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
        run(*pip, "download", "--quiet", "--no-deps", "--ignore-requires-python",
            "-d", str(downloads), f"homeassistant=={VERSION}")
        (wheel,) = downloads.glob(f"homeassistant-{VERSION}-*.whl")
        constraints = cache() / f"package_constraints-{VERSION}.txt"
        with zipfile.ZipFile(wheel) as archive:
            constraints.write_bytes(archive.read("homeassistant/package_constraints.txt"))
        pins = dict(line.split("==", 1) for line in constraints.read_text().splitlines()
                    if "==" in line and not line.startswith("#"))
        run(*pip, "install", "--quiet", "--ignore-requires-python", "-c", str(constraints),
            str(wheel), f"home-assistant-frontend=={pins['home-assistant-frontend']}",
            f"paho-mqtt=={pins['paho-mqtt']}")
    stamp().write_text(f"{VERSION}\n")
    return time.monotonic() - started


_failed: list[str] = []  # why the install failed in this process: tried once, not per test


def ready() -> Path:
    """The venv, built when ``ROLLER_TEST_HOMEASSISTANT=1`` and not yet there; else
    :class:`Unavailable` saying why the tests skip."""
    if stamp().exists():
        return venv()
    if os.environ.get(ENV_INSTALL) != "1":
        raise Unavailable(f"Home Assistant {VERSION} is not installed in {venv()} "
                          f"(make test-homeassistant installs it)")
    if _failed:
        raise Unavailable(_failed[0])
    try:
        install()
    except Unavailable as reason:
        _failed.append(str(reason))
        raise
    return venv()


if __name__ == "__main__":
    try:
        seconds = install()
    except Unavailable as reason:
        sys.exit(str(reason))
    print(f"Home Assistant {VERSION} in {venv()} ({seconds:.0f} s)")
