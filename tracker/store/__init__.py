"""The session store: one SQLite file of plain tables that sqlite-utils and Datasette can browse.

:mod:`~tracker.store.opening` opens it and :mod:`~tracker.store.schema` migrates it;
:mod:`~tracker.store.database` is the store, whose session reads are
:mod:`~tracker.store.reads` and whose session lifecycle is :mod:`~tracker.store.writes`; the
other tables are parts hung on it (:mod:`~tracker.store.people`,
:mod:`~tracker.store.devices`, :mod:`~tracker.store.outbox`, which queues the events that go
out over MQTT in the same transactions); :mod:`~tracker.store.rows` is what a read returns.
"""
