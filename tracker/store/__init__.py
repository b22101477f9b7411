"""The session store: one SQLite file of plain tables that sqlite-utils and Datasette can browse.

:mod:`~tracker.store.schema` creates and migrates it, :mod:`~tracker.store.database` reads and
writes sessions and devices, :mod:`~tracker.store.outbox` queues the events that go out over
MQTT in the same transactions, :mod:`~tracker.store.rows` is what a read returns.
"""
