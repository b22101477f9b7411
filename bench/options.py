"""The options every bench takes: ``--quick`` runs it to its end on small sizes in seconds, so
``make test`` notices a bench that no longer runs (a bench nobody runs rots unseen)."""

from __future__ import annotations

import argparse


def parser(doc: str | None) -> argparse.ArgumentParser:
    """An argument parser described by the bench's docstring, with ``--quick``."""
    made = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    made.add_argument("--quick", action="store_true",
                      help="run to the end on small sizes, in seconds (make test); the "
                      "figures then say only that the bench runs")
    return made
