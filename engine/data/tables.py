"""CSV tables -> a :class:`TabularDataset` ready for a classifier.

Columns whose non-missing values all parse as numbers are numeric and get
standardised with the *training* split's mean and std (no leakage from
validation or test rows); every other column is categorical and one-hot
encoded.  Rows with a missing value are dropped or imputed (training median /
most frequent value).  Everything needed to encode new rows the same way is
kept in ``TabularDataset.encoding`` (plain JSON), and :func:`encode_rows`
applies it, so prediction on a new CSV matches training exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from engine.data.csvtext import MISSING_TOKENS, TableError, TableText, is_missing, read_table_bytes, require_target
from engine.data.datasets import TabularDataset
from engine.data.splits import DEFAULT_FRACTIONS, stratified_split

__all__ = ["MISSING_TOKENS", "TableError", "encode_rows", "is_missing", "load_csv", "read_csv", "read_table",
           "restandardise"]
MISSING_MODES = ("drop", "impute")


def _to_float(value: str) -> float | None:
    try:
        f = float(value.strip())
    except ValueError:
        return None
    return f if math.isfinite(f) else None


def read_table(path: Path) -> TableText:
    """Header, rows and encoding of a CSV file; :class:`TableError` names what is wrong with it.

    ``OSError`` (permissions, a vanished file) is the caller's to word.
    """
    return read_table_bytes(path.read_bytes(), path.name)


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a CSV (delimiter sniffed among , ; tab |)."""
    table = read_table(path)
    return table.header, table.rows


@dataclass
class TableReport:
    encoding: str = "utf-8"
    replacement_chars: int = 0
    rows_read: int = 0
    dropped_missing: int = 0
    dropped_missing_target: int = 0
    imputed_cells: dict[str, int] = field(default_factory=dict)
    dropped_columns: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "encoding": self.encoding,
            "replacement_chars": self.replacement_chars,
            "rows_read": self.rows_read,
            "rows_dropped_missing": self.dropped_missing,
            "rows_dropped_missing_target": self.dropped_missing_target,
            "imputed_cells": dict(self.imputed_cells),
            "dropped_columns": list(self.dropped_columns),
        }


def _class_names(values: list[str]) -> list[str]:
    """Sorted class names; numbers sort numerically ('2' before '10')."""
    uniq = sorted(set(values))
    nums = [_to_float(v) for v in uniq]
    if all(n is not None for n in nums):
        return [u for _, u in sorted(zip(nums, uniq, strict=True))]
    return uniq


def _column_plan(name: str, values: list[str], max_categories: int, report: TableReport) -> dict[str, Any] | None:
    present = [v.strip() for v in values if not is_missing(v)]
    if not present:
        report.dropped_columns.append({"column": name, "reason": "every value is missing"})
        return None
    if all(_to_float(v) is not None for v in present):
        return {"name": name, "kind": "numeric"}
    cats = sorted(set(present))
    if len(cats) > max_categories:
        report.dropped_columns.append(
            {"column": name, "reason": f"{len(cats)} distinct text values (more than {max_categories}); looks like an id"}
        )
        return None
    if len(cats) == 1:
        report.dropped_columns.append({"column": name, "reason": "a single value everywhere"})
        return None
    return {"name": name, "kind": "categorical", "categories": cats}


def load_csv(
    path: Path,
    target: str,
    missing: str = "drop",
    max_categories: int = 50,
    fractions: tuple[float, float, float] = DEFAULT_FRACTIONS,
    seed: int = 0,
) -> tuple[TabularDataset, TableReport]:
    """Read, clean, encode and split a CSV; raises :class:`TableError` for unusable tables."""
    table = read_table(path)
    header, rows = table.header, table.rows
    t = require_target(path.name, header, rows, target)
    report = TableReport(encoding=table.encoding, replacement_chars=table.replacement_chars, rows_read=len(rows))
    kept = [r for r in rows if not is_missing(r[t])]
    report.dropped_missing_target = len(rows) - len(kept)
    rows = kept
    feature_cols = [i for i in range(len(header)) if i != t]
    plans = []
    for i in feature_cols:
        plan = _column_plan(header[i], [r[i] for r in rows], max_categories, report)
        if plan is not None:
            plan["index"] = i
            plans.append(plan)
    if not plans:
        raise TableError(f"{path.name}: no usable feature columns besides the target '{target}'")
    if missing == "drop":
        kept = [r for r in rows if not any(is_missing(r[p["index"]]) for p in plans)]
        report.dropped_missing = len(rows) - len(kept)
        rows = kept
    if not rows:
        raise TableError(
            f"{path.name}: no rows left after dropping rows with missing values — set missing to 'impute'"
        )
    classes = _class_names([r[t].strip() for r in rows])
    if len(classes) > 200 or (len(classes) > 20 and len(classes) > 0.5 * len(rows)):
        raise TableError(
            f"{path.name}: the target '{target}' has {len(classes)} distinct values — a classifier needs a "
            "column of class labels (a few repeated values), not a continuous number"
        )
    index = {c: k for k, c in enumerate(classes)}
    labels = torch.tensor([index[r[t].strip()] for r in rows], dtype=torch.long)
    splits = stratified_split(labels, len(rows), fractions, seed)
    train_rows = [rows[i] for i in splits["train"].tolist()]
    for plan in plans:
        _fit_plan(plan, train_rows)
    x, names = _encode(plans, rows, report)
    encoding = {"target": target, "classes": classes, "missing": missing, "columns": [_public(p) for p in plans]}
    data = TabularDataset(
        x=x, labels=labels, classes=classes, name=path.stem, splits=splits,
        feature_names=names, encoding=encoding,
    )
    return data, report


