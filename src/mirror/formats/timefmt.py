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
    # Read by hand, not by strptime: its module (_strptime, with locale and calendar) cost a tiny verify 2 ms.
    if not isinstance(text, str) or len(text) != 20 or not text.isascii() or text[4::3] != "--T::Z" \
            or not "".join(text[at:at + 2] for at in (0, 2, 5, 8, 11, 14, 17)).isdigit():
        raise ValueError("not a time")
    return datetime(int(text[:4]), int(text[5:7]), int(text[8:10]), int(text[11:13]), int(text[14:16]),
                    int(text[17:19]), tzinfo=UTC)
