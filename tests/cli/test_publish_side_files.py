"""publish and refresh look for every file a reader needs of a listed bundle a host is known to hold, not only the
.7z: its detached SHA256SUMS, their signature and its .torrent (helper-174)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import invoke
from mirror_setup import Setup, publish_cli

SIDE_FILES = ["SHA256SUMS", "SHA256SUMS.minisig", "torrent"]


def _side(host: Path, setup: Setup, suffix: str) -> Path:
    return host / f"bundles/{setup.sha256}.{suffix}"


@pytest.mark.parametrize("suffix", SIDE_FILES)
@pytest.mark.parametrize("damage", ["deleted", "emptied"])
def test_a_side_file_deleted_from_a_host_is_sent_again(setup: Setup, runner: CliRunner, suffix: str,
                                                       damage: str) -> None:
    """The host's admin deleted (or emptied) a bundle's signature file, its SHA256SUMS or its .torrent: refresh gave
    that host the new index, OK, and readers could not check the author (or fetch by torrent) there."""
    b = setup.hosts[1]
    assert publish_cli(runner, setup, setup.bundle)[0] == 0
    kept = _side(b, setup, suffix).read_bytes()
    if damage == "deleted":
        _side(b, setup, suffix).unlink()
    else:
        _side(b, setup, suffix).write_bytes(b"")
    code, out, err = invoke(runner, "refresh", "--config", setup.config)
    assert code == 0 and "OK    a" in out and "OK    b" in out, out + err
    said = "lacks" if damage == "deleted" else "has"
    assert f"[b] Test bundle (bundles/{setup.sha256}.7z) {said} bundles/{setup.sha256}.{suffix}" in err, err
    if suffix != "torrent":  # a .torrent is made again, with today's web seeds
        assert _side(b, setup, suffix).read_bytes() == kept
    assert _side(b, setup, suffix).stat().st_size > 0
    assert invoke(runner, "status", "--config", setup.config)[0] == 0


@pytest.mark.parametrize("suffix", SIDE_FILES)
def test_a_side_file_deleted_from_a_host_whose_bundle_file_is_gone_fails_that_host(
        setup: Setup, runner: CliRunner, tmp_path: Path, suffix: str) -> None:
    """Without the publisher's copy the side file cannot be sent again: that host gets no index, its line names
    the file, and the run ends with exit 4."""
    b = setup.hosts[1]
    assert publish_cli(runner, setup, setup.bundle)[0] == 0
    _side(b, setup, suffix).unlink()
    setup.bundle.rename(tmp_path / "elsewhere.7z")
    code, out, err = invoke(runner, "refresh", "--config", setup.config)
    assert code == 4 and "OK    a" in out, out + err
    assert f"FAIL  b  the index lists Test bundle (bundles/{setup.sha256}.7z), which is on this host without " \
           f"bundles/{setup.sha256}.{suffix}" in out, out
    assert json.loads((b / "index.json").read_bytes())["version"] == 1
    code, out, err = publish_cli(runner, setup, tmp_path / "elsewhere.7z")
    assert code == 0 and "OK    b" in out, out + err
    assert _side(b, setup, suffix).stat().st_size > 0


@pytest.mark.parametrize("suffix", SIDE_FILES)
def test_status_names_a_missing_side_file(setup: Setup, runner: CliRunner, suffix: str) -> None:
    """status looked only for the .7z, and said OK of a host where readers could not check the author."""
    assert publish_cli(runner, setup, setup.bundle)[0] == 0
    _side(setup.hosts[1], setup, suffix).unlink()
    code, out, err = invoke(runner, "status", "--config", setup.config)
    assert code == 4 and f"missing bundles/{setup.sha256}.{suffix}" in out + err, out + err
    assert invoke(runner, "refresh", "--config", setup.config)[0] == 0
    assert invoke(runner, "status", "--config", setup.config)[0] == 0
