"""The report as one self-contained HTML page: inline CSS and SVG, no script, nothing fetched
from anywhere, so it opens the same from an e-mail, a USB stick or a patient portal, offline,
years later. Every text that comes from the store or the person is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from itertools import pairwise
from urllib.parse import quote
from zoneinfo import ZoneInfo

from tracker import __version__
from tracker.core.comfort import Score, trend
from tracker.core.pictures.figures import SHADES_S
from tracker.core.pictures.grids import glute_rule
from tracker.core.pictures.share import charts
from tracker.core.pictures.share.content import Listed, Report, quota_met
from tracker.core.pictures.tables import areas, minutes_seconds
from tracker.core.schedule import Rules, counts

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
       max-width: 58rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; }
h1 { margin-bottom: 0.2rem; }
h2 { margin-top: 2.2rem; border-bottom: 1px solid #d0d7de; padding-bottom: 0.2rem; }
.meta, .what, figcaption { color: #57606a; }
.what { margin-top: 0; }
figure { margin: 0.5rem 0; break-inside: avoid; }
svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; font-size: 0.9rem; }
th, td { padding: 0.2rem 0.6rem; border-bottom: 1px solid #eaeef2; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.lumbar, td.short { color: #cf222e; font-weight: bold; }
li.alert { color: #cf222e; }
.legend span { display: inline-block; margin-right: 1rem; }
.swatch { display: inline-block; width: 0.8rem; height: 0.8rem; margin-right: 0.3rem;
          vertical-align: middle; border: 1px solid #d0d7de; }
.empty { font-weight: bold; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } }
"""

#: Why each chart is there: the advice it is read against.
def why_days(rules: Rules) -> str:
    """The heat map's reading, in the person's own glute rule (their quota may not be
    three)."""
    return ("Each square is a day, each column a week (the first day on top); the darker, the "
            f"longer the rolling that day. A dot marks a glute session: {glute_rule(rules)} "
            "is this person's rule. A red edge marks a day the roller reached the lumbar spine.")


WHY_ROLLING = "Rolling time each week, every area together; the last bar is this week so far."
WHY_GLUTES = ("Glute sessions each week against the quota (dashed): low-back tightness is "
              "better treated at the glutes and hips than on the lower back itself.")
WHY_LUMBAR = ("Times the roller reached the lumbar spine each week. The goal is none: the lower "
              "back has no rib cage to support it, and rolling it can aggravate stenosis or "
              "stress fractures. The roller alerts at once when it happens.")
WHY_AREAS = "Rolling time on each area over these weeks."


