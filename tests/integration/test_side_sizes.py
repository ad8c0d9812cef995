"""A bundle's detached SHA256SUMS and signature on a host are checked by the size (and, where it is read anyway, the
SHA-256) they were sent with, recorded in the publisher's state: a cut-short or replaced one passed publish and
status as long as it was there and not empty, and readers then failed its signature (helper-pub)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import invoke
from mirror.publish.state import published_path
from servers import DavServer


def _published(tmp_path: Path, bundle: Path, runner: CliRunner, nginx_dav: DavServer,
               monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """`bundle` published to a fresh folder on nginx: mirror.toml, and the host's bundles/ folder."""
    run = uuid.uuid4().hex[:10]
    dav = nginx_dav.host_config(monkeypatch, url=f"{nginx_dav.url}{run}/")
    config = tmp_path / "mirror.toml"
    config.write_text(f'[publisher]\nkey = "alice"\n\n[hosts.dav]\nurl = "{dav.url}"\nusername = "{dav.username}"\n'
                      f'password_env = "{dav.password_env}"\n')
    code, out, err = invoke(runner, "publish", bundle, "--config", config)
    assert code == 0, out + err
    return config, nginx_dav.root / run / "bundles"


@pytest.mark.parametrize("suffix", [".SHA256SUMS", ".SHA256SUMS.minisig"])
def test_a_side_file_cut_short_on_a_host_is_seen_and_sent_again(
        tmp_path: Path, bundle: Path, runner: CliRunner, nginx_dav: DavServer, monkeypatch: pytest.MonkeyPatch,
        suffix: str) -> None:
    config, folder = _published(tmp_path, bundle, runner, nginx_dav, monkeypatch)
    side = next(folder.glob(f"*{suffix}"))
    whole = side.read_bytes()
    side.write_bytes(whole[: len(whole) // 2])  # a full disk, an interrupted copy by other means
    code, out, err = invoke(runner, "status", "--config", config)
    assert code == 4 and f"{side.name} has {len(whole) // 2:,} bytes, not {len(whole):,}" in out, out + err
    code, out, err = invoke(runner, "refresh", "--config", config)
    assert code == 0 and f"whose bundles/{side.name} has {len(whole) // 2:,} bytes" in err, out + err
    assert side.read_bytes() == whole
    assert invoke(runner, "status", "--config", config)[0] == 0


def test_a_side_file_replaced_at_its_size_is_caught_by_status_deep(
        tmp_path: Path, bundle: Path, runner: CliRunner, nginx_dav: DavServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    config, folder = _published(tmp_path, bundle, runner, nginx_dav, monkeypatch)
    side = next(folder.glob("*.SHA256SUMS"))
    whole = side.read_bytes()
    side.write_bytes(whole[:-2] + b"0\n" if whole[-2:] != b"0\n" else whole[:-2] + b"1\n")
    assert invoke(runner, "status", "--config", config)[0] == 0  # a size cannot see it
    code, out, err = invoke(runner, "status", "--deep", "--config", config)
    assert code == 4 and f"bundles/{side.name} reads back with another sha256" in out, out + err


def test_a_side_file_cut_short_refuses_the_host_when_its_bundle_is_gone_from_here(
        tmp_path: Path, bundle: Path, runner: CliRunner, nginx_dav: DavServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The publisher's copy is gone and the host is not known to hold the bundle: it must show it has it, its
    SHA256SUMS at the size it was sent with, before it gets an index."""
    config, folder = _published(tmp_path, bundle, runner, nginx_dav, monkeypatch)
    bundle.unlink()
    state = next(published_path("x").parent.glob("*.json"))
    doc = json.loads(state.read_text())
    doc["holding"] = {}  # a run that failed there before
    state.write_text(json.dumps(doc))
    side = next(folder.glob("*.SHA256SUMS"))
    side.write_bytes(side.read_bytes()[:-10])
    code, out, err = invoke(runner, "refresh", "--config", config)
    assert code == 4 and f"without bundles/{side.name}" in out + err, out + err


def test_the_recorded_sides_survive_a_state_file_from_before_them(
        tmp_path: Path, bundle: Path, runner: CliRunner, nginx_dav: DavServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A state written before sides were recorded loads (each side file then only has to be there, not empty), and
    the next run that sends the bundle records them."""
    config, folder = _published(tmp_path, bundle, runner, nginx_dav, monkeypatch)
    state = next(published_path("x").parent.glob("*.json"))
    doc = json.loads(state.read_text())
    assert sorted(p.rpartition(".")[2] for p in doc["sides"]) == ["SHA256SUMS", "minisig"]
    del doc["sides"]
    state.write_text(json.dumps(doc))
    side = next(folder.glob("*.SHA256SUMS"))
    side.write_bytes(side.read_bytes()[:-10])
    assert invoke(runner, "status", "--config", config)[0] == 0  # nothing recorded: only there and not empty
    code, out, err = invoke(runner, "publish", bundle, "--config", config)
    assert code == 0, out + err
    assert json.loads(state.read_text())["sides"], "the run that sent the bundle again records its side files"
    assert invoke(runner, "status", "--config", config)[0] == 0


@pytest.mark.parametrize("sides", [[], {"bundles/a.SHA256SUMS": [-1, "0" * 64]},
                                   {"bundles/a.SHA256SUMS": [True, "0" * 64]},
                                   {"bundles/a.SHA256SUMS": [10, "short"]}, {"bundles/a.SHA256SUMS": 10},
                                   {"bundles/a.SHA256SUMS": [0, "0" * 64]},  # would pass an empty one as whole
                                   {"bundles/a.SHA256SUMS": [10, "z" * 64]}])
def test_damaged_recorded_sides_are_a_damaged_state(
        tmp_path: Path, bundle: Path, runner: CliRunner, nginx_dav: DavServer, monkeypatch: pytest.MonkeyPatch,
        sides: object) -> None:
    config, _ = _published(tmp_path, bundle, runner, nginx_dav, monkeypatch)
    state = next(published_path("x").parent.glob("*.json"))
    doc = json.loads(state.read_text())
    doc["sides"] = sides
    state.write_text(json.dumps(doc))
    code, out, err = invoke(runner, "status", "--config", config)
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) <= 2, out + err
    assert 'remove its "sides" entry' in err, err  # what to do without a backup: the rest of the state is whole
    del doc["sides"]
    state.write_text(json.dumps(doc))
    assert invoke(runner, "status", "--config", config)[0] == 0
