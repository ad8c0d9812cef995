"""The test harness itself: a server the tests start is the one they talk to."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from servers import LOOPBACK, free_port, running


def test_a_port_taken_since_it_was_found_free_is_not_taken_for_the_server(tmp_path: Path) -> None:
    """Another program took the port between the probe and the start (a server of a review running beside the
    suite): the port answered, and the test talked to that program instead of its own server. The harness now
    waits for the port to be its process's, and says that the process could not listen."""
    port = free_port()
    with socket.socket() as squatter:
        squatter.bind((LOOPBACK, port))
        squatter.listen()
        args = [sys.executable, "-m", "mirror", "serve", str(tmp_path), "--port", str(port)]
        with pytest.raises(pytest.fail.Exception, match="exited with"), running(args, tmp_path / "log", port):
            pass
