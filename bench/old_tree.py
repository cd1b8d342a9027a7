"""An older commit's project files in a folder, for benches that run "today's Loom" beside this tree."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def unpack_commit(commit: str, into: Path) -> Path:
    """The tree at ``commit`` in ``into`` (``git archive``: like a worktree, with nothing to unregister afterwards)."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", commit], capture_output=True,
                             timeout=300)
    if archive.returncode != 0:
        raise SystemExit(f"git archive {commit} failed: {archive.stderr.decode(errors='replace').strip()[-300:]} "
                         "(a checkout without git history cannot run an older commit)")
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True, timeout=300)
    return into
