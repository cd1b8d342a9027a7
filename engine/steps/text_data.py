"""Text data: texts from a CSV or a folder (port ``Texts``), and ``tokenize`` (``Texts`` -> ``TextDataset``).

The sources clean what they read and say what they did (empty texts, exact
duplicates, files that are not text or not UTF-8, overlong texts cut) in the
log and in run.json, and split the texts into seeded, stratified parts.
``tokenize`` learns its tokenizer from the training part only (or takes a
pretrained model folder's), saves it as ``RUN/<node>/tokenizer.json`` and
turns every text into token ids.  The files each names are fingerprinted
(content included) into the cache key, and looked at by the preflight before
any node runs: a missing column, a folder with one class or no text files, a
pretrained folder without a tokenizer stop the run before anything trains.
"""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Any

from engine.cache import path_fingerprint
from engine.context import StepContext
from engine.data.text_checks import LAYOUTS
from engine.errors import UserInputError
from engine.names import CachePolicy
from engine.params import Bool, Choice, Float, Int, Path, Seed, Text
from engine.ports import TEXT_DATASET, TEXTS, Port
from engine.preflight import path_problem, require_path
from engine.problems import Issue, param_field
from engine.steps.data import MAX_WARNINGS
from engine.steps.registry import step
from engine.textparams import split_list

METHOD_CHOICES = ("bpe", "char", "pretrained")  # engine.data.tokenizer.METHODS + pretrained


def _column_names(text: str) -> list[str]:
    names = split_list(text)
    if not names:
        raise ValueError("name at least one column that holds the texts, e.g. text or title,body")
    return names


CSV_PATH = Path("path", "", "The CSV file (comma, semicolon or tab separated; first row = column names).",
                mode="file", required=True, must_exist=True)
FOLDER_PATH = Path("path", "", "The folder: one subfolder per class (neg/, pos/) of .txt files, or the .txt files "
                   "directly inside (a language model's corpus). .md and .text files are read too.",
                   mode="folder", required=True, must_exist=True)
CLEANING = [
    Bool("dedupe", True, "Drop exact duplicate texts (after trimming blank margins), keeping the first.",
         label="Remove duplicates"),
    Float("val", 0.1, 0.0, 0.9, "Share of the texts held out to watch overfitting (the same share of every class).",
          label="Validation share"),
    Float("test", 0.1, 0.0, 0.9, "Share of the texts kept untouched for the final evaluation (per class).",
          label="Test share"),
    Seed(help="Seed of the stratified train/val/test split."),
    Int("max_chars", 1_000_000, 100, 50_000_000, "Longer texts are cut to this many characters, and counted in "
        "the report; a file is never read further, so a huge file costs little memory.", unit="chars",
        advanced=True, label="Longest text kept"),
]


def _path_key(params: dict[str, Any]) -> str:
    return path_fingerprint(params.get("path") or "")


def _check_fractions(params: dict[str, Any]) -> list[Issue]:
    if params["val"] + params["test"] >= 1.0:
        return [(param_field("test"), f"val {params['val']:g} + test {params['test']:g} leave no texts to train on "
                 "— keep their sum below 1")]
    return []


def _options(p: dict[str, Any]) -> Any:
    from engine.data.text_sources import TextOptions

    return TextOptions(max_chars=p["max_chars"], dedupe=p["dedupe"], val=p["val"], test=p["test"], seed=p["seed"])


def _refusal(ctx: StepContext, exc: Exception) -> UserInputError:
    field = getattr(exc, "field", "")
    return UserInputError(f"node '{ctx.node_id}', {field}: {exc}" if field else f"node '{ctx.node_id}': {exc}")


def _finish(ctx: StepContext, loaded: Any) -> dict:
    """Log what cleaning did, show the preview (counts and a few texts) and keep the report."""
    from engine.data.preview import emit_preview
    from engine.data.text_cleaning import examples, preview_text
    from engine.fileio import atomic_write_text

    data, cleaning = loaded.data, loaded.cleaning
    for line in cleaning.warnings(MAX_WARNINGS):
        ctx.log(line, "warning")
    kind = f"{data.num_classes} classes" if data.labels is not None else "unlabelled"
    facts = cleaning.to_json()
    ctx.log(f"{data.name}: {len(data)} texts ({kind}) from {facts['texts_read']} read; skipped "
            f"{facts['skipped_count']}, empty {facts['empty_texts']}, duplicates {facts['duplicates']}, cut "
            f"{facts['truncated']}")
    shown = examples(data)
    text = preview_text(data, shown)
    path = ctx.node_dir / "preview.txt"
    atomic_write_text(path, text)
    ctx.text("preview", text, path=path)
    lengths = [len(t) for t in data.texts]
    emit_preview(ctx, data, **loaded.facts, **facts, examples=shown,
                 chars={"mean": round(sum(lengths) / len(lengths), 1), "max": max(lengths)})
    return {"data": data}


