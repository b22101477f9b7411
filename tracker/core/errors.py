"""The one root of every failure roller expects, and the two kinds a person is told apart.

A command ends a :class:`RollerError` with one line and an exit status, never a traceback;
the dashboard shows it as a notice. What the line is depends only on which kind it is:
:class:`InputError` (exit 2) when what was given cannot be used (a file, a setting, a name,
a message) and trying again with the same input fails the same way; :class:`MachineError`
(exit 1) when the machine or its surroundings failed (the store's disk, Bluetooth, another
program holding the roller) and the same input may work later. Each keeps the built-in base
callers already catch (``ValueError``, ``RuntimeError``).
"""

from __future__ import annotations


class RollerError(Exception):
    """A failure roller expects and can say in one line."""

    #: The exit status a command ends with.
    exit_status = 1


class InputError(RollerError, ValueError):
    """What was given cannot be used; nothing stored was changed."""

    exit_status = 2


class MachineError(RollerError, RuntimeError):
    """The machine or the environment failed; nothing stored was lost."""

    exit_status = 1