def _fit_plan(plan: dict[str, Any], train_rows: list[list[str]]) -> None:
    """Learn fill values and scaling from the training rows only."""
    i = plan["index"]
    present = [r[i].strip() for r in train_rows if not is_missing(r[i])]
    if plan["kind"] == "numeric":
        vals = torch.tensor([float(v) for v in present] or [0.0], dtype=torch.float64)
        plan["fill"] = float(vals.median())
        plan["mean"] = float(vals.mean())
        std = float(vals.std()) if len(vals) > 1 else 0.0
        plan["std"] = std if std > 1e-12 else 1.0
    else:
        counts: dict[str, int] = {}
        for v in present:
            counts[v] = counts.get(v, 0) + 1
        plan["fill"] = max(sorted(counts), key=lambda k: counts[k]) if counts else plan["categories"][0]


def _public(plan: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in plan.items() if k != "index"}


def _encode(plans: list[dict[str, Any]], rows: list[list[str]], report: TableReport | None) -> tuple[torch.Tensor, list[str]]:
    blocks, names = [], []
    for plan in plans:
        i = plan["index"]
        cells = [r[i] if i < len(r) else "" for r in rows]
        missing = [is_missing(c) for c in cells]
        if report is not None and any(missing):
            report.imputed_cells[plan["name"]] = sum(missing)
        if plan["kind"] == "numeric":
            vals = torch.tensor(
                [plan["fill"] if m else (_to_float(c) if _to_float(c) is not None else plan["fill"])
                 for c, m in zip(cells, missing, strict=True)],
                dtype=torch.float64,
            )
            blocks.append(((vals - plan["mean"]) / plan["std"]).float()[:, None])
            names.append(plan["name"])
        else:
            cats = plan["categories"]
            pos = {c: k for k, c in enumerate(cats)}
            onehot = torch.zeros(len(cells), len(cats))
            for row, (c, m) in enumerate(zip(cells, missing, strict=True)):
                k = pos.get(plan["fill"] if m else c.strip())
                if k is not None:  # a category never seen in training stays all-zero
                    onehot[row, k] = 1.0
            blocks.append(onehot)
            names.extend(f"{plan['name']}={c}" for c in cats)
    return torch.cat(blocks, dim=1), names


def encode_rows(encoding: dict[str, Any], header: list[str], rows: list[list[str]]) -> torch.Tensor:
    """Encode new rows (e.g. for prediction) exactly as the training table was."""
    missing_cols = [c["name"] for c in encoding["columns"] if c["name"] not in header]
    if missing_cols:
        raise TableError(f"the table lacks column(s) the model was trained on: {', '.join(missing_cols)}")
    plans = [{**c, "index": header.index(c["name"])} for c in encoding["columns"]]
    x, _ = _encode(plans, rows, None)
    return x


def restandardise(data: TabularDataset) -> TabularDataset:
    """Recompute numeric scaling from the dataset's *current* training split.

    Called after a re-split so the scaling statistics still come from training
    rows only.  Standardisation is affine, so the raw values are recovered
    exactly from the stored mean and std.
    """
    columns = data.encoding.get("columns")
    if not columns:
        return data
    x = data.x.clone()
    train = data.split("train")
    new_cols = []
    for col in columns:
        col = dict(col)
        if col["kind"] == "numeric" and col["name"] in data.feature_names:
            j = data.feature_names.index(col["name"])
            raw = x[:, j].double() * col["std"] + col["mean"]
            t = raw[train]
            col["mean"] = float(t.mean()) if len(t) else col["mean"]
            std = float(t.std()) if len(t) > 1 else 0.0
            col["std"] = std if std > 1e-12 else 1.0
            x[:, j] = ((raw - col["mean"]) / col["std"]).float()
        new_cols.append(col)
    return data.with_x(x, encoding={**data.encoding, "columns": new_cols})
