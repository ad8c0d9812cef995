"""Imports point down (docs/architecture.md): a lower layer never imports a higher one."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "mirror"

# Layer of each top-level part of the package; a module may import its own part or a lower layer.
LAYERS = {
    "errors": 0, "record": 0, "leftovers": 0, "held_back": 0,
    "folders": 1, "hashing": 1, "heap": 1, "safeio": 1, "walk": 1, "workspace": 1, "net": 1, "i18n": 1,
    "formats": 2,
    "sevenzip": 3, "swarm": 3,
    "trust": 4,
    "privacy": 5,
    "bundle": 6,
    "publish": 7, "fetch": 7, "serve": 7,
    "cli": 9,
    "__init__": 10, "__main__": 10,
}
PURE = {"trust/policy.py", "trust/rollback.py"}  # trust decisions on values only
PURE_ALLOWED = {"formats", "record", "trust.keyset", "trust.policy", "trust.rollback"}
NO_IO_IN_TRUST = {"requests", "py7zr", "paramiko", "boto3", "botocore", "socket", "http", "urllib3", "click",
                  "libtorrent"}
# One third-party library per module (STYLE.md): which modules may import each.
THIRD_PARTY = {
    "cryptography": {"trust/keys.py"},
    "phonenumbers": {"privacy/identifiers.py"},
    "charset_normalizer": {"privacy/texts.py"},
    "zxcvbn": {"trust/passphrase.py"},
    "PIL": {"privacy/heic.py"},
    "pillow_heif": {"privacy/heic.py"},
    "segno": {"trust/fingerprint.py"},
    "py7zr": set(),  # tests only: an independent reader and a maker of hostile archives
    "requests": {"fetch/transport.py", "publish/hosts/webdav.py", "net/http.py"},
    "urllib3": {"net/http.py"},
    "paramiko": {"publish/hosts/sftp.py"},
    "boto3": {"publish/hosts/s3.py"},
    "botocore": {"publish/hosts/s3.py"},
    "tqdm": {"cli/progress.py"},
    "markdown_it": {"bundle/page.py"},
    "aiohttp": {"serve/http.py"},
    "zeroconf": {"serve/announce.py", "fetch/lan.py"},
    "libtorrent": {"swarm/engine.py", "swarm/download.py"},
    "defusedxml": {"publish/hosts/listing.py"},
}


def _part(module: str) -> str:
    """The top-level part of a mirror module name: "mirror.trust.keys" -> "trust"."""
    return module.split(".")[1] if module.count(".") else "__init__"


def imports_of(path: Path) -> set[str]:
    """Every module `path` imports, at any depth of the file (lazy imports inside functions included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names if node.module == "mirror"}
    return found


def violations(src: Path) -> list[str]:
    """Every import that breaks a rule of docs/architecture.md, as "file: imported (why)"."""
    problems = []
    for path in sorted(src.rglob("*.py")):
        relative = path.relative_to(src).as_posix()
        own = relative.split("/")[0].removesuffix(".py")
        layer = LAYERS.get(own)
        if layer is None:
            problems.append(f"{relative}: not in any layer (add it to docs/architecture.md and LAYERS)")
            continue
        for imported in sorted(imports_of(path)):
            top = imported.split(".")[0]
            if top == "mirror" and imported != "mirror":
                part = _part(imported)
                if part != own and LAYERS.get(part, 99) >= layer:
                    problems.append(f"{relative}: imports {imported} (layer {LAYERS.get(part)} >= {layer})")
                if relative in PURE and part != "errors" and not any(
                        imported == f"mirror.{a}" or imported.startswith(f"mirror.{a}.") for a in PURE_ALLOWED):
                    problems.append(f"{relative}: imports {imported} (trust decisions must stay pure)")
            if own == "trust" and top in NO_IO_IN_TRUST:
                problems.append(f"{relative}: imports {imported} (trust/ does no network or archive I/O)")
            allowed = THIRD_PARTY.get(top)
            if allowed is not None and relative not in allowed:
                problems.append(f"{relative}: imports {top} (only {', '.join(sorted(allowed))} may)")
    return problems


def test_imports_point_down() -> None:
    """No module imports a layer above its own, trust stays pure, each library has its module."""
    assert violations(SRC) == []


def test_nothing_imports_the_cli() -> None:
    """cli/ is imported by nothing in the library (only __main__ runs it)."""
    offenders = [p.relative_to(SRC).as_posix() for p in SRC.rglob("*.py")
                 if not p.relative_to(SRC).as_posix().startswith(("cli/", "__main__"))
                 and any(m == "mirror.cli" or m.startswith("mirror.cli.") for m in imports_of(p))]
    assert offenders == []


@pytest.mark.parametrize(("where", "line", "expected"), [
    pytest.param("formats/names.py", "from mirror.bundle.verify import verify_bundle", "layer 6 >= 2",
                 id="formats imports bundle"),
    pytest.param("sevenzip/reader.py", "import mirror.trust.keys", "layer 4 >= 3", id="sevenzip imports trust"),
    pytest.param("trust/rollback.py", "from mirror.safeio import load_state", "must stay pure",
                 id="rollback reads files"),
    pytest.param("trust/keys.py", "import requests", "no network", id="trust imports requests"),
    pytest.param("fetch/choose.py", "from mirror.publish.plan import host_index", "layer 7 >= 7",
                 id="fetch imports publish"),
    pytest.param("bundle/create.py", "import boto3", "only publish/hosts/s3.py", id="boto3 outside its driver"),
])
def test_a_wrong_import_is_caught(tmp_path: Path, where: str, line: str, expected: str) -> None:
    """A deliberately added wrong import makes the check fail, naming the file and the rule."""
    copy = tmp_path / "mirror"
    for path in SRC.rglob("*.py"):
        target = copy / path.relative_to(SRC)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    assert violations(copy) == []
    victim = copy / where
    victim.write_text(victim.read_text(encoding="utf-8") + f"\n\ndef _wrong() -> None:\n    {line}\n")
    found = violations(copy)
    assert found and all(f.startswith(where) for f in found) and any(expected in f for f in found), found