def page(report: Report) -> str:
    """The whole report as one HTML document."""
    r = report
    title = f"Foam rolling: {r.person}, {r.first:%d %b %Y} to {r.last:%d %b %Y}"
    weeks = len(r.weeks.trends)
    sessions = len(r.sessions)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{_CSS}{_running(r)}</style>",
        "</head>",
        "<body>",
        f'<h1 id="person">Foam rolling: {escape(r.person)}</h1>',
        f'<p class="meta" id="person-id">Person id {escape(r.person_id)}</p>',
        f'<p class="meta" id="period">{r.first:%a %d %b %Y} to {r.last:%a %d %b %Y}: '
        f"{weeks} week{'s' if weeks != 1 else ''}, {sessions} "
        f"session{'s' if sessions != 1 else ''}.</p>",
        f'<p class="meta" id="made">Made {r.made_at:%a %d %b %Y %H:%M %Z} by roller '
        f"{escape(__version__)} from the roller's own records.</p>",
        *([] if r.sessions else ['<p class="empty">No sessions in these weeks.</p>']),
        '<h2 id="alerts">Alerts</h2>',
        _alerts(r),
        *_prescription(r),
        '<h2 id="adherence">Adherence</h2>',
        "<ul>", *(f"<li>{escape(line)}</li>" for line in r.adherence), "</ul>",
        _weeks_table(r),
        '<h2 id="days">Days rolled</h2>',
        _figure("days", why_days(r.rules), charts.heat_map(r.weeks), _legend()),
        '<h2 id="rolling">Rolling time each week</h2>',
        _figure("rolling", WHY_ROLLING, charts.rolling(r.weeks.trends)),
        '<h2 id="glutes">Glute sessions each week</h2>',
        _figure("glutes", WHY_GLUTES, charts.glutes(r.weeks.trends, r.weeks.quota)),
        '<h2 id="lumbar">Lumbar contacts each week</h2>',
        _figure("lumbar", WHY_LUMBAR, charts.lumbar(r.weeks.trends)),
        '<h2 id="comfort">Comfort</h2>',
        *_comfort(r),
        '<h2 id="areas">Time per area</h2>',
        _figure("areas", WHY_AREAS, charts.areas(r.area_s)) if r.area_s
        else '<p class="empty">Nothing rolled in these weeks.</p>',
        '<h2 id="sessions">Sessions</h2>',
        _sessions_table(r) if r.sessions else '<p class="empty">No sessions in these weeks.</p>',
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def index(reports: Sequence[tuple[Report, str | None, str]], now: datetime) -> str:
    """Everyone's reports on one page, a row each: who (and from which gateway), the weeks'
    figures a clinician looks at first, and a link to the person's own report. ``reports``:
    each report, its person's gateway (None: this store's own) and its file's name."""
    rows = []
    for r, origin, name in reports:
        met, counted = quota_met(r.weeks, r.started)
        lumbar = sum(week.lumbar for week in r.weeks.trends)
        rows.append(
            f'<tr class="person"><td><a href="{escape(quote(name))}">{escape(r.person)}</a></td>'
            f"<td>{escape(r.person_id)}</td><td>{escape(origin or 'here')}</td>"
            f'<td class="num">{len(r.sessions)}</td>'
            f'<td class="num">{minutes_seconds(sum(w.rolled_s for w in r.weeks.trends))}</td>'
            f'<td class="num">{f"{met} of {counted}" if counted else "-"}</td>'
            f'<td class="num{" lumbar" if lumbar else ""}">{lumbar}</td></tr>')
    first = min((r.first for r, _, _ in reports), default=now.date())
    title = f"Foam rolling: everyone, {first:%d %b %Y} to {now:%d %b %Y}"
    head = "".join(f'<th class="num">{h}</th>' if i > 2 else f"<th>{h}</th>" for i, h in
                   enumerate(("person", "id", "gateway", "sessions", "rolling",
                              "weeks glute quota met", "lumbar contacts")))
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f"<title>{escape(title)}</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
        f'<h1 id="everyone">{escape(title)}</h1>',
        f'<p class="meta">Made {now:%a %d %b %Y %H:%M %Z} by roller {escape(__version__)}. '
        "Each name opens the person's own report.</p>",
        f'<table id="people"><thead><tr>{head}</tr></thead>\n<tbody>',
        *rows, "</tbody></table>", "</body>", "</html>"]) + "\n"


def _running(r: Report) -> str:
    """Whose report and which weeks at the top of every printed page, the page number at
    its foot: a page that leaves the pile still says whose it is. CSS page margin boxes,
    which Chromium, WeasyPrint and Prince print."""
    head = _css_string(f"{r.person} (id {r.person_id}), {r.first:%d %b %Y} to "
                       f"{r.last:%d %b %Y}")
    small = "font: 9pt sans-serif; color: #57606a;"
    return (f"\n@page {{ margin: 18mm 14mm; @top-left {{ content: {head}; {small} }} "
            f'@bottom-right {{ content: "page " counter(page) " of " counter(pages); {small} }} }}')


def _css_string(text: str) -> str:
    """``text`` as a CSS string: quotes, backslashes, angle brackets (``</style>`` in a name
    would end the style sheet) and anything unprintable as CSS escapes."""
    return '"' + "".join(c if c.isprintable() and c not in '"\\<>' else f"\\{ord(c):x} "
                         for c in text) + '"'


