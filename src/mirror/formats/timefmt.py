"""The one time format of mirror's files: UTC, to the second, with a Z.

Example::

    format_time(datetime.now(UTC))      # "2022-01-05T18:30:12Z"
    parse_time("2022-01-05T18:30:12Z")  # datetime(2022, 1, 5, 18, 30, 12, tzinfo=UTC)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeGuard

if TYPE_CHECKING:
    from datetime import datetime

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def format_time(moment: datetime) -> str:
    """UTC, to the second, with a Z."""
    from datetime import UTC  # here, as in each function: `is_time` (every verify) needs no datetime

    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def now_text() -> str:
    """The current time, formatted."""
    from datetime import UTC, datetime

    return format_time(datetime.now(UTC))


def parse_time(text: object) -> datetime:
    """Parse a time written by `format_time`.

    Raises:
        ValueError: any other shape (callers say which field was wrong).
    """
    # Read by hand, not by strptime: its module (_strptime, with locale and calendar) cost a tiny verify 2 ms.
    if not _shaped(text):
        raise ValueError("not a time")
    from datetime import UTC, datetime

    return datetime(int(text[:4]), int(text[5:7]), int(text[8:10]), int(text[11:13]), int(text[14:16]),
                    int(text[17:19]), tzinfo=UTC)


def is_time(text: object) -> bool:
    """Whether `text` is a time exactly as `format_time` writes it: a real date and time from the year 1000 on,
    on every platform (strftime writes earlier years as 999 with glibc before Python 3.14, as 0999 elsewhere).

    Without datetime: this module is imported where datetime is not yet (verify's check of bundle.json's
    created; the datetime module was 4 ms of a tiny verify)."""
    if not _shaped(text):
        return False
    year, month, day = int(text[:4]), int(text[5:7]), int(text[8:10])
    if year < 1000 or not 1 <= month <= 12 or day < 1:
        return False
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if day > _DAYS[month - 1] - (month == 2 and not leap):
        return False
    return int(text[11:13]) < 24 and int(text[14:16]) < 60 and int(text[17:19]) < 60


def _shaped(text: object) -> TypeGuard[str]:
    """Twenty ASCII characters shaped like 2022-01-05T18:30:12Z, the fields digits."""
    return isinstance(text, str) and len(text) == 20 and text.isascii() and text[4::3] == "--T::Z" \
        and "".join(text[at:at + 2] for at in (0, 2, 5, 8, 11, 14, 17)).isdigit()
