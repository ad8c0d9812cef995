"""`mirror create` refuses a bundle over a bound of docs/format.md at once, naming the bound, and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import mirror.bundle.caps
import mirror.bundle.create
import mirror.bundle.prepare
from conftest import invoke
from helpers import make_jpeg, sevenzip_extract
from mirror.bundle.create import CreateRequest, prepare_bundle, write_bundle
from mirror.bundle.sourcelist import SourceFile
from mirror.errors import InputError
from mirror.trust.keyring import Keyring
from mirror.trust.keys import SecretKey


def _no_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    def read(*_: object) -> None:
        raise AssertionError("a source was read before the bound was checked")
    monkeypatch.setattr(mirror.bundle.prepare, "_examine", read)


def test_too_many_files_are_refused_before_any_is_read(runner: CliRunner, keyring: Keyring, sources: Path,
                                                        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mirror.bundle.caps, "MAX_FILES", 3)
    _no_reading(monkeypatch)
    out = tmp_path / "b.7z"
    code, _, err = invoke(runner, "create", sources, "-o", out, "--key", "alice")
    assert code == 2 and "4 accounts and photos; a bundle holds at most 3" in err and "Traceback" not in err
    assert not out.exists() and list(tmp_path.glob("b.7z*")) == []


def test_names_too_long_for_the_signed_list_are_refused_before_any_is_read(
        runner: CliRunner, keyring: Keyring, sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mirror.bundle.caps, "MAX_SUMS_BYTES", 400)
    _no_reading(monkeypatch)
    code, _, err = invoke(runner, "create", sources, "-o", tmp_path / "b.7z", "--key", "alice")
    assert code == 2 and "SHA256SUMS" in err and "a bundle may have" in err


def test_names_too_long_for_the_header_are_refused_before_any_is_read(
        runner: CliRunner, keyring: Keyring, sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mirror.bundle.caps, "MAX_HEADER", 300)
    _no_reading(monkeypatch)
    code, _, err = invoke(runner, "create", sources, "-o", tmp_path / "b.7z", "--key", "alice")
    assert code == 2 and "7z header" in err and "a bundle may have" in err


def test_a_description_too_large_stops_the_reading_at_once(runner: CliRunner, keyring: Keyring, sources: Path,
                                                           tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mirror.bundle.caps, "MAX_META_BYTES", 100)
    monkeypatch.setattr(mirror.bundle.prepare, "MAX_META_BYTES", 100)
    out = tmp_path / "b.7z"
    code, _, err = invoke(runner, "create", sources, "-o", out, "--key", "alice")
    assert code == 2 and "bundle.json" in err and "a bundle may have" in err
    assert not out.exists()


@pytest.mark.parametrize("changed", ["photos/square.jpg", "accounts/2022-01-06-almaty.ru.md"])
def test_a_source_changed_after_the_check_stops_the_writing(sources: Path, secret: SecretKey, tmp_path: Path,
                                                            changed: str) -> None:
    """What was checked is what is signed: a photo changed between the two passes, or an account the page reads
    again to show it, fails create; nothing is left."""
    out = tmp_path / "b.7z"
    prepared = prepare_bundle(CreateRequest(sources, out))
    prepared.check()
    path = sources / changed
    path.write_bytes(make_jpeg(seed=5) if changed.endswith(".jpg") else path.read_bytes() + b"More.\n")
    with pytest.raises(InputError, match="changed while the bundle was being made"):
        write_bundle(prepared, secret)
    assert list(tmp_path.glob("b.7z*")) == []


def test_an_account_is_stored_as_it_was_checked_whatever_happens_to_the_file_after(
        sources: Path, secret: SecretKey, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The checking pass compresses each account from the bytes it hashed and scanned: an account the page does
    not show, changed (or removed) after the check, goes into the bundle as it was checked, never read again."""
    monkeypatch.setattr(mirror.bundle.create, "MAX_RENDERED", 0)
    out = tmp_path / "b.7z"
    prepared = prepare_bundle(CreateRequest(sources, out))
    prepared.check()
    checked = {p.relative_to(sources).as_posix(): p.read_bytes() for p in sources.glob("accounts/*")}
    changed = sources / "accounts/2022-01-06-almaty.ru.md"
    changed.write_bytes(changed.read_bytes() + "Телефон: +7 701 123 45 67\n".encode())
    for other in sources.glob("accounts/*"):
        if other != changed:
            other.unlink()
    write_bundle(prepared, secret)
    stored = sevenzip_extract(out, tmp_path / "x")
    assert {p.relative_to(stored).as_posix(): p.read_bytes() for p in stored.glob("accounts/*")} == checked


def test_the_page_shows_only_the_text_that_was_checked(sources: Path, secret: SecretKey, tmp_path: Path) -> None:
    """The page reads each account again as it is rendered: one changed since the check stops it, whichever of
    the page and the accounts' encoder reaches the file first."""
    prepared = prepare_bundle(CreateRequest(sources, tmp_path / "b.7z"))
    prepared.check()
    path = sources / "accounts/2022-01-06-almaty.ru.md"
    path.write_bytes(path.read_bytes().replace(b"\n", b" \n", 1))
    with pytest.raises(InputError, match="changed while the bundle was being made"):
        b"".join(mirror.bundle.create._page(prepared, "Almaty", "2022-01-06T00:00:00Z", secret.public))


def test_a_cleaned_photo_is_written_from_its_kept_ranges(sources: Path, secret: SecretKey, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The writing pass rebuilds each unchanged JPEG from the ranges the check kept, without parsing it again;
    the bundle verifies (the self-check compares every member with the signed hash)."""
    out = tmp_path / "b.7z"
    prepared = prepare_bundle(CreateRequest(sources, out))
    prepared.check()
    assert "photos/square.jpg" in prepared.recipes
    real = mirror.bundle.create.stored_bytes

    def accounts_only(item: SourceFile, raw: bytes, request: CreateRequest) -> object:
        assert item.kind != "photo" or item.member not in prepared.recipes, item.member
        return real(item, raw, request)

    monkeypatch.setattr(mirror.bundle.create, "stored_bytes", accounts_only)
    result = write_bundle(prepared, secret)
    assert result.photos >= 1 and out.exists()
