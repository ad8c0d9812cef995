"""Every --json output has exactly the shape docs/json.md shows, and every command that reports has --json."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from conftest import invoke
from helpers import make_jpeg
from mirror.bundle.create import CreateRequest, create_bundle
from mirror.trust.keyring import Keyring
from mirror.trust.keys import SecretKey

DOC = Path(__file__).resolve().parents[2] / "docs" / "json.md"
MAPS = {"dry_run"}  # objects whose keys are data (host names), not field names
OPAQUE = {"contents"}  # per-file fields vary with the file (docs/format.md): only checked to be an object


def documented() -> dict[str, list[Any]]:
    """The JSON examples of docs/json.md, by the command in their section heading."""
    sections: dict[str, list[Any]] = {}
    heading = ""
    for block in re.split(r"^(## .*)$", DOC.read_text(encoding="utf-8"), flags=re.M):
        if block.startswith("## "):
            heading = block
            continue
        for example in re.findall(r"```json\n(.*?)```", block, flags=re.S):
            for command in re.findall(r"`mirror ([a-z ]+?) --json", heading):
                sections.setdefault(command, []).append(json.loads(example))
    return sections


def shape(value: Any, key: str = "") -> Any:
    """The keys of `value` at every depth (the first element stands for a list; maps keep one entry's shape)."""
    if isinstance(value, dict):
        if key in OPAQUE:
            return {}
        if key in MAPS:
            return {"*": shape(next(iter(value.values())), "*")} if value else {}
        return {k: shape(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0], key)] if value else []
    return None if value is None else "value"


def matches(actual: Any, example: Any) -> bool:
    """Same keys at every depth; an empty list or map in either matches any list or map; null matches anything."""
    if actual is None:
        return True
    if isinstance(example, dict) and isinstance(actual, dict):
        if "*" in example or "*" in actual or not example or not actual:
            return all(matches(actual.get("*", a), example.get("*", e))
                       for a in actual.values() for e in example.values())
        return set(actual) == set(example) and all(matches(actual[k], example[k]) for k in example)
    if isinstance(example, list) and isinstance(actual, list):
        return not example or not actual or matches(actual[0], example[0])
    return actual == "value" and example in ("value", None)


def check(command: str, out: str) -> None:
    """The output is one JSON object with the shape of one of the documented examples for `command`."""
    doc = json.loads(out)
    examples = documented()[command]
    assert any(matches(shape(doc), shape(e)) for e in examples), (command, shape(doc), [shape(e) for e in examples])


def test_every_reporting_command_is_documented() -> None:
    """docs/json.md has a section for each command that takes --json."""
    assert set(documented()) == {"verify", "show", "endorse", "scan", "keys list", "publish", "refresh", "status",
                                 "fetch", "torrent", "split", "join"}


def test_bundle_commands(runner: CliRunner, bundle: Path, tmp_path: Path, sources: Path, secret: SecretKey) -> None:
    """verify (intact, untrusted, invalid), show and scan print their documented shapes."""
    code, out, _ = invoke(runner, "verify", "--json", bundle)
    assert code == 0
    check("verify", out)
    code, out, _ = invoke(runner, "verify", "--json", bundle, "--keys", tmp_path / "nobody")
    assert code == 5 and json.loads(out)["verdict"] == "untrusted"
    check("verify", out)
    broken = tmp_path / "broken.7z"
    broken.write_bytes(bundle.read_bytes()[:-100])
    code, out, _ = invoke(runner, "verify", "--json", broken)
    assert code == 3 and json.loads(out)["verdict"] == "invalid" and json.loads(out)["checked"] is True
    check("verify", out)
    code, out, _ = invoke(runner, "show", "--json", broken)  # the same object (it printed nothing)
    assert code == 3 and json.loads(out)["verdict"] == "invalid"
    check("verify", out)
    for seed in (1, 2):
        (sources / "photos" / f"big{seed}.jpg").write_bytes(make_jpeg(600, 400, seed, noisy=True))
    big = tmp_path / "big.7z"
    create_bundle(CreateRequest(sources, big, title="Big"), secret)
    code, out, err = invoke(runner, "split", "--json", big, "--max-size", f"{big.stat().st_size * 2 // 3}",
                            "-o", tmp_path)
    assert code == 0 and len(json.loads(out)["parts"]) == 2, err
    check("split", out)
    code, out, err = invoke(runner, "join", "--json", *sorted(tmp_path.glob("big.part*.7z")), "-o", tmp_path / "j.7z")
    assert code == 0 and json.loads(out)["signer"]["name"] == "alice", err
    check("join", out)
    code, out, _ = invoke(runner, "verify", "--json", tmp_path / "big.part1of2.7z")
    assert code == 0 and json.loads(out)["part"]["number"] == 1
    check("verify", out)
    folder = tmp_path / "folder"
    code, out, _ = invoke(runner, "extract", bundle, folder)
    code, out, _ = invoke(runner, "verify", "--json", folder)
    assert code == 0 and json.loads(out)["path"] == str(folder)
    check("verify", out)
    code, out, _ = invoke(runner, "show", "--json", bundle)
    assert code == 0 and json.loads(out)["contents"]
    check("show", out)
    code, out, _ = invoke(runner, "scan", "--json", sources)
    check("scan", out)
    Keyring(tmp_path / "keys").create("bob", None)
    code, out, _ = invoke(runner, "endorse", "--json", bundle, "--key", "bob", "--claim", "relayed")
    assert code == 0 and json.loads(out)["endorsements"] == 1
    check("endorse", out)
    code, out, _ = invoke(runner, "torrent", "--json", bundle, "--mirror", "https://a.example/m/")
    assert code == 0 and len(json.loads(out)["infohash"]) == 40
    check("torrent", out)


