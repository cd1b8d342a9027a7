"""Rules the code keeps, checked on every run so they stay true."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("engine", "gui")


def modules() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def test_no_module_imports_another_modules_private_names():
    offenders = []
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PACKAGES:
                offenders += [f"{path.relative_to(ROOT)}: {node.module}.{a.name}" for a in node.names
                              if a.name.startswith("_") and not a.name.startswith("__")]
    assert offenders == []


def test_the_training_algorithms_share_one_loop_and_no_private_names():
    training = ROOT / "engine" / "training"
    for name in ("supervised.py", "gan.py", "vae.py", "kfold.py", "generation.py"):
        source = (training / name).read_text(encoding="utf-8")
        assert "TrainingLoop" in source or "GeneratorTraining" in source, name
        assert "for batch in" not in source and ".batches(" not in source, f"{name} runs a loop of its own"
