"""``python -m tracker`` is the ``roller`` command."""

from tracker.cli.main import main

main()
