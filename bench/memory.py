"""Peak memory of ``roller analyze`` on long recordings: it must stay flat with file length.

Writes 200 Hz recordings of 1 h and 4 h (a simulated 10-minute upper-back session, repeated
back to back on one clock) and runs the real command on each in its own process, reporting
the file size, the process's peak resident memory and the time taken.

Run: ``make bench`` (or ``python -m bench.memory``).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import options
from firmware_sim.session import simulate
from tracker.core.formats.roller_imu import RecordingWriter

HOURS = (1, 4)
PIECE_S = 600.0


def write_long(path: Path, hours: float) -> None:
    """A recording of ``hours`` at 200 Hz, written piece by piece (this bench stays small)."""
    sim = simulate("upper_back", "stray", PIECE_S, seed=5, sample_rate_hz=200.0)
    piece = sim.samples.copy()
    piece[:, 0] -= piece[0, 0]
    step = PIECE_S + 1.0 / 200.0
    writer = RecordingWriter(path)
    writer.begin(sim.header)
    for k in range(int(hours * 3600 / PIECE_S)):
        shifted = piece.copy()
        shifted[:, 0] += k * step
        writer.append(shifted)
    writer.close()


#: Runs the command and reports the process's own high-water mark (VmHWM: since exec,
#: unlike ru_maxrss, which counts the parent's pages a forked child started with).
PEAK = ("import atexit, sys\n"
        "def peak():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmHWM'):\n"
        "            sys.stderr.write(line)\n"
        "atexit.register(peak)\n"
        "from tracker.cli.main import main\n"
        "main(prog_name='roller')\n")


def peak_mb(args: list[str]) -> tuple[float, float]:
    """Peak resident memory (MB) and wall time of ``roller ARGS``."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PEAK, *args], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    lines = [line for line in done.stderr.splitlines() if line.startswith("VmHWM")]
    if not lines:
        raise RuntimeError(done.stderr)
    return int(lines[-1].split()[1]) / 1024, elapsed


def main() -> None:
    quick = options.parser(__doc__).parse_args().quick
    print("roller analyze on 200 Hz recordings (peak resident memory of the process)")
    with tempfile.TemporaryDirectory() as folder:
        baseline, _ = peak_mb(["--version"])
        print(f"  interpreter and imports alone: {baseline:6.0f} MB")
        for hours in (0.05,) if quick else HOURS:
            path = Path(folder) / f"{hours}h.csv"
            write_long(path, hours)
            size_mb = path.stat().st_size / 1e6
            peak, elapsed = peak_mb(["analyze", "--json", str(path)])
            print(f"  {hours} h: file {size_mb:6.0f} MB, peak {peak:6.0f} MB "
                  f"({peak / size_mb:4.2f} x the file), {elapsed:5.1f} s")


if __name__ == "__main__":
    main()
