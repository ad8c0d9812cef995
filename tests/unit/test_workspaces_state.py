"""workspaces.json: what this computer remembers of its workspaces, changed by several commands at once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from mirror.cli.workspaces import trusted_here
from mirror.trust.keyring import Keyring
from mirror.workspace import load_workspace

_WRITER = """
import sys, time
from pathlib import Path
from mirror.cli.workspaces import remember
from mirror.trust.keyring import Keyring
from mirror.workspace import load_workspace

workspace = load_workspace(Path(sys.argv[1]))
ring = Keyring(workspace.keys)
start = float(sys.argv[2])
while time.time() < start:
    time.sleep(0.001)
for name in sys.argv[3:]:
    remember(workspace, [ring.get(name)])
"""


def test_records_remembered_by_commands_at_once_are_all_kept(tmp_path: Path) -> None:
    """Four commands each remembering keys of one workspace at the same moment: every record is kept (each
    command read the file, then wrote back what it had read plus its own, and the others' records were lost)."""
    config = tmp_path / "ws" / "mirror.toml"
    config.parent.mkdir()
    config.write_text('[workspace]\nkeys = "keys"\n')
    workspace = load_workspace(config)
    ring = Keyring(workspace.keys)
    names = [f"k{i:02d}" for i in range(24)]
    records = [ring.create(name, None) for name in names]
    start = time.time() + 1.5  # every writer has started and imported by then
    writers = [subprocess.Popen([sys.executable, "-c", _WRITER, str(config), str(start), *names[i::4]],
                                env=os.environ.copy()) for i in range(4)]
    assert [w.wait(timeout=60) for w in writers] == [0, 0, 0, 0]
    assert trusted_here(workspace) == frozenset(r.digest for r in records)
