"""A report to share: a person's weeks of rolling as one self-contained HTML file that a
physiotherapist can open anywhere (``roller report``).

Pure, like the core it draws on: stored sessions come in as plain values and one string of
HTML comes out. :mod:`~tracker.core.pictures.share.content` works out what the report says
(the figures themselves come from :mod:`~tracker.core.pictures.figures`);
:mod:`~tracker.core.pictures.share.charts` draws them as SVG with matplotlib;
:mod:`~tracker.core.pictures.share.html` puts it all on one page. Only the last two import
matplotlib, which is slow to import: the command imports them when it runs.
"""
