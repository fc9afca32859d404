"""Working days, send times and the Finnish way of writing dates.

Reminders must not arrive on a Saturday or on Christmas Eve, and "9.00" must mean 9.00 in
Helsinki on both sides of the change to winter time. Everything here is pure: the calendar
comes from the ``holidays`` package, the time zone from the settings.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from zoneinfo import ZoneInfo

import holidays

#: Guard against a configuration in which no working day can be found (never in Finland).
_MAX_STEPS_BACK = 14


@cache
def _finnish_holidays(year: int) -> holidays.HolidayBase:
    """Finland's public holidays for a year (cached: the package builds them on demand)."""
    return holidays.Finland(years=year)  # type: ignore[attr-defined]


def is_working_day(day: dt.date) -> bool:
    """Monday–Friday and not a Finnish public holiday (Christmas Eve and Midsummer Eve count
    as holidays in the ``holidays`` package, as they do in practice)."""
    return day.weekday() < 5 and day not in _finnish_holidays(day.year)


def previous_working_day(day: dt.date) -> dt.date:
    """``day`` itself if it is a working day, else the closest working day before it."""
    for _ in range(_MAX_STEPS_BACK):
        if is_working_day(day):
            return day
        day -= dt.timedelta(days=1)
    raise ValueError(f"no working day within {_MAX_STEPS_BACK} days before {day}")


def local_datetime(day: dt.date, time_of_day: dt.time, tz: ZoneInfo) -> dt.datetime:
    """An aware datetime for a wall-clock time in ``tz``.

    ``zoneinfo`` gives each date its own UTC offset, so 9.00 is 06:00 UTC in summer and 07:00
    UTC in winter. A wall time inside the spring-forward gap does not exist; the round trip
    through UTC normalises it to the real instant an hour later, instead of keeping a
    datetime that names no instant.
    """
    naive = dt.datetime.combine(day, time_of_day)
    return naive.replace(tzinfo=tz).astimezone(dt.UTC).astimezone(tz)
