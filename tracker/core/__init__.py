"""The pure domain: what roller knows, with no Bluetooth, MQTT, SQLite, command line or UI.

Everything here is a value or a pure function (a streaming estimator is a small state machine
fed samples): the body and its regions, the estimator (:mod:`~tracker.core.estimate`), the
weekly schedule, people, programs, a session's lifecycle rules, the events it raises, the
versioned file and message formats (:mod:`~tracker.core.formats`) and the pictures drawn from
stored sessions (:mod:`~tracker.core.pictures`). The layers above bring the I/O; an
import-linter contract in ``pyproject.toml`` keeps this folder free of it, so a module written
here is covered the day it is written.
"""
