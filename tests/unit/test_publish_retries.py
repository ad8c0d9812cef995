"""publish_to_host with an in-memory host: retries transient errors, stops at a hard one, index last."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import mirror.net.pace as pace
import mirror.publish.parallel as parallel
from mirror.errors import Failure, MissingFile, TransferError
from mirror.publish.plan import Upload
from mirror.publish.send import publish_to_host


class MemoryHost:
    """A host in memory whose uploads fail as scripted."""

    def __init__(self, failures: list[TransferError | None]) -> None:
        self.name = "mem"
        self.files: dict[str, bytes] = {}
        self.failures = failures
        self.attempts: list[str] = []

    def stat(self, path: str) -> int | None:
        return len(self.files[path]) if path in self.files else None

    def read(self, path: str, limit: int) -> bytes:
        if path not in self.files:
            raise MissingFile(self.name, path)
        return self.files[path]

    def stream(self, path: str) -> Iterator[bytes]:
        yield self.read(path, 1 << 30)

    def upload(self, path: str, source: Path, sha256: str) -> None:
        self.attempts.append(path)
        failure = self.failures.pop(0) if self.failures else None
        if failure is not None:
            raise failure
        self.files[path] = source.read_bytes()

    def close(self) -> None:
        return None


@pytest.fixture
def uploads(tmp_path: Path) -> list[Upload]:
    files = []
    for name, replace in (("bundles/a.7z", False), ("index.json", True)):
        local = tmp_path / name.replace("/", "_")
        local.write_bytes(name.encode())
        files.append(Upload(name, local, hashlib.sha256(name.encode()).hexdigest(), len(name), replace))
    return files


def test_transient_errors_are_retried(uploads: list[Upload], monkeypatch: pytest.MonkeyPatch) -> None:
    """Two timeouts, then success: the file arrives, with backoff between attempts."""
    delays: list[float] = []
    monkeypatch.setattr(parallel.time, "sleep", delays.append)
    host = MemoryHost([TransferError("mem", "timed out", Failure.TIMEOUT),
                       TransferError("mem", "reset", Failure.UNREACHABLE)])
    lines: list[str] = []
    result = publish_to_host(host, True, uploads, lines.append)
    assert result.ok and host.attempts == ["bundles/a.7z"] * 3 + ["index.json"]
    assert delays == [0.5, 1.0]
    assert any("trying again" in line for line in lines)


def test_hard_error_stops_before_the_index(uploads: list[Upload]) -> None:
    """An authentication failure is not retried, and index.json is never sent after a failed bundle."""
    host = MemoryHost([TransferError("mem", "authentication failed")])
    result = publish_to_host(host, True, uploads, lambda _: None)
    assert result.error == "authentication failed"
    assert host.attempts == ["bundles/a.7z"] and "index.json" not in host.files


def test_present_bundles_are_skipped_but_index_is_replaced(uploads: list[Upload]) -> None:
    """Content-addressed files already there are not sent again; index.json always is, same size or not."""
    host = MemoryHost([])
    host.files = {"bundles/a.7z": b"bundles/a.7z", "index.json": b"index.jsoX"}
    result = publish_to_host(host, True, uploads, lambda _: None)
    assert result.present == ["bundles/a.7z"] and result.sent == ["index.json"]
    assert host.files["index.json"] == b"index.json"


def test_progress_adds_up_to_every_file_once(uploads: list[Upload], monkeypatch: pytest.MonkeyPatch) -> None:
    """Retried or already present, each file counts its size once in the progress of the host's run."""
    monkeypatch.setattr(parallel.time, "sleep", lambda _: None)
    host = MemoryHost([TransferError("mem", "timed out", Failure.TIMEOUT)])
    host.files = {"index.json": b"old"}
    seen: list[int] = []
    assert publish_to_host(host, True, uploads, lambda _: None, seen.append).ok
    assert sum(seen) == sum(u.size for u in uploads)
    host.files = {"bundles/a.7z": b"bundles/a.7z"}
    seen.clear()
    assert publish_to_host(host, True, uploads, lambda _: None, seen.append).present == ["bundles/a.7z"]
    assert sum(seen) == sum(u.size for u in uploads)


