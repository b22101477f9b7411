"""``roller`` commands on recordings: analyze, simulate, demo.

The simulator is imported by the commands that simulate: ``roller analyze`` starts without it."""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

import click
from rich.console import Console

from tracker.cli.errors import BAD_INPUT, clean_errors
from tracker.cli.types import SEED, Finite
from tracker.cli.types import parts as parts_of
from tracker.config import Settings
from tracker.core.body import ROUTINES
from tracker.core.estimate import analyze as run
from tracker.core.estimate import analyze_chunks
from tracker.core.formats.roller_imu import RecordingError, opened
from tracker.core.pictures.tables import summary_table
from tracker.files import regular_file


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One roller-analysis/1 object per line.")
@click.pass_obj
def analyze(settings: Settings, files: tuple[Path, ...], as_json: bool) -> None:
    """Analyse roller-imu v1 recordings: position, regions, strokes, pauses, lumbar contact."""
    failed = False
    for path in files:
        try:
            regular_file(path, partial(RecordingError, str(path), None))
            with opened(path) as (header, chunks):
                analysis = analyze_chunks(header, chunks, settings.estimator)
        except RecordingError as exc:
            click.echo(f"roller: error: {exc}", err=True)
            failed = True
            continue
        if as_json:
            import json  # for --json alone: the summary table starts without it

            click.echo(json.dumps(analysis.to_json(), separators=(",", ":")))
        else:
            Console().print(summary_table(analysis, title=str(path), rules=settings.rules))
    if failed:
        sys.exit(BAD_INPUT)


@click.command()
@click.option("--routine", type=click.Choice(ROUTINES), default="upper_back", show_default=True)
@click.option("--scenario", type=click.Choice(["clean", "stray", "lumbar"]), default="clean",
              show_default=True, help="stray: some strokes slide into the lumbar band.")
@click.option("--seconds", type=Finite(10, 4 * 3600), default=120.0, show_default=True)
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option("--rate", "rate_hz", type=click.Choice(["25", "50", "100", "200"]),
              help="Sample rate (Hz) [default: random with the seed].")
@click.option("--placement-cm", type=Finite(-20, 20), default=0.0, show_default=True,
              help="Where the person puts the roller, from the routine's landmark "
              "(+: toward the feet); the analysis assumes the landmark.")
@click.option("--mass-kg", type=Finite(30, 250),
              help="The person's weight, which compresses the foam [default: the roller's].")
@click.option("--pace", type=click.Choice(["brisk", "taught"]), default="taught",
              show_default=True, help="taught: 2-4 s a one-way stroke, as people are taught; "
              "brisk: 8-25 cm/s, as some roll untaught.")
@click.option("--parts", callback=parts_of, help="Several areas, the roller lifted between them: "
              "AREA:SECONDS,... e.g. upper_back:60,glutes:90 (instead of --routine, --seconds).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Recording to write; the ground truth goes beside it as NAME.truth.json.")
@click.pass_obj
def simulate(settings: Settings, routine: str, scenario: str, seconds: float, seed: int,
             rate_hz: str | None, placement_cm: float, mass_kg: float | None, pace: str,
             parts: list[tuple[str, float]] | None, output: Path) -> None:
    """Simulate a session on the virtual roller and write it as a recording."""
    from tracker.simulation import Who, write_simulation

    with clean_errors():
        truth_path = write_simulation(
            output, routine, scenario, seconds, seed,
            float(rate_hz) if rate_hz else None, settings.body.height_cm,
            Who(placement_cm, mass_kg, pace == "taught"), parts or (),
        )
    click.echo(f"wrote {output} and {truth_path}", err=True)


@click.command()
@click.option("--routine", type=click.Choice(ROUTINES), default="upper_back", show_default=True)
@click.option("--seed", type=SEED, default=17, show_default=True)
@click.pass_obj
def demo(settings: Settings, routine: str, seed: int) -> None:
    """Simulate a session that strays into the lumbar band, and show its analysis."""
    from tracker.simulation import simulate_recording

    recording = simulate_recording(routine, "stray", 150.0, seed, None, settings.body.height_cm)
    Console().print(summary_table(run(recording, settings.estimator),
                                  title=f"simulated {routine} session", rules=settings.rules))
