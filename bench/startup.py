"""How long people wait for roller: the start-up of the commands they type, and ``roller
analyze`` on a long recording and on short ones, each as a ratio against a reference timed in
the same rounds (the machine's speed and load cancel out; issue 32 sets the targets).

Start-up: ``roller --help``, ``history``, ``schedule`` and ``session show N`` on a store of a
few sessions, and ``analyze`` on a 10-second recording, against ``python -c "import numpy"``:
a command that uses numpy cannot start sooner, and one that imports only what it uses starts
within 2x of it. Three more rows time libraries alone, no roller code, to show how near 2x a
command can come: what ``analyze`` imports (numpy, click, rich); what ``session show`` imports
to draw the track stored with the session (click, rich, SQLite and plotext; no numpy); and
what a command that writes or migrates the store imports (``analyze``'s libraries and
sqlite-utils, which imports numpy itself; the reading ones read in plain SQL and do without
it: docs/store.md).

``roller analyze FILE...`` on one hour at 200 Hz and on four short recordings (2-5 minutes at
100 Hz), against *reading the files plus the numpy core*: a Python process that imports numpy
and the estimator (``tracker.core.estimate``), reads each file with ``np.loadtxt`` (NumPy's
own C parser, which checks nothing), analyses it and prints the result (target: 1.5x). It is
a process, not the same calls timed inside this one, because ``roller analyze`` is a process
too: both pay the interpreter and numpy, so what the ratio shows is what roller adds (the
command line, the configuration, the format's checks, the table), and on short files the
interpreter's start-up is not charged to roller alone. The reference's output is checked
against ``roller analyze --json`` first, so it does the same work.

Each round runs every command once in a rotating order with its reference; a ratio is the
command's time over its reference's in the same round, and the median over the rounds is
printed. Run: ``make bench`` (or ``python -m bench.startup``; ``--quick`` takes seconds, with
fewer rounds and shorter recordings).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench import options
from firmware_sim.session import simulate
from tracker.core.formats.roller_imu import write

#: ``roller analyze``'s work, and nothing else: the reference of the analyze figures.
REFERENCE = """
import json, sys
import numpy as np
from tracker.core.estimate import analyze
from tracker.core.formats.roller_imu import Header, Recording
for path in sys.argv[1:]:
    keys, lines = {}, 1  # the column line after the header's
    with open(path, encoding="utf-8") as text:
        for line in text:
            if not line.startswith("#"):
                break
            key, _, value = line[1:].partition("=")
            keys[key.strip()] = value.strip()
            lines += 1
    header = Header(float(keys.pop("sample_rate_hz")), float(keys.pop("roller_diameter_cm")),
                    float(keys.pop("user_height_cm")), keys.pop("routine"), keys)
    samples = np.loadtxt(path, delimiter=",", skiprows=lines, ndmin=2)
    print(json.dumps(analyze(Recording(header, samples)).to_json(), separators=(",", ":")))
