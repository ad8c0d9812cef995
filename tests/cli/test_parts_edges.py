"""Parts, volumes and folders at their edges: paths under files, failures that must leave nothing behind."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import invoke
from test_parts import make_bundle


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[Path]]:
    """A bundle of four 60 KB photos, its keyring, and its parts of at most 150 KB."""
    folder = tmp_path_factory.mktemp("small")
    keys = folder / "keys"
    bundle = make_bundle(folder, [60_000] * 4, keys, "s.7z")
    code, _, err = invoke(CliRunner(), "split", bundle, "--max-size", "150k", "-o", folder / "parts", "--keys", keys)
    assert code == 0, err
    return bundle, keys, sorted((folder / "parts").iterdir())


def test_outputs_under_a_file_are_refused_by_name(runner: CliRunner, small: tuple[Path, Path, list[Path]]) -> None:
    """split -o, join -o and extract DEST under a file: exit 2, the file named as not a folder."""
    bundle, keys, parts = small
    for args in (("split", bundle, "--max-size", "150k", "-o", bundle / "sub"),
                 ("join", *parts, "-o", bundle / "w.7z"),
                 ("extract", *parts, bundle / "out"),
                 ("extract", bundle, bundle / "a" / "out")):
        code, _, err = invoke(runner, *args, "--keys", keys)
        assert code == 2 and f"{bundle} is not a folder" in err, (args, err)


def test_a_failure_leaves_no_folders_behind(runner: CliRunner, small: tuple[Path, Path, list[Path]],
                                            tmp_path: Path) -> None:
    """Folders made for DEST or -o are removed again when the command fails."""
    bundle, keys, parts = small
    nobody = tmp_path / "nobody"
    for args in (("extract", bundle, tmp_path / "z1" / "z2" / "dest", "--keys", nobody),
                 ("extract", *parts, tmp_path / "z1" / "z2" / "dest", "--keys", nobody),
                 ("split", bundle, "--max-size", "1k", "-o", tmp_path / "z1" / "z2", "--keys", keys),
                 ("join", parts[0], "-o", tmp_path / "z1" / "z2" / "w.7z", "--keys", keys)):
        code, _, err = invoke(runner, *args)
        assert code in (2, 5), (args, err)
        assert not (tmp_path / "z1").exists(), args
