"""Progress bars on stderr for long runs, via tqdm; silent for small inputs and non-terminals.

Example::

    with byte_progress(total_bytes, "create") as advance:
        advance(len(chunk))
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

LARGE = 64 << 20


@contextlib.contextmanager
def byte_progress(total: int, label: str, threshold: int = LARGE) -> Iterator[Callable[[int], None] | None]:
    """Yield a function that advances the bar by n bytes, or None when no bar is shown."""
    if total < threshold:
        yield None
        return
    from tqdm import tqdm

    with tqdm(total=total, unit="B", unit_scale=True, desc=label, disable=None, leave=False) as bar:
        yield bar.update
