"""The one time format of mirror's files: UTC, to the second, with a Z.

Example::

    format_time(datetime.now(UTC))      # "2022-01-05T18:30:12Z"
    parse_time("2022-01-05T18:30:12Z")  # datetime(2022, 1, 5, 18, 30, 12, tzinfo=UTC)
"""

from __future__ import annotations

from datetime import UTC, datetime

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def format_time(moment: datetime) -> str:
    """UTC, to the second, with a Z."""
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def now_text() -> str:
    """The current time, formatted."""
    return format_time(datetime.now(UTC))


def parse_time(text: object) -> datetime:
    """Parse a time written by `format_time`.

    Raises:
        ValueError: any other shape (callers say which field was wrong).
    """
    if not isinstance(text, str):
        raise ValueError("not a time")
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)
