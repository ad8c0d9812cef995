"""The cost of a host that will not list its bundles/ folder (nginx without `dav_ext_methods PROPFIND`: 405),
counted in nginx's own access log: each file's size is asked by HEAD, a bundle's side files only when its .7z is
there, and the refused listing is not asked for again in the same run (helper-pub)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import invoke
from mirror.bundle.create import CreateRequest, create_bundle
from mirror.trust.keys import SecretKey
from servers import DavServer

BUNDLES = 3


def _requests(log: Path, start: int, prefix: str) -> list[str]:
    """The method of each request nginx logged under `prefix` after byte `start` of its access log."""
    return [method for method, path in re.findall(r'"([A-Z]+) (\S+) HTTP/1\.[01]"', log.read_text()[start:])
            if path.startswith(prefix)]


def test_a_host_that_will_not_list_is_asked_for_each_file_once_and_side_files_only_of_bundles_there(
        tmp_path: Path, bundle: Path, sources: Path, secret: SecretKey, runner: CliRunner,
        nginx_dav_unlisted: DavServer, monkeypatch: pytest.MonkeyPatch) -> None:
    run = uuid.uuid4().hex[:10]
    server = nginx_dav_unlisted
    dav = server.host_config(monkeypatch, url=f"{server.url}{run}/")
    config = tmp_path / "mirror.toml"
    config.write_text(f'[publisher]\nkey = "alice"\n\n[hosts.dav]\nurl = "{dav.url}"\nusername = "{dav.username}"\n'
                      f'password_env = "{dav.password_env}"\n')
    paths = [bundle]
    for n in range(1, BUNDLES):
        (sources / "accounts" / f"more-{n}.txt").write_text(f"Another account, number {n}.\n")
        paths.append(tmp_path / f"other-{n}.7z")
        create_bundle(CreateRequest(sources, paths[-1], title=f"Bundle {n}"), secret)
    code, out, err = invoke(runner, "publish", *paths, "--config", config)
    assert code == 0, out + err
    log, prefix = server.root.parents[1] / "access.log", f"/mirror/{run}/bundles/"

    start = len(log.read_text())
    code, out, err = invoke(runner, "refresh", "--config", config)
    assert code == 0 and "OK    dav" in out, out + err
    seen = _requests(log, start, prefix)  # the floor: four files a bundle, each asked once
    assert (seen.count("PROPFIND"), seen.count("HEAD"), len(seen)) == (1, 4 * BUNDLES, 1 + 4 * BUNDLES), seen

    gone = sorted((server.root / run / "bundles").glob("*.7z"))[:2]
    for path in gone:
        path.unlink()
    start = len(log.read_text())
    code, out, err = invoke(runner, "refresh", "--dry-run", "--config", config)
    assert code == 0, out + err
    seen = _requests(log, start, prefix)
    # planning: the one bundle there, four HEADs; the two gone, one each (their side files are sent again with
    # them); then the dry run's look at what it would send (the two .7z and their SHA256SUMS and signature), and no
    # second PROPFIND. It was 2 PROPFINDs and 18 HEADs.
    assert (seen.count("PROPFIND"), seen.count("HEAD")) == (1, 4 + 2 + 3 * 2), seen

    start = len(log.read_text())
    code, out, err = invoke(runner, "refresh", "--config", config)
    assert code == 0 and all(path.exists() for path in gone), out + err
    code, out, err = invoke(runner, "status", "--config", config)
    assert code == 0 and f"{BUNDLES} bundle(s) present" in out, out + err