def _figure(name: str, why: str, svg: str, after: str = "") -> str:
    return (f'<figure id="chart-{name}"><p class="what">{escape(why)}</p>\n{svg}\n{after}'
            "</figure>")


def _legend() -> str:
    """The heat map's key: what each shade, the dot and the red edge stand for."""
    minutes = [f"{s / 60:g}" for s in SHADES_S[1:]]
    names = ["none", f"under {minutes[0]} min",
             *(f"{a}-{b} min" for a, b in pairwise(minutes)),
             f"over {minutes[-1]} min"]
    keys = [f'<span><span class="swatch" style="background:{colour}"></span>{name}</span>'
            for colour, name in zip(charts.SHADE_COLOURS, names, strict=True)]
    keys.append(f'<span><span class="swatch" style="background:{charts.GLUTES};'
                'border-radius:50%;width:0.5rem;height:0.5rem"></span>glute session</span>')
    keys.append(f'<span><span class="swatch" style="border:2px solid {charts.LUMBAR}">'
                "</span>lumbar contact</span>")
    keys.append('<span><span class="swatch" style="background:#fff"></span>still to come</span>')
    return f'<figcaption class="legend">{"".join(keys)}</figcaption>'


def _alerts(r: Report) -> str:
    """The alerts a clinician would set, most urgent first: what to read before the rest."""
    if not r.alerts:
        return '<p id="no-alerts">No alerts in these weeks.</p>'
    return ('<ul id="alert-list">' + "".join(
        f'<li class="alert {a.kind}"><strong>{escape(ALERT_NAMES[a.kind])}:</strong> '
        f"{escape(a.text)}</li>" for a in r.alerts) + "</ul>")


#: Each alert's kind as the report names it.
ALERT_NAMES = {"kept_off_contact": "Kept-off area rolled", "comfort_high": "Comfort",
               "comfort_rise": "Comfort rising", "not_rolling": "Not rolling"}
WHY_COMFORT = ("How each area felt after rolling it, as the person scored it: 0 none, 10 "
               "the worst. An alert is raised at {at} or worse, and at {rise} above the "
               "person's usual for the area.")


def _prescription(r: Report) -> list[str]:
    """What was prescribed, and how each area was followed week by week."""
    rx = r.prescription
    if rx is None:
        return []
    low, high = rx.stroke_s
    kept = [f"{k.area.replace('_', ' ')} until {k.until:%d %b %Y} ({k.reason})"
            for k in rx.keep_off]
    head = "".join(f'<th class="num">{escape(a.label)}</th>' for a in r.followed)
    weeks = sorted({w.start for a in r.followed for w in a.weeks})
    rows = []
    for start in weeks:
        cells = []
        for a in r.followed:
            w = next((w for w in a.weeks if w.start == start), None)
            short = w is not None and w.full and w.done < w.prescribed
            cells.append(f'<td class="num{" short" if short else ""}">'
                         + (f"{w.done} of {w.prescribed}" if w else "-") + "</td>")
        now = "" if all(w.full for a in r.followed for w in a.weeks if w.start == start) \
            else " (so far)"
        rows.append(f'<tr class="rx-week"><td>{start:%d %b %Y}{now}</td>{"".join(cells)}</tr>')
    return [
        '<h2 id="prescription">Prescription</h2>',
        f'<p id="rx">{escape(rx.title)}: prescribed by {escape(rx.clinician)} '
        f"({escape(rx.contact)}), {rx.start:%d %b %Y} to {rx.end:%d %b %Y}; "
        f"strokes of {low:g}-{high:g} s each way"
        + (f"; kept off: {escape('; '.join(kept))}" if kept else "") + ".</p>",
        "<ul>", *(f'<li class="rx-area">{escape(a.sentence())}</li>' for a in r.followed),
        "</ul>",
        f'<table id="rx-weeks"><thead><tr><th>week of</th>{head}</tr></thead>\n<tbody>\n'
        + "\n".join(rows) + "\n</tbody></table>",
    ]