# -- text_csv ---------------------------------------------------------------------------------------------
def _csv_issues(params: dict[str, Any]) -> list[Issue]:
    """Read the head of the CSV (the whole of a small one): binary, encoding, header, the named columns."""
    from engine.data.csvtext import TableError, read_table_head
    from engine.data.text_checks import TextSourceError, allow_long_texts, find_columns

    allow_long_texts()
    path = FsPath(params["path"]).expanduser()
    try:
        table, complete = read_table_head(path)
    except TableError as exc:
        return [(param_field("path"), str(exc))]
    try:
        find_columns(path.name, table.header, table.rows, _column_names(params["text_columns"]),
                     params["label"].strip(), complete)
    except TextSourceError as exc:
        return [(exc.field or param_field("path"), str(exc))]
    return []


@step(
    "text_csv",
    title="Text CSV",
    category="data",
    description="Texts from a CSV file: one or more text columns (joined by a blank line) and a label column, "
    "or no label for a language model's corpus. Empty texts and exact duplicates are dropped, overlong ones cut, "
    "each counted in the report.",
    outputs=[Port("data", TEXTS, "Cleaned texts with their classes and a seeded, stratified split")],
    params=[
        CSV_PATH,
        Text("text_columns", "text", "The column(s) holding the texts; several, comma-separated (title,body), "
             "are joined with a blank line between them.", parse=_column_names),
        Text("label", "label", "The column holding each text's class; empty = unlabelled texts (a language "
             "model's corpus).", label="Class column"),
        *CLEANING,
    ],
    cache=CachePolicy.DISK,
    fingerprint=_path_key,
    check=_check_fractions,
    preflight=_csv_issues,
)
def text_csv(ctx: StepContext) -> dict:
    from engine.data.csvtext import TableError
    from engine.data.text_checks import TextSourceError
    from engine.data.text_sources import load_text_csv

    path = require_path(ctx.node_id, CSV_PATH, ctx.params["path"])
    p = ctx.params
    try:
        loaded = load_text_csv(path, _column_names(p["text_columns"]), p["label"].strip(), _options(p))
    except (TableError, TextSourceError) as exc:
        raise _refusal(ctx, exc) from None
    except OSError as exc:
        raise UserInputError(f"node '{ctx.node_id}': cannot read {path} ({exc.strerror or exc}) — check that the "
                             "file is there and readable") from None
    encoding = loaded.facts["encoding"]
    if encoding == "cp1252":  # a judgement, unlike a byte-order mark: say so
        ctx.log(f"{path.name} is not UTF-8: read it as Windows-1252 — check the accented letters in the preview, "
                "or save it as UTF-8 to be sure", "warning")
    if loaded.facts["replacement_chars"]:
        ctx.log(f"{path.name} already holds {loaded.facts['replacement_chars']} replacement character(s) (\ufffd) "
                "from an earlier failed conversion: those letters are lost", "warning")
    return _finish(ctx, loaded)


# -- text_folder ------------------------------------------------------------------------------------------
def _folder_issues(params: dict[str, Any]) -> list[Issue]:
    """What the folder's listing alone says is wrong (no file is opened)."""
    from engine.data.text_checks import folder_problem, list_text_folder

    root = FsPath(params["path"]).expanduser()
    try:
        listing = list_text_folder(root, params["layout"])
    except OSError as exc:
        return [(param_field("path"), f"{exc.filename or root} cannot be read ({exc.strerror or exc}) — check its "
                 "permissions")]
    problem = folder_problem(listing, params["layout"])
    return [(param_field("path"), problem)] if problem else []


@step(
    "text_folder",
    title="Text folder",
    category="data",
    description="Your own text files: one subfolder per class (labelled), or a flat folder (a language model's "
    "corpus). UTF-8 and UTF-16/32 with a byte-order mark are read; other files are skipped and listed with the "
    "reason, empty texts and exact duplicates dropped, overlong ones cut.",
    outputs=[Port("data", TEXTS, "Cleaned texts with their classes and a seeded, stratified split")],
    params=[
        FOLDER_PATH,
        Choice("layout", "auto", LAYOUTS, "classes = each subfolder is a class; flat = every file under the "
               "folder, unlabelled; auto = classes when there are subfolders."),
        *CLEANING,
    ],
    cache=CachePolicy.DISK,
    fingerprint=_path_key,
    check=_check_fractions,
    preflight=_folder_issues,
)
def text_folder(ctx: StepContext) -> dict:
    from engine.data.text_checks import TextSourceError
    from engine.data.text_sources import load_text_folder

    root = require_path(ctx.node_id, FOLDER_PATH, ctx.params["path"])
    try:
        loaded = load_text_folder(root, ctx.params["layout"], _options(ctx.params), check=ctx.check,
                                  progress=lambda f: ctx.progress(f))
    except TextSourceError as exc:
        raise _refusal(ctx, exc) from None
    except OSError as exc:
        raise UserInputError(f"node '{ctx.node_id}', param 'path': {exc.filename or root} cannot be read "
                             f"({exc.strerror or exc}) — check its permissions") from None
    return _finish(ctx, loaded)


# -- tokenize ---------------------------------------------------------------------------------------------
def _tokenizer_key(params: dict[str, Any]) -> str:
    """A pretrained tokenizer's file content belongs in the cache key (its params alone do not change)."""
    from engine.data.text_checks import HF_TOKENIZER_FILE

    if params.get("method") != "pretrained":
        return ""
    return path_fingerprint(FsPath(str(params.get("path") or "")).expanduser() / HF_TOKENIZER_FILE)


