"""Part markers, sizes, channel presets and the packing plan, as values."""

from __future__ import annotations

import pytest

from mirror.bundle.parts import plan_parts
from mirror.errors import ArchiveError, ConfigError
from mirror.formats.part import CHANNELS, PartMarker, parse_size


@pytest.mark.parametrize(("text", "size"), [
    ("48M", 48_000_000), ("48MB", 48_000_000), ("45MiB", 45 << 20), ("500k", 500_000), ("1.5G", 1_500_000_000),
    ("20000000", 20_000_000), (" 7 m ", 7_000_000),
])
def test_sizes(text: str, size: int) -> None:
    """Decimal units as channels state them; binary ones when asked."""
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "M", "-5M", "5 parsecs", "1e9", "48M!"])
def test_not_sizes(text: str) -> None:
    """Anything else is a usage error."""
    with pytest.raises(ConfigError):
        parse_size(text)


def test_marker_round_trip_and_strictness() -> None:
    """Exactly the bytes written are read back; any other shape or an impossible count is refused."""
    assert PartMarker.from_bytes(PartMarker(2, 3).to_bytes()) == PartMarker(2, 3)
    for raw in (b'{"format":"mirror-part/1","part":1,"parts":1}\n', b'{"format":"mirror-part/1","part":4,"parts":3}\n',
                b'{"format":"mirror-part/1","part":0,"parts":3}\n', b'{"part":1,"parts":2,"format":"mirror-part/1"}\n',
                b'{"format":"mirror-part/1","part":1,"parts":2}', b'{"format":"mirror-part/1","part":01,"parts":2}\n'):
        with pytest.raises(ArchiveError):
            PartMarker.from_bytes(raw)


def test_email_preset_fits_after_base64() -> None:
    """A part of the e-mail preset, base64-encoded with line breaks and headers, fits the smallest common limit."""
    email = CHANNELS["email"]
    assert email.usable * 4 / 3 * 78 / 76 + 100_000 <= email.limit
    assert all(c.usable < c.limit for c in CHANNELS.values())


def test_plan_is_first_fit_largest_first_and_refuses_a_file_too_large() -> None:
    """Few parts, every file once, the same plan each time; a file that fits no part is named."""
    sizes = {f"photos/{i:02d}.jpg": size for i, size in enumerate([60, 50, 40, 30, 20, 10, 10])}
    capacity = 352
    plan = plan_parts(sizes, capacity)
    assert plan == plan_parts(dict(reversed(sizes.items())), capacity)
    assert sorted(n for part in plan for n in part) == sorted(sizes)
    cost = {n: size + 96 + 2 * len(n) for n, size in sizes.items()}  # bytes, header entry and name
    assert all(sum(cost[n] for n in part) <= capacity for part in plan)
    assert len(plan) == -(-sum(cost.values()) // capacity)  # as few parts as the total allows, here
    with pytest.raises(ConfigError, match=r"photos/00.jpg is 60 bytes"):
        plan_parts(sizes, 100)


def test_first_fit_matches_the_plain_search_and_stops_past_its_limit() -> None:
    """The tree of rooms finds the same first part as walking every part in turn (which took hours at a million
    files); past the limit the plan stops instead of placing 50,000 files one part each."""
    import random
    from array import array

    from mirror.bundle.parts import _first_fit

    pick = random.Random(7)
    sizes = array("Q", (pick.choice((1, 5, 40, 300, 900, 1000)) for _ in range(3000)))
    capacity = 1000

    def walked() -> list[list[int]]:
        parts: list[list[int]] = []
        room: list[int] = []
        for i in sorted(range(len(sizes)), key=sizes.__getitem__, reverse=True):
            index = next((k for k, left in enumerate(room) if sizes[i] <= left), -1)
            if index < 0:
                parts.append([])
                room.append(capacity)
            parts[index].append(i)
            room[index] -= sizes[i]
        return [sorted(p) for p in parts]

    assert [list(p) for p in _first_fit(sizes, sizes, capacity, str)] == walked()
    stopped = _first_fit(array("Q", [capacity] * 50_000), array("Q", [capacity] * 50_000), capacity, str, 10)
    assert len(stopped) == 11
