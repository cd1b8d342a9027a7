"""The text classifier presets the "Classify text" wizard offers and ``bench/text_baseline.py`` measures.

One place for their exact params, free of torch (the wizard reads them on
the GUI thread): the model step, its ``tokenize`` step and its ``train``
step.  The time budget is the user's (the wizard's budget page, the bench's
``--minutes``), so it is not part of a preset; ``epochs`` is a ceiling the
budget usually ends first, with early stopping and the best epoch kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TextPreset:
    key: str
    title: str
    description: str
    model_type: str  # the model step
    model: dict[str, Any] = field(default_factory=dict)
    tokenize: dict[str, Any] = field(default_factory=dict)  # the tokenize step's params
    train: dict[str, Any] = field(default_factory=dict)  # the train step's params

    def needs_local_model(self) -> bool:
        """Offered only when a pretrained model is on this computer (``engine.models.text_hub.local_models``)."""
        return self.model_type == "pretrained_text"


PRESETS: dict[str, TextPreset] = {p.key: p for p in (
    TextPreset(
        "fast_gru", "Fast GRU",
        "A one-layer bidirectional GRU over word pieces, which also pools the word vectors themselves: learns a "
        "few thousand texts in a few minutes on a CPU.",
        "gru",
        model={"embed": 128, "width": 64, "layers": 1, "bidirectional": True, "dropout": 0.5, "pooling": "mean_max"},
        tokenize={"method": "bpe", "vocab_size": 8000, "max_len": 128, "lowercase": True},
        train={"epochs": 40, "batch_size": 64, "lr": 0.005, "optimizer": "adamw", "weight_decay": 0.05,
               "label_smoothing": 0.1, "schedule": "constant", "patience": 8, "monitor": "val_accuracy",
               "restore_best": True},
    ),
    TextPreset(
        "transformer", "Transformer",
        "A two-layer Transformer encoder trained from scratch: reads word order through attention.",
        "transformer",
        model={"layers": 2, "heads": 4, "width": 64, "ff_width": 128, "positions": "learned", "pooling": "mean",
               "dropout": 0.3},
        tokenize={"method": "bpe", "vocab_size": 8000, "max_len": 128, "lowercase": True},
        train={"epochs": 40, "batch_size": 64, "lr": 0.002, "optimizer": "adamw", "weight_decay": 0.05,
               "label_smoothing": 0.1, "schedule": "constant", "patience": 8, "monitor": "val_accuracy",
               "restore_best": True},
    ),
    TextPreset(
        "pretrained", "Pretrained (fine-tune)",
        "Fine-tunes a pretrained encoder found on this computer (DistilBERT, BERT, RoBERTa...): the most accurate, "
        "the slowest on a CPU.",
        "pretrained_text",
        model={"freeze": "none", "train_blocks": 2},
        tokenize={"method": "pretrained", "max_len": 128},
        train={"epochs": 4, "batch_size": 16, "lr": 3e-5, "optimizer": "adamw", "weight_decay": 0.01,
               "schedule": "constant", "patience": 2, "monitor": "val_accuracy", "restore_best": True},
    ),
)}