def _check_tokenize(params: dict[str, Any]) -> list[Issue]:
    if params["method"] == "pretrained" and not str(params.get("path") or "").strip():
        return [(param_field("path"), "choose the pretrained model's folder (it holds tokenizer.json), or choose "
                 "bpe or char")]
    return []


def _tokenize_issues(params: dict[str, Any]) -> list[Issue]:
    from engine.data.text_checks import pretrained_problem

    if params["method"] != "pretrained":
        return []
    folder = FsPath(params["path"]).expanduser()
    problem = path_problem(params["path"], "folder") or pretrained_problem(folder)
    if problem:
        return [(param_field("path"), problem)]
    return _too_long_for_the_model(folder, int(params["max_len"]))


def _too_long_for_the_model(folder: FsPath, max_len: int) -> list[Issue]:
    """A pretrained model reads at most its positions: a longer max_len would fail in training, minutes later."""
    from engine.models.text_hub import read_config, usable_positions

    try:
        limit = usable_positions(read_config(folder))
    except ValueError:
        return []  # the model step's own check names a damaged config.json
    if limit is None or 0 < max_len <= limit:
        return []
    asked = f"max_len {max_len}" if max_len else "max_len 0 (as long as the longest text)"
    return [(param_field("max_len"), f"{asked} is longer than the model in {folder.name} reads ({limit} tokens) — "
             f"set max_len to {limit} or less")]


@step(
    "tokenize",
    title="Tokenize texts",
    category="preprocess",
    description="Turn texts into token ids: a tokenizer learned from the training split only (BPE or "
    "characters), or a pretrained model's own. Saved with the run as tokenizer.json.",
    inputs=[Port("data", TEXTS)],
    outputs=[Port("data", TEXT_DATASET, "Token ids (padded to max_len) with the texts, classes, splits and tokenizer")],
    params=[
        Choice("method", "bpe", METHOD_CHOICES, "bpe: byte-level sub-words (every text encodes, common words are one "
               "token); char: one token per character (for a character-level "
               "language model); pretrained: the tokenizer.json of a model folder (a pretrained model's own, e.g. BERT's WordPiece)."),
        Int("vocab_size", 8000, 50, 500_000, "Most tokens the learned vocabulary holds (ignored by pretrained; "
            "char keeps the most frequent characters).", label="Vocabulary size"),
        Int("max_len", 256, 0, 1_000_000, "Tokens per text a classifier reads: longer texts are cut (counted in "
            "the report), shorter ones padded; 0 = as long as the longest text (memory grows with it). A language "
            "model reads every text whole, whatever this is.", unit="tokens", label="Longest text (tokens)"),
        Bool("lowercase", False, "Lower-case every text before learning and encoding (ignored by pretrained: "
             "the model's tokenizer decides)."),
        Path("path", "", "With pretrained: the model folder that holds tokenizer.json (e.g. a Hugging Face model "
             "saved with save_pretrained).", mode="folder"),
    ],
    cache=CachePolicy.DISK,
    fingerprint=_tokenizer_key,
    check=_check_tokenize,
    preflight=_tokenize_issues,
)
def tokenize(ctx: StepContext) -> dict:
    from engine.data.preview import emit_preview
    from engine.data.text_checks import TextSourceError
    from engine.data.text_tokens import TokenizeOptions, encode_texts, make_tokenizer
    from engine.fileio import atomic_write_text

    p, raw = ctx.params, ctx.inputs["data"]
    opts = TokenizeOptions(method=p["method"], vocab_size=p["vocab_size"], max_len=p["max_len"],
                           lowercase=p["lowercase"], path=str(p.get("path") or ""))
    if opts.method == "pretrained" and opts.lowercase:
        ctx.log("lowercase is ignored with a pretrained tokenizer: the model's own tokenizer decides", "warning")
    try:
        tok = make_tokenizer(raw, opts)
        data, cut = encode_texts(raw, tok, opts.max_len, check=ctx.check, progress=lambda f: ctx.progress(f))
    except TextSourceError as exc:
        raise _refusal(ctx, exc) from None
    path = ctx.node_dir / "tokenizer.json"
    atomic_write_text(path, data.tokenizer_json)
    ctx.artifact("tokenizer", path)
    learned = (str(FsPath(opts.path).expanduser()) if opts.method == "pretrained"
               else f"the {len(raw.split('train'))} training texts")
    ctx.log(f"tokenizer ({opts.method}, {data.vocab_size:,} tokens) from {learned}; {len(data)} texts as "
            f"{data.max_len} token ids each")
    if cut:
        ctx.log(f"cut {cut} of {len(data)} texts to {data.max_len} tokens for a classifier — raise max_len to keep "
                "more of each text (a language model reads every text whole, whatever max_len is)", "warning")
    emit_preview(ctx, data, method=opts.method, truncated=cut, lowercase=opts.lowercase, tokenizer_from=learned,
                 tokenizer="tokenizer.json")
    return {"data": data}
