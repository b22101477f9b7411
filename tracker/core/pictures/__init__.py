"""The pictures of stored sessions: one session, the week, the weeks, and a report to share.

:mod:`~tracker.core.pictures.figures` works out what every picture shows, once;
:mod:`~tracker.core.pictures.charts` draws charts with plotext (``session show`` and the
dashboard), :mod:`~tracker.core.pictures.grids` the week's calendar and the weeks' heat map as
rich renderables, :mod:`~tracker.core.pictures.tables` a session's summary tables, and
:mod:`~tracker.core.pictures.share` the self-contained HTML report (``roller report``).
"""
