"""``python -m firmware_sim serve``: the simulated roller over a real or virtual controller."""

from __future__ import annotations

import asyncio
import logging
import sys

import click

from firmware_sim.routines import SCENARIOS
from tracker.core.body import ROUTINES


@click.group()
def main() -> None:
    """The simulated roller."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")


@main.command()
@click.option("--transport", default="vhci", show_default=True,
              help="Bumble transport: vhci (/dev/vhci), usb:0, serial:/dev/ttyACM0, ...")
@click.option("--routine", type=click.Choice(ROUTINES), default="upper_back", show_default=True)
@click.option("--scenario", type=click.Choice(SCENARIOS), default="stray", show_default=True)
@click.option("--seconds", type=click.FloatRange(5), default=600.0, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--speed", type=click.FloatRange(0.1, 100), default=1.0, show_default=True)
@click.option("--profile", type=click.Choice(["roller", "witmotion", "movesense"]),
              default="roller", show_default=True, help="Which device to present itself as.")
def serve(transport: str, routine: str, scenario: str, seconds: float, seed: int,
          speed: float, profile: str) -> None:
    """Advertise the simulated roller over the air (needs a controller: a dongle or vhci)."""
    from firmware_sim.bumble_server import serve as run
    from firmware_sim.peripheral import SimulatedRoller

    roller = SimulatedRoller(routine=routine, scenario=scenario, seconds=seconds, seed=seed,
                             speed=speed, profile=profile)
    try:
        asyncio.run(run(transport, roller))
    except KeyboardInterrupt:
        pass
    except (OSError, ValueError) as exc:
        click.echo(f"firmware_sim: error: cannot open transport {transport!r}: {exc}",
                   err=True)
        sys.exit(1)


@main.command("record-streams")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--seconds", type=click.FloatRange(1, 60), default=4.0, show_default=True)
def record_streams(folder: str, seconds: float) -> None:
    """Write one recorded byte stream per device profile, of the same simulated samples.

    One notification a line: arrival time (s), then its bytes in hex. The tests decode them.
    """
    from pathlib import Path

    from firmware_sim.firmware import FIRMWARE, byte_stream
    from firmware_sim.imu import Conditions
    from firmware_sim.person import BRISK
    from firmware_sim.session import simulate

    clean = Conditions(sample_rate_hz=100.0, diameter_cm=15.0)  # every sample, evenly spaced
    samples = simulate("upper_back", "clean", seconds, 11, clean, person=BRISK).samples
    Path(folder).mkdir(parents=True, exist_ok=True)
    for profile in FIRMWARE:
        lines = [f"{t:.6f} {data.hex()}\n" for t, data in byte_stream(profile, samples)]
        (Path(folder) / f"{profile}.stream").write_text("".join(lines), encoding="utf-8")


main()
