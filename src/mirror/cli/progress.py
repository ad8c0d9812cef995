"""Progress bars on stderr for long runs, via tqdm; silent for small inputs and non-terminals.

Example::

    with byte_progress(total_bytes, "create") as advance:
        advance(len(chunk))
        echo_err("a line that must not break the bar")
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Iterator

from mirror.cli.common import echo, terminal_text
from mirror.i18n import translate

LARGE = 64 << 20
_bars = 0  # progress bars on the screen now (fetch shows one per download, from several threads)
_lock = threading.Lock()


def echo_err(line: str) -> None:
    """One line on stderr, in the reader's language, above the progress bar if one is showing; with control
    characters escaped, as `warn` does (a web seed's status line carried ESC and BEL to the terminal, helper-160)."""
    line = terminal_text(translate(line)).replace("\n", "\\n")
    if _bars:
        from tqdm import tqdm

        tqdm.write(line, file=sys.stderr)
    else:
        echo(line, err=True)


@contextlib.contextmanager
def byte_progress(total: int, label: str, threshold: int = LARGE) -> Iterator[Callable[[int], None] | None]:
    """Yield a function that advances the bar by n bytes, or None when no bar is shown."""
    if total < threshold or sys.stderr is None:  # stderr closed (`2>&-`): tqdm wrote to None, and hung at exit
        yield None
        return
    from tqdm import tqdm

    global _bars
    with tqdm(total=total, unit="B", unit_scale=True, desc=label, disable=None, leave=False) as bar:
        with _lock:
            _bars += not bar.disable
        try:
            yield bar.update
        finally:
            with _lock:
                _bars -= not bar.disable
