"""Exact date conversion for both wire formats.

Order Time's Custom Store protocol speaks UTC as ``MM/dd/yyyy HH:mm``. ShipStation V1 speaks naive
US Pacific time (``yyyy-mm-dd hh:mm:ss`` in requests, ``2015-07-16T14:00:34.8230000`` in answers).
Every function here takes or returns *aware* datetimes so that nothing downstream guesses a zone.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

PACIFIC = ZoneInfo("America/Los_Angeles")

ORDERTIME_FORMAT = "%m/%d/%Y %H:%M"
SHIPSTATION_FORMAT = "%Y-%m-%d %H:%M:%S"

_ORDERTIME_RE = re.compile(
    r"^\s*(?P<month>\d{1,2})/(?P<day>\d{1,2})/(?P<year>\d{4})\s+(?P<hour>\d{1,2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2}))?\s*(?P<ampm>[AaPp][Mm])?\s*$"
)
_SHIPSTATION_RE = re.compile(
    r"^\s*(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"
    r"(?:[T ](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d{1,7}))?)?)?\s*$"
)


def _require_aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: pass an aware datetime")
    return value


def format_ordertime(value: datetime) -> str:
    """An aware datetime as Order Time's UTC ``MM/dd/yyyy HH:mm`` (seconds are dropped)."""
    return _require_aware(value).astimezone(UTC).strftime(ORDERTIME_FORMAT)


def format_ordertime_date(value: date | datetime) -> str:
    """A ship date as ``MM/dd/yyyy``."""
    return value.strftime("%m/%d/%Y")


def parse_ordertime(text: str) -> datetime:
    """Order Time date/time text (UTC) → aware UTC datetime.

    Accepts the documented ``MM/dd/yyyy HH:mm`` and the XSD's looser forms: one-digit parts, optional
    seconds, and an AM/PM suffix that applies only when the hour is 1–12 (``21:56 PM`` stays 21:56).
    """
    match = _ORDERTIME_RE.match(text or "")
    if not match:
        raise ValueError(f"not an Order Time date/time (MM/dd/yyyy HH:mm): {text!r}")
    hour = int(match["hour"])
    ampm = (match["ampm"] or "").upper()
    if ampm and 1 <= hour <= 12:
        if ampm == "AM" and hour == 12:
            hour = 0
        elif ampm == "PM" and hour != 12:
            hour += 12
    return datetime(
        int(match["year"]), int(match["month"]), int(match["day"]), hour, int(match["minute"]),
        int(match["second"] or 0), tzinfo=UTC,
    )


def format_shipstation(value: datetime) -> str:
    """An aware datetime as ShipStation's naive Pacific ``yyyy-mm-dd hh:mm:ss``.

    In the autumn fall-back hour two instants print the same text; callers that build query windows
    use :func:`shipstation_window_start` so the earlier instant is always covered.
    """
    return _require_aware(value).astimezone(PACIFIC).strftime(SHIPSTATION_FORMAT)


def shipstation_window_start(value: datetime) -> str:
    """The Pacific text for a *lower* bound: never later than ``value`` whatever ShipStation's reading.

    ShipStation reads naive Pacific text; in the repeated autumn hour it may take the later instant.
    Stepping back one hour whenever the local time is ambiguous keeps the window a superset.
    """
    local = _require_aware(value).astimezone(PACIFIC)
    other = local.replace(fold=1 - local.fold)
    if other.utcoffset() != local.utcoffset():
        local = (local - timedelta(hours=1)).astimezone(PACIFIC)
    return local.strftime(SHIPSTATION_FORMAT)


def parse_shipstation(text: str) -> datetime:
    """ShipStation date/time text (naive Pacific) → aware datetime in Pacific.

    Accepts ``T`` or a space, 0–7 fractional digits and date-only values. In the repeated autumn hour
    the first (daylight) reading is taken; a non-existent spring time is read with the standard offset,
    which is how ShipStation's own .NET stack reads it.
    """
    match = _SHIPSTATION_RE.match(text or "")
    if not match:
        raise ValueError(f"not a ShipStation date/time: {text!r}")
    fraction = (match["fraction"] or "").ljust(6, "0")[:6]
    local = datetime(
        int(match["year"]), int(match["month"]), int(match["day"]),
        int(match["hour"] or 0), int(match["minute"] or 0), int(match["second"] or 0),
        int(fraction or 0), tzinfo=PACIFIC,
    )
    # A wall time inside the spring gap does not exist; zoneinfo maps it with the pre-gap offset.
    return local


def parse_shipstation_date(text: str) -> date:
    """A ShipStation ship date (``2014-10-03`` or ``2016-06-07T00:00:00.0000000``) → date."""
    return parse_shipstation(text).date()
