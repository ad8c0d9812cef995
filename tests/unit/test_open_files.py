"""The room fits its connections to the open files it may have (serve/limits.py, `fitted`)."""

from __future__ import annotations

import resource
import subprocess
import sys

import pytest

_PROGRAM = """
import resource
resource.setrlimit(resource.RLIMIT_NOFILE, ({soft}, {hard}))
from mirror.serve.limits import Limits, fitted
print(fitted(Limits()).max_connections, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
"""


def _fitted(soft: int, hard: int) -> tuple[int, int]:
    done = subprocess.run([sys.executable, "-c", _PROGRAM.format(soft=soft, hard=hard)], capture_output=True,
                          text=True, check=True, timeout=60)
    connections, limit = done.stdout.split()
    return int(connections), int(limit)


def test_a_low_limit_of_open_files_is_raised_or_the_connections_fit_under_it() -> None:
    """Under `ulimit -n 256` (macOS's default) the room took 256 connections, and a bundle could then not be opened
    for a reader, nor the folder scanned ("Too many open files"). The soft limit is raised to the hard one (up to
    4,096); where the hard one is 256 too, the room takes fewer connections, leaving files for the transfers."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < 1024:
        pytest.fail(f"this machine's hard limit of open files is {hard}: the test needs at least 1,024")
    assert _fitted(256, 256) == (256 - 64 - 32, 256)
    assert _fitted(256, hard) == (256, min(4096, hard if hard != resource.RLIM_INFINITY else 4096))