def test_keys_list(runner: CliRunner, keyring: Keyring, tmp_path: Path) -> None:
    """keys list --json names the keyring it read and why that one."""
    code, out, _ = invoke(runner, "keys", "list", "--json")
    assert code == 0
    check("keys list", out)
    doc = json.loads(out)
    assert doc["keyring"] == str(keyring.folder) and doc["chosen_by"] == "$MIRROR_KEYS"
    assert [k["name"] for k in doc["keys"]] == ["alice"] and doc["keys"][0]["secret"] is True


@pytest.fixture
def publisher(tmp_path: Path, keyring: Keyring) -> Path:
    """A mirror.toml with alice as publisher and two folder hosts, one of them missing (optional)."""
    (tmp_path / "host").mkdir()
    config = tmp_path / "mirror.toml"
    config.write_text(f'[publisher]\nkey = "alice"\n\n[hosts.a]\nurl = "{tmp_path / "host"}"\n\n'
                      f'[hosts.gone]\nurl = "{tmp_path / "unmounted"}"\nrequired = false\n')
    return config


def test_publish_refresh_status_fetch(runner: CliRunner, bundle: Path, publisher: Path, tmp_path: Path) -> None:
    """publish (dry run and real), refresh, status and fetch (--list too) print their documented shapes."""
    code, out, _ = invoke(runner, "publish", "--json", "--dry-run", bundle, "--config", publisher)
    assert code == 0 and "dry_run" in json.loads(out)
    check("publish", out)
    code, out, _ = invoke(runner, "publish", "--json", bundle, "--config", publisher)
    doc = json.loads(out)
    assert code == 0 and [h["ok"] for h in doc["hosts"]] == [True, False]
    assert doc["hosts"][1]["failure"] == "unreachable"
    check("publish", out)
    code, out, _ = invoke(runner, "refresh", "--json", "--config", publisher, "--to", "a")
    assert code == 0
    check("refresh", out)
    code, out, _ = invoke(runner, "status", "--json", "--config", publisher)
    doc = json.loads(out)
    assert code == 4 and [h["state"] for h in doc["hosts"]] == ["ok", "failed"]
    check("status", out)
    reader = ("--keys", tmp_path / "keys", "--mirror", tmp_path / "host", "--dest", tmp_path / "in")
    code, out, _ = invoke(runner, "fetch", "--json", *reader)
    doc = json.loads(out)
    assert code == 0 and doc["bundles"][0]["arrived"] and doc["mirrors"][0]["fate"] == "ok"
    check("fetch", out)
    code, out, _ = invoke(runner, "fetch", "--json", "--list", *reader)
    assert code == 0 and set(json.loads(out)) == {"index", "mirrors", "peers"}
    code, out, _ = invoke(runner, "fetch", "--json", "--keys", tmp_path / "keys", "--mirror", tmp_path / "nothing")
    doc = json.loads(out)
    assert code == 4 and doc["index"] is None and doc["mirrors"][0]["fate"] == "missing"
    check("fetch", out)


def test_control_characters_never_reach_the_terminal_raw() -> None:
    """C0, DEL, C1, bidi and separators come out as \\u escapes, and the JSON still parses to the same text."""
    from mirror.cli.common import json_text

    hostile = "a\x1b[2Jb\x7f\x9b31m\u202eevil\u2066\u2028\u0007"
    text = json_text({"title": hostile})
    assert all(ch not in text for ch in "\x1b\x7f\x9b\u202e\u2066\u2028\x07")
    assert json.loads(text) == {"title": hostile}
