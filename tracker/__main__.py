"""``python -m tracker`` is the ``roller`` command."""

from tracker.cli import main

main()