def _comfort(r: Report) -> list[str]:
    """The comfort chart, and each area's trend in a sentence."""
    if not r.comfort:
        return ['<p class="empty">No comfort scores in these weeks.</p>']
    why = WHY_COMFORT.format(at=r.alert_rules.comfort_at_least, rise=r.alert_rules.comfort_rise)
    chart = charts.comfort({area: [(s.day, s.score) for s in scores]
                            for area, scores in r.comfort.items()},
                           r.alert_rules.comfort_at_least)
    return [_figure("comfort", why, chart), "<ul>",
            *(f'<li class="comfort-trend">{escape(trend(scores))}</li>'
              for scores in r.comfort.values()), "</ul>"]


def _weeks_table(r: Report) -> str:
    quota = r.weeks.quota
    rows = []
    for i, week in enumerate(r.weeks.trends):
        now = " (so far)" if i == len(r.weeks.trends) - 1 else ""
        rows.append(
            f'<tr class="week"><td>{week.start:%d %b %Y}{now}</td>'
            f'<td class="num">{week.sessions}</td>'
            f'<td class="num">{minutes_seconds(week.rolled_s)}</td>'
            f'<td class="num">{week.glute_sessions} of {quota}</td>'
            f'<td class="num{" lumbar" if week.lumbar else ""}">{week.lumbar}</td></tr>')
    return ('<table id="weeks"><thead><tr><th>week of</th><th class="num">sessions</th>'
            '<th class="num">rolling</th><th class="num">glute sessions</th>'
            '<th class="num">lumbar contacts</th></tr></thead>\n<tbody>\n'
            + "\n".join(rows) + "\n</tbody></table>")


def _sessions_table(r: Report) -> str:
    head = "".join(f'<th class="num">{h}</th>' if h in {"duration", "active", "strokes",
                                                         "lumbar contacts"} else f"<th>{h}</th>"
                   for h in ("day", "time", "areas", "duration", "active", "strokes",
                             "lumbar contacts", "comfort", "schedule"))
    scored: dict[int | None, list[Score]] = {}
    for area_scores in r.comfort.values():
        for score in area_scores:
            scored.setdefault(score.session_id, []).append(score)
    rows = [_session_row(s, r, sorted(scored.get(s.session_id, []), key=lambda c: c.seq))
            for s in r.sessions]
    return (f'<table id="session-list"><thead><tr>{head}</tr></thead>\n<tbody>\n'
            + "\n".join(rows) + "\n</tbody></table>")


def _session_row(s: Listed, r: Report, scores: list[Score]) -> str:
    """A session at its own local time; the zone is said when it is not the person's now
    (a session rolled while travelling); and the comfort given for each area (0-10)."""
    started = s.rolled.started_at.astimezone(ZoneInfo(s.rolled.zone))
    zone = f" {started:%Z}" if s.rolled.zone != r.zone else ""
    rolled = areas(s.rolled.areas or (s.rolled.routine,))
    lumbar = s.rolled.lumbar_events
    return (f'<tr class="session"><td>{started:%a %d %b %Y}</td><td>{started:%H:%M}{zone}</td>'
            f"<td>{escape(rolled)}</td><td class=\"num\">{minutes_seconds(s.duration_s)}</td>"
            f'<td class="num">{minutes_seconds(s.rolled.active_s)}</td>'
            f'<td class="num">{s.strokes}</td>'
            f'<td class="num{" lumbar" if lumbar else ""}">{lumbar}</td>'
            f"<td>{escape(', '.join(f'{c.label} {c.score}' for c in scores))}</td>"
            f"<td>{escape(_schedule(s, r))}</td></tr>")


def _schedule(s: Listed, r: Report) -> str:
    """What the schedule made of the session: a glute session that counted, one rolled
    although the schedule said not (and why not), one cut short."""
    notes = []
    if counts(s.rolled, r.rules):
        notes.append("glute session")
    if s.override:
        notes.append(f"rolled anyway ({(s.verdict or 'refused').replace('_', ' ')})")
    if s.interrupted:
        notes.append("interrupted")
    return ", ".join(notes)
