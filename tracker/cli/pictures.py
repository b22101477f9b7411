"""``roller schedule`` and ``roller weeks``: the week's calendar and quota, and the weeks'
heat map and trends (drawn as :mod:`tracker.cli.charts` draws every terminal chart)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial

import click
from rich.console import Console
from rich.markup import escape

from tracker.cli.charts import COLOURS, chart, print_row, small_width
from tracker.cli.store import db_option, person_option, store_of, warn_damaged, whose
from tracker.config import Settings
from tracker.core import clock
from tracker.core.limits import visible
from tracker.core.pictures.charts import TRENDS, draw_trend, trend_title
from tracker.core.pictures.grids import calendar, everyone, glute_rule, heat_map, period, quota
from tracker.live.past import week_of, weeks_of
from tracker.store import clinician


def day_name(day: date, today: date) -> str:
    return "today" if day == today else "tomorrow" if day == today + timedelta(days=1) \
        else f"{day:%A %d %B}"


@click.command()
@person_option
@db_option
@click.pass_obj
def schedule(settings: Settings, person: str | None) -> None:
    """This week at a glance: what was rolled each day, the glute quota, the next glute day."""
    now = clock.now()
    with store_of(settings) as store:
        settings = whose(store, settings, person)
        assert settings.person is not None
        week = week_of(store, settings, now)
        rolled = clinician.figures(store, settings.person, settings.rules, settings.zone, now)
        warn_damaged(store.damaged)
        others = [(visible(p.name), week_of(store, settings.for_person(p), now))
                  for p in store.people.all() if p.id != settings.person.id] \
            if person is None else []
    status = week.status
    console = Console()
    console.print(f"[bold]{escape(visible(settings.person.name))}: "
                  f"week of {status.week_start:%a %d %b %Y}[/]")
    console.print(calendar(week))
    console.print(quota(week))
    console.print(f"next glute session: {day_name(status.next_allowed, status.today)} "
                  f"({glute_rule(settings.rules)})", highlight=False)
    for line in rolled.lines():
        console.print(line, highlight=False, markup=False)
    if others:
        console.print("\n[bold]everyone this week[/]")
        console.print(everyone([(visible(settings.person.name), week), *others]))


@click.command()
@click.option("--weeks", "count", type=click.IntRange(2, 52), default=12, show_default=True,
              help="How many weeks back, this one included.")
@person_option
@db_option
@click.pass_obj
def weeks(settings: Settings, count: int, person: str | None) -> None:
    """The last weeks: a heat map of rolling time a day, glute days and lumbar contacts, and
    each week's rolling time, glute sessions against the quota, and lumbar contacts."""
    now = clock.now()
    with store_of(settings) as store:
        settings = whose(store, settings, person)
        assert settings.person is not None
        picture = weeks_of(store, settings, now, count)
        warn_damaged(store.damaged)
    console = Console()
    console.print(f"[bold]{escape(visible(settings.person.name))}: the last {count} weeks, "
                  f"{period(picture)}[/]")
    console.print(heat_map(picture))
    each = small_width(console, len(TRENDS))
    print_row(console, [chart(partial(draw_trend, weeks=picture, what=what, colours=COLOURS),
                              each, 12, trend_title(what, picture)) for what in TRENDS])
