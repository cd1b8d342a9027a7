"""Exporting a finished run's classifier on purpose: no training, no new run, no step added to the workflow.

The run already holds its trained classifier as a model card plus
safetensors weights (its Export step's folder, else ``<train node>/model/``,
see :mod:`engine.export.trained`).  :func:`export_run` rebuilds the module
from those two files (never a pickle) and writes what an Export step writes
(the same :func:`engine.export.writer.write_formats`) into a folder the
analyst chose: weights, card, and the optional TorchScript and ONNX files.

The destination must be new or empty.  A folder that already holds files is
refused, even a previous Loom export: its card describes another model (or
the same one with other checks), and a colleague may be using it; replacing
it silently is exactly what this must never do, and picking a fresh folder
costs one click (the app proposes one that does not exist yet).  The files
are written into a hidden folder beside the destination and moved into place
in one rename, so a failure half-way leaves no half export behind.  Nothing
is recorded in the run index and the run folder is only read.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import UserInputError
from engine.export.card import CARD_NAME, ONNX_NAME, TORCHSCRIPT_NAME, WEIGHTS_NAME

WEIGHTS_FORMAT = "safetensors"  # always written, with the card: it is what Loom and `loom predict` load
OPTIONAL_FILES = {"torchscript": TORCHSCRIPT_NAME, "onnx": ONNX_NAME}
FORMAT_TITLES = {WEIGHTS_FORMAT: "Weights and model card", "torchscript": "TorchScript", "onnx": "ONNX"}
Log = Callable[[str, str], None]  # (message, level) -> None


@dataclass(frozen=True)
class ExportFormat:
    """One format a user can ask for: its name (``--format``), the file it writes and what it is for."""

    name: str
    file: str
    help: str
    default: bool
    required: bool = False

    @property
    def title(self) -> str:
        return FORMAT_TITLES.get(self.name, self.name)


@dataclass(frozen=True)
class ExportPlan:
    """What :func:`export_run` will write, known before anything heavy is loaded (for the dialog's list)."""

    source: Path  # the folder the classifier is rebuilt from
    architecture: str
    classes: tuple[str, ...]
    files: list[tuple[str, str]] = field(default_factory=list)  # (file name, what it is)

    def lines(self, formats: Iterable[str] | None = None) -> list[str]:
        """One line per file, for the formats given (None: all the plan was made for)."""
        return [f"{name} — {what}" for name, what in self.only(formats)]

    def only(self, formats: Iterable[str] | None) -> list[tuple[str, str]]:
        """The plan's files for a subset of its formats (the dialog's check boxes, without reading the run again)."""
        if formats is None:
            return list(self.files)
        dropped = {file for fmt, file in OPTIONAL_FILES.items() if fmt not in set(formats)}
        return [(name, what) for name, what in self.files if name not in dropped]


def export_formats() -> list[ExportFormat]:
    """The formats on offer: the weights and card always, then the Export step's own format switches.

    Read from the step's declared params (its ``torchscript`` and ``onnx``
    switches, their help and defaults), so the dialog, the CLI and the step
    cannot disagree.
    """
    from engine.steps.registry import get_step

    found = [ExportFormat(WEIGHTS_FORMAT, WEIGHTS_NAME, "The weights and the model card: what Loom, `loom predict` "
                          "and the Try it panel load (always written).", True, required=True)]
    spec = get_step("export")
    for param in spec.params if spec is not None else ():
        if param.kind == "bool" and param.name in OPTIONAL_FILES:
            found.append(ExportFormat(param.name, OPTIONAL_FILES[param.name], param.help, bool(param.default)))
    return found


def check_formats(formats: Iterable[str] | None) -> set[str]:
    """The formats asked for, checked (None: the step's defaults); UserInputError naming an unknown one."""
    offered = {f.name: f for f in export_formats()}
    if formats is None:
        return {name for name, f in offered.items() if f.default}
    chosen = {str(f).strip().lower() for f in formats}
    unknown = sorted(chosen - offered.keys())
    if unknown:
        raise UserInputError(f"format {unknown[0]!r}: choose from {', '.join(offered)}")
    return chosen | {WEIGHTS_FORMAT}


def describe_export(run_dir: str | Path, formats: Iterable[str] | None = None, node: str | None = None) -> ExportPlan:
    """The files an export of ``run_dir``'s classifier in ``formats`` writes, each with what it is for."""
    from engine.export.card import read_card
    from engine.export.trained import trained_model_folder

    chosen = check_formats(formats)
    source = trained_model_folder(_run_folder(run_dir), node)
    card = read_card(source)
    files = [(WEIGHTS_NAME, "the trained weights (safetensors)"),
             (CARD_NAME, f"the model card: {card['architecture']}, {len(card['classes'])} classes, input size, "
                         "normalisation, metrics")]
    for role, name in card.get("files", {}).items():
        if role not in ("weights", *OPTIONAL_FILES) and isinstance(name, str):
            files.append((name, f"the model's {role}, needed to feed it"))  # e.g. a text model's tokenizer
    if "torchscript" in chosen:
        files.append((TORCHSCRIPT_NAME, "TorchScript: runs in PyTorch or C++ without Loom"))
    if "onnx" in chosen:
        files.append((ONNX_NAME, "ONNX: runs in onnxruntime, browsers, phones"))
    return ExportPlan(source, str(card["architecture"]), tuple(card["classes"]), files)


def default_destination(run_dir: str | Path, parent: str | Path | None = None) -> Path:
    """A folder that does not exist yet for this run's export: ``~/Loom exports/<workflow>-<run id>`` (``-2``...).

    Only proposed, never created: the analyst may pick another one.
    """
    import re

    from engine.run_files import read_run

    root = _run_folder(run_dir)
    try:
        info = read_run(root)
    except UserInputError:
        info = {}
    name = "-".join(p for p in (str(info.get("workflow") or "model"), str(info.get("run_id") or root.name)) if p)
    name = re.sub(r"[^\w.-]+", "-", name).strip("-.")[:100] or "model"
    base = Path(parent).expanduser() if parent is not None else Path.home() / "Loom exports"
    candidate, number = base / name, 2
    while candidate.exists():
        candidate, number = base / f"{name}-{number}", number + 1
    return candidate


def check_destination(dest: str | Path) -> Path:
    """``dest`` if an export may be written there: a new or empty folder (UserInputError in words otherwise)."""
    dest = Path(dest).expanduser()
    if dest.exists() and not dest.is_dir():
        raise UserInputError(f"{dest}: is a file — give a folder for the export")
    if dest.is_dir():
        held = sorted(p.name for p in dest.iterdir())
        if held:
            more = f" and {len(held) - 1} more" if len(held) > 1 else ""
            raise UserInputError(f"{dest}: the folder already holds {held[0]}{more} — pick a new or empty folder "
                                 "(Loom never writes an export over other files)")
    return dest


def export_run(run_dir: str | Path, dest: str | Path, formats: Iterable[str] | None = None,
               node: str | None = None, log: Log | None = None) -> list[Path]:
    """Write ``run_dir``'s trained classifier into ``dest`` in ``formats``; the files written.

    ``formats`` are names from :func:`export_formats` (None: the Export
    step's defaults); the weights and the card are always written.  ``log``
    hears what an Export step would log (a format this model cannot be
    written in, the ONNX check).
    """
    from engine.data.kinds import kind_named
    from engine.export.load import load_export
    from engine.export.writer import write_formats

    chosen = check_formats(formats)
    dest = check_destination(dest)
    run_dir = _run_folder(run_dir)
    plan = describe_export(run_dir, chosen, node)
    loaded = load_export(plan.source)
    card = dict(loaded.card)
    kind = kind_named(str(card["input_kind"]))
    if kind is None:
        raise UserInputError(f"{plan.source / CARD_NAME}: the model takes {card['input_kind']!r} data, a kind this "
                             "Loom does not know")
    facts = {**card.get("facts", {}), "input_shape": list(card["input_shape"]), "num_classes": len(card["classes"])}
    say = log or (lambda _message, _level: None)
    staging: Path | None = None
    try:
        staging = _staging_folder(dest)
        written = write_formats(loaded.module, kind, facts, str(card["architecture"]), staging,
                                torchscript="torchscript" in chosen, onnx="onnx" in chosen,
                                opset=_opset(card), log=say)
        files = dict(written.files)
        for role, name in card.get("files", {}).items():  # the kind's own files (a tokenizer), copied as they are
            if role not in ("weights", *OPTIONAL_FILES):
                shutil.copyfile(plan.source / name, staging / name)
                files[role] = name
        _write_card(staging, card, files, written.checks, written.skipped, run_dir, plan.source)
        _normal_modes(staging)
        _move_into_place(staging, dest)
    except OSError as exc:
        _remove(staging)
        from engine.fileio import describe_os_error

        raise UserInputError(f"{dest}: the export cannot be written there ({describe_os_error(exc)}) — pick "
                             "another folder") from None
    except BaseException:
        _remove(staging)
        raise
    say(f"exported {card['architecture']} ({len(card['classes'])} classes) from {run_dir} to {dest}: "
        f"{', '.join([*files.values(), CARD_NAME])}", "info")
    return [dest / name for name in [*files.values(), CARD_NAME]]


def _run_folder(run_dir: str | Path) -> Path:
    root = Path(run_dir).expanduser()
    if not root.is_dir():
        raise UserInputError(f"{root}: no such run folder")
    return root


def _opset(card: dict[str, Any]) -> int:
    from engine.steps.registry import get_step

    spec = get_step("export")
    param = spec.param("opset") if spec is not None else None
    return int(param.default) if param is not None else 17


def _write_card(folder: Path, card: dict[str, Any], files: dict[str, str], checks: dict[str, Any],
                skipped: dict[str, str], run_dir: Path, source: Path) -> None:
    """The source card, now naming the files of this export, its own checks and where it came from."""
    from engine.fileio import atomic_write_json

    out = {k: v for k, v in card.items() if k not in ("checks", "not_exported", "source")}
    out["created"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    out["files"] = files
    if checks:
        out["checks"] = checks
    if skipped:
        out["not_exported"] = skipped
    if "metrics" not in out:
        metrics = _evaluation_metrics(run_dir)
        if metrics:
            out["metrics"] = metrics
    out["exported_from"] = {"run": str(run_dir.resolve()), "folder": _relative(source, run_dir)}
    atomic_write_json(folder / CARD_NAME, out)


def _evaluation_metrics(run_dir: Path) -> dict[str, Any]:
    """The run's evaluation report (what an Export step linked to the evaluation would record), if there is one."""
    from engine.export.card import METRIC_KEYS
    from engine.run_files import read_run

    try:
        nodes = read_run(run_dir).get("nodes") or {}
    except UserInputError:
        return {}
    reports = [n.get("report") for n in nodes.values() if isinstance(n, dict) and n.get("type") == "evaluate"]
    reports = [r for r in reports if isinstance(r, dict)]
    if len(reports) != 1:  # none, or several and no way to know which one judged this model
        return {}
    return {k: reports[0][k] for k in METRIC_KEYS if k in reports[0]}


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def _remove(staging: Path | None) -> None:
    if staging is not None:
        shutil.rmtree(staging, ignore_errors=True)


def _staging_folder(dest: Path) -> Path:
    """A hidden folder beside ``dest`` (same file system, so the final move is one rename)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = dest.parent / f".{dest.name}.loom-export-{uuid.uuid4().hex[:8]}"
    staging.mkdir()  # mode from the umask, like any folder the user makes
    return staging


def _move_into_place(staging: Path, dest: Path) -> None:
    """``staging`` becomes ``dest`` in one rename (an empty ``dest`` is replaced; a non-empty one refuses)."""
    if dest.is_dir():
        dest.rmdir()  # OSError if something appeared in it meanwhile: nothing is overwritten
    os.rename(staging, dest)


def _normal_modes(folder: Path) -> None:
    """Files readable by whoever the umask allows (a shared export is opened by colleagues), not 0600."""
    mask = _umask()
    folder.chmod(0o777 & ~mask)
    for path in folder.iterdir():
        if path.is_file():
            path.chmod(0o666 & ~mask)


def _umask() -> int:
    """The process's umask, read without changing it where the system says it (Linux), else set and restored."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
