"""Tables: rows of standardised numbers and one-hot categories; predicted from CSV files."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.data.datasets import TabularDataset
from engine.data.kinds import DataKind, PredictInputs, base_facts, register_kind
from engine.errors import UserInputError
from engine.ports import TABULAR_DATASET


def input_spec(data: TabularDataset) -> dict[str, Any]:
    encoding = dict(getattr(data, "encoding", {}) or {})
    return {"encoding": encoding} if encoding else {}


def card_fields(facts: Mapping[str, Any], spec: Mapping[str, Any]) -> dict[str, Any]:
    shape = list(facts["input_shape"])
    fields: dict[str, Any] = {"input": {"features": shape[0] if shape else 0}}
    if spec.get("encoding"):
        fields["encoding"] = spec["encoding"]
    return fields


def read_inputs(args: list[str], card: Mapping[str, Any], options: Mapping[str, Any]) -> PredictInputs:
    """Rows of CSV files, encoded exactly as the training table was (by the card's encoding)."""
    import torch

    from engine.data.tables import TableError, encode_rows, read_table

    encoding = card.get("encoding")
    if not isinstance(encoding, dict) or not isinstance(encoding.get("columns"), list):
        raise UserInputError("the model card does not say how table columns were encoded — export the model again")
    blocks, names = [], []
    for item in args:
        path = Path(item).expanduser()
        if not path.is_file():
            raise UserInputError(f"{path}: no such CSV file (a table model predicts the rows of CSV files)")
        try:
            table = read_table(path)
            x = encode_rows(encoding, table.header, table.rows)
        except TableError as exc:
            raise UserInputError(f"{path}: {exc}") from None
        except OSError as exc:
            raise UserInputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
        blocks.append(x)
        names.extend(f"{path}:row {i}" for i in range(2, len(table.rows) + 2))  # row 1 is the header
    x = torch.cat(blocks) if blocks else torch.empty(0, int(card["input_shape"][0]))
    return PredictInputs(x, names, name_column="row")


def card_problem(card: Mapping[str, Any]) -> str:
    encoding = card.get("encoding")
    if encoding is not None and not (isinstance(encoding, dict) and isinstance(encoding.get("columns"), list)
                                     and all(isinstance(c, dict) and isinstance(c.get("name"), str)
                                             for c in encoding["columns"])):
        return "\"encoding\" is not {\"columns\": [{\"name\": ...}, ...]}"
    return ""


TABLE = register_kind(DataKind(
    name="table", port_type=TABULAR_DATASET, dataset_type=TabularDataset, from_state=TabularDataset.from_state,
    model_facts=base_facts, input_spec=input_spec, card_fields=card_fields, read_inputs=read_inputs,
    card_problem=card_problem, noun="table rows",
))