"""
NUMPY = [sys.executable, "-c", "import numpy"]
#: What ``roller analyze`` cannot start without, roller's own code aside.
LIBRARIES = "import numpy, click, rich.console, rich.table, platformdirs, tomllib, zoneinfo"
#: What ``roller session show`` cannot draw without: no numpy, no estimator.
SHOW_LIBRARIES = ("import click, rich.console, rich.table, platformdirs, tomllib, zoneinfo, "
                  "sqlite3, plotext")


def environment(home: Path) -> dict[str, str]:
    """A user with no configuration of their own; Python may cache its bytecode (as an
    installed roller has)."""
    return {"HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_DATA_HOME": str(home / "data"), "PATH": os.environ.get("PATH", "/usr/bin"),
            "COLUMNS": "100", "LANG": "C.UTF-8"}


def run(command: Sequence[str], env: dict[str, str]) -> float:
    """Seconds for ``command`` to run to its end; a failure ends the bench."""
    start = time.perf_counter()
    done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"bench.startup: {' '.join(command)} failed ({done.returncode}):\n"
                 f"{done.stderr}")
    return seconds


def rounds(pairs: dict[str, tuple[list[str], list[str]]], count: int,
           env: dict[str, str]) -> dict[str, tuple[float, float, float]]:
    """Each name's (median seconds, median reference seconds, median ratio) over ``count``
    rounds; a round runs every command and its reference, the order turning each round."""
    names = list(pairs)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for command in {tuple(c) for pair in pairs.values() for c in pair}:  # warm: bytecode
        run(command, env)  # written, files in the page cache
    for i in range(count):
        for name in names[i % len(names):] + names[:i % len(names)]:
            command, reference = pairs[name]
            first, second = (command, reference) if i % 2 else (reference, command)
            a, b = run(first, env), run(second, env)
            times[name].append((a, b) if i % 2 else (b, a))
    return {name: (statistics.median(t for t, _ in pair),
                   statistics.median(r for _, r in pair),
                   statistics.median(t / r for t, r in pair)) for name, pair in times.items()}


def recording(folder: Path, name: str, seconds: float, rate_hz: float, seed: int) -> Path:
    sim = simulate("upper_back", "stray", seconds, seed, sample_rate_hz=rate_hz)
    path = folder / f"{name}.csv"
    write(path, sim.header, sim.samples)
    return path


def span(seconds: float) -> str:
    return f"{seconds / 60:.3g} min" if seconds >= 60 else f"{seconds:g} s"


def main() -> None:
    args = options.parser(__doc__).parse_args()
    count = 3 if args.quick else 11
    long_s = 120.0 if args.quick else 3600.0
    short_s = (20.0, 25.0, 30.0, 35.0) if args.quick else (120.0, 180.0, 240.0, 300.0)
    stored = (60.0,) if args.quick else (120.0, 90.0, 150.0)
    roller = [sys.executable, "-m", "tracker"]
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        env = environment(home)
        db = str(home / "sessions.db")
        tiny = recording(home, "tiny", 10.0, 100.0, 1)
        for i, seconds in enumerate(stored):
            path = recording(home, f"stored{i}", seconds, 100.0, 10 + i)
            subprocess.run([*roller, "--db", db, "import", str(path)], env=env, check=True,
                           capture_output=True)
        numpy = NUMPY
        startup = {
            "roller --help": ([*roller, "--help"], numpy),
            "roller history": ([*roller, "--db", db, "history"], numpy),
            "roller schedule": ([*roller, "--db", db, "schedule"], numpy),
            "roller session show 1": ([*roller, "--db", db, "session", "show", "1"], numpy),
            "roller analyze (10 s file)": ([*roller, "analyze", str(tiny)], numpy),
            "libraries of analyze": ([sys.executable, "-c", LIBRARIES], numpy),
            "libraries of session show (no numpy)": (
                [sys.executable, "-c", SHOW_LIBRARIES], numpy),
            "and sqlite-utils (a store's writes)": (
                [sys.executable, "-c", LIBRARIES + ", sqlite_utils"], numpy),
        }
        long = recording(home, "long", long_s, 200.0, 2)
        shorts = [str(recording(home, f"short{i}", s, 100.0, 20 + i))
                  for i, s in enumerate(short_s)]
        reference = [sys.executable, "-c", REFERENCE]
        for files in ([str(long)], shorts):
            ours = subprocess.run([*roller, "analyze", "--json", *files], env=env, check=True,
                                  capture_output=True, text=True).stdout
            theirs = subprocess.run([*reference, *files], env=env, check=True,
                                    capture_output=True, text=True).stdout
            if ours != theirs:
                sys.exit("bench.startup: the reference does not analyse as roller analyze does")
        long_name = f"{span(long_s)} at 200 Hz, 1 file"
        short_name = (f"{span(sum(short_s))} at 100 Hz, {len(short_s)} files of "
                      f"{span(min(short_s))} to {span(max(short_s))}")
        analyze = {
            long_name: ([*roller, "analyze", str(long)], [*reference, str(long)]),
            short_name: ([*roller, "analyze", *shorts], [*reference, *shorts]),
        }
        started = rounds(startup, count, env)
        analysed = rounds(analyze, count, env)
    print(f"bench.startup: median of {count} rounds, each command against its reference in "
          "the same round")
    numpy_s = statistics.median(r for _, r, _ in started.values())
    print(f"{'start-up':<44}{'seconds':>8}{'ratio':>8}   target 2x "
          f"python -c 'import numpy' ({numpy_s:.3f} s)")
    for name, (seconds, _, ratio) in started.items():
        print(f"{name:<44}{seconds:>7.3f}s{ratio:>7.2f}x")
    print(f"{'roller analyze':<44}{'roller':>8}{'reference':>11}{'ratio':>8}   target 1.5x "
          "np.loadtxt + the numpy core, a process")
    for name, (seconds, reference_s, ratio) in analysed.items():
        print(f"{name:<44}{seconds:>7.3f}s{reference_s:>10.3f}s{ratio:>7.2f}x")


if __name__ == "__main__":
    main()