class SharedHost(MemoryHost):
    """One connection to a host whose files every connection shares; uploads meet at a barrier."""

    def __init__(self, files: dict[str, bytes], order: list[str], barrier: threading.Barrier | None,
                 fail: str | None = None) -> None:
        super().__init__([])
        self.files, self.order, self.barrier, self.fail = files, order, barrier, fail
        self.closed = False
        self.deadlines: list[float] = []
        self.pause = 0.0 if fail is None else 0.05

    def upload(self, path: str, source: Path, sha256: str) -> None:
        self.deadlines += [b.deadline for b in pace._local.budgets]
        if self.barrier is not None and path.endswith(".7z"):
            self.barrier.wait(timeout=10)  # only passes when three files are under way at once
        if path == self.fail:
            raise TransferError("mem", "authentication failed")
        time.sleep(self.pause)
        self.files[path] = source.read_bytes()
        self.order.append(path)

    def close(self) -> None:
        self.closed = True


def _many(tmp_path: Path, bundles: int) -> list[Upload]:
    files = []
    names = [f"bundles/{i}.7z" for i in range(bundles)] + ["index/2.json", "index/2.json.minisig", "index.json",
                                                           "index.json.minisig"]
    for name in names:
        local = tmp_path / name.replace("/", "_")
        local.write_bytes(name.encode())
        files.append(Upload(name, local, hashlib.sha256(name.encode()).hexdigest(), len(name),
                            name.startswith("index")))
    return files


def test_files_go_several_at_a_time_and_the_index_last_alone(tmp_path: Path) -> None:
    """transfers=3: three bundles are under way at once on three connections, within the host's budget; the
    index files follow in order once every bundle is there; the extra connections are closed."""
    files: dict[str, bytes] = {}
    order: list[str] = []
    barrier = threading.Barrier(3)
    made: list[SharedHost] = []

    def spare() -> SharedHost:
        made.append(SharedHost(files, order, barrier))
        return made[-1]

    host = SharedHost(files, order, barrier)
    seen: list[int] = []
    uploads = _many(tmp_path, 6)
    with pace.budget(600):
        result = publish_to_host(host, True, uploads, lambda _: None, seen.append, spare, transfers=3)
    assert result.ok, result.error
    assert len(made) == 2 and all(h.closed for h in made) and host.closed
    assert sorted(order[:6]) == [f"bundles/{i}.7z" for i in range(6)]
    assert order[6:] == ["index/2.json", "index/2.json.minisig", "index.json", "index.json.minisig"]
    assert sum(seen) == sum(u.size for u in uploads)
    assert all(h.deadlines for h in made)  # each connection's transfers end by the host's deadline


def test_a_failure_on_one_connection_stops_new_files_and_the_index(tmp_path: Path) -> None:
    files: dict[str, bytes] = {}
    order: list[str] = []

    def spare() -> SharedHost:
        return SharedHost(files, order, None, fail="bundles/0.7z")

    host = SharedHost(files, order, None, fail="bundles/0.7z")
    result = publish_to_host(host, True, _many(tmp_path, 8), lambda _: None, None, spare, transfers=2)
    assert result.error == "authentication failed"
    assert not any(name.startswith("index") for name in files)
    assert len(order) < 6  # the other connection took no new file once the failure was known


def test_one_hosts_unexpected_error_waits_for_the_others() -> None:
    """A bug in one host's run (a Cyrillic URL crashed the WebDAV driver) was raised at once, and the other hosts'
    threads, daemons, were cut off mid-upload: a required host was left without its index (helper-151). The error
    is raised once every other host has had its turn."""
    finished: list[str] = []

    def work(host: MemoryHost) -> str:
        if host.name == "broken":
            raise RuntimeError("a bug")
        time.sleep(0.3)
        finished.append(host.name)
        return host.name

    broken, slow = MemoryHost([]), MemoryHost([])
    broken.name, slow.name = "broken", "slow"
    with pytest.raises(RuntimeError, match="a bug"):
        parallel.each_host([broken, slow], {"broken": 10.0, "slow": 10.0}, work, lambda _line: None)  # type: ignore[list-item]
    assert finished == ["slow"]
