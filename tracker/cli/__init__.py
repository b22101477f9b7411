"""The ``roller`` command line: :mod:`tracker.cli.main` is the group, one module per family of
commands."""
