"""Data sources: where datasets come from.

Every source emits a preview (thumbnail grid, per-class counts) and keeps its
report (counts, skipped files, duplicates, the CSV's encoding) in run.json.
Path-based sources declare a fingerprint of their files (content included) so
editing the folder or CSV invalidates the cached dataset, and a preflight that
looks at the files before any node runs: a missing folder, a folder without
images, a binary or undecodable CSV or a missing target column stop the run
before anything trains.  The run functions repeat those checks with the same
words, since files can change between the preflight and the node.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path as FsPath
from typing import Any

from engine.cache import path_fingerprint
from engine.context import StepContext
from engine.errors import UserInputError
from engine.names import CachePolicy
from engine.params import Bool, Choice, Float, Int, Path, Seed, Text
from engine.ports import IMAGE_DATASET, TABULAR_DATASET, Port
from engine.preflight import require_path
from engine.problems import Issue, param_field
from engine.steps.registry import step
from engine.textparams import parse_names

FIT_HELP = "How images of another shape become square: resize (stretch), crop (centre) or pad (letterbox)."
MAX_WARNINGS = 20  # per-file warning lines in the log; the report lists them all


def _path_key(params: dict[str, Any]) -> str:
    return path_fingerprint(params.get("path") or "")


FOLDER_PATH = Path("path", "", "The folder: one subfolder per class (cats/, dogs/) or images directly inside.",
                   mode="folder", required=True, must_exist=True)
CSV_PATH = Path("path", "", "The CSV file (comma, semicolon or tab separated; first row = column names).",
                mode="file", required=True, must_exist=True)
# engine.data.shapes.SHAPES, named here without importing torch (validation parses the list as you type)
SHAPE_NAMES = ("circle", "square", "triangle", "pentagon", "hexagon", "star", "ring", "cross")


@step(
    "digits",
    title="Digits (built-in)",
    category="data",
    description="The 1,797 handwritten 8x8 digits that ship with scikit-learn: 10 classes, no download.",
    outputs=[Port("data", IMAGE_DATASET, "Grayscale digit images in [0, 1] with labels 0-9")],
    params=[
        Choice("size", 8, (8, 16, 28, 32), "Image side in pixels; larger sizes are smoothly upscaled.", unit="px"),
    ],
    cache=CachePolicy.DISK,
    produces_images=True,
)
def digits(ctx: StepContext) -> dict:
    from engine.data.builtin import load_digits
    from engine.data.preview import emit_preview

    data = load_digits(ctx.params["size"])
    ctx.log(f"digits: {len(data)} images, {data.size[0]}x{data.size[1]} px, {data.num_classes} classes")
    emit_preview(ctx, data)
    return {"data": data}


def _folder_issues(params: dict[str, Any]) -> tuple[list[Issue], list[str]]:
    """What the folder's listing alone says is wrong (no file is opened), and its empty class folders."""
    from engine.data.listing import list_folder, listing_problem

    root = FsPath(params["path"]).expanduser()
    try:
        listing = list_folder(root, params["labels"])
    except OSError as exc:
        return [(param_field("path"), f"{exc.filename or root} cannot be read ({exc.strerror or exc}) — check its "
                 "permissions")], []
    problem = listing_problem(listing, params["labels"])
    return ([(param_field("path"), problem)] if problem else []), listing.empty_classes


@step(
    "image_folder",
    title="Image folder",
    category="data",
    description="Your own images: one subfolder per class (labelled) or a flat folder (unlabelled, for generative "
    "models). Bad files are skipped and listed, exact duplicates dropped.",
    outputs=[Port("data", IMAGE_DATASET, "Images in [0, 1], cleaned and deduplicated")],
    params=[
        FOLDER_PATH,
        Int("size", 32, 4, 1024, "Every image is brought to this side length.", unit="px"),
        Choice("fit", "resize", ("resize", "crop", "pad"), FIT_HELP),
        Choice("channels", "auto", ("auto", "1", "3"),
               "1 = grayscale, 3 = RGB, auto = grayscale only when every image is grey. "
               "Transparency is flattened onto white."),
        Choice("labels", "auto", ("auto", "folders", "none"),
               "auto = subfolders are classes when there are any; none = ignore subfolders (unlabelled)."),
        Bool("dedupe", True, "Drop exact duplicate files (same bytes), keeping the first.", label="Remove duplicates"),
        Int("min_side", 4, 1, 4096, "Images smaller than this on either side are skipped (icons, tracking pixels).",
            unit="px", advanced=True, label="Smallest image side"),
        Float("max_megapixels", 50.0, 0.01, 170.0,
              "Decompression-bomb guard: images whose header claims more pixels than this are skipped "
              "without being decoded.", unit="MP", advanced=True, label="Largest image size"),
        Int("memory_limit_mb", 4096, 0, 1_000_000,
            "Folders that take more than this once decoded are streamed from disk in batches instead of "
            "held in memory (slower per epoch, but any size fits); 0 always streams.", unit="MB", advanced=True,
            label="Memory limit"),
    ],
    cache=CachePolicy.DISK,
    produces_images=True,
    fingerprint=_path_key,
    preflight=lambda params: _folder_issues(params)[0],
)
def image_folder(ctx: StepContext) -> dict:
    from engine.data.folder import FolderOptions
    from engine.data.listing import empty_class_warning
    from engine.data.preview import emit_preview

    root = require_path(ctx.node_id, FOLDER_PATH, ctx.params["path"])
    issues, empty = _folder_issues(ctx.params)
    if issues:
        raise UserInputError(f"node '{ctx.node_id}', {issues[0][0]}: {issues[0][1]}")
    for name in empty:
        ctx.log(empty_class_warning(name), "warning")
    p = ctx.params
    opts = FolderOptions(
        size=p["size"], fit=p["fit"], channels=p["channels"], labels=p["labels"], dedupe=p["dedupe"],
        min_side=p["min_side"], max_pixels=int(p["max_megapixels"] * 1_000_000),
    )
    data, cleaning, listing, streamed = _load_folder(ctx, root, opts)
    facts = cleaning.to_json()
    if cleaning.skipped:  # every skipped file, named: the log shows the first few and points here
        from engine.data.folder import SKIPPED_LIST_NAME
        from engine.fileio import atomic_write_text

        listed = ctx.node_dir / SKIPPED_LIST_NAME
        atomic_write_text(listed, cleaning.skipped_list_text())
        ctx.artifact("skipped_files", listed)
        facts["skipped_files"] = SKIPPED_LIST_NAME
        for line in cleaning.skipped_lines(MAX_WARNINGS, str(listed)):
            ctx.log(line if line.startswith("...") else f"skipped {line}", "warning")
    for name in cleaning.emptied_classes:
        ctx.log(f"class folder '{name}' has no usable image (every file in it was skipped) — it was left out",
                "warning")
    if cleaning.duplicates:
        ctx.log(f"dropped {len(cleaning.duplicates)} exact duplicate file(s)", "warning")
    if len(data) == 0:
        found = len(listing.files) + len(listing.stray)  # never 0: _folder_issues refused an empty folder
        reasons = ", ".join(f"{n} {r}" for r, n in facts["skipped_by_reason"].items())
        raise UserInputError(
            f"node '{ctx.node_id}': none of the {found} files in {root} is a usable image ({reasons}) — "
            "see the log for each file"
        )
    kind = f"{data.num_classes} classes" if data.labels is not None else "unlabelled"
    ctx.log(
        f"{root.name}: {len(data)} images ({kind}), {data.channels}x{data.size[0]}x{data.size[1]}; "
        f"skipped {facts['skipped_count']}, duplicates {facts['duplicates']}"
    )
    emit_preview(ctx, data, path=str(root), streamed=streamed, **facts)
    return {"data": data}


def _load_folder(ctx: StepContext, root: FsPath, opts: Any) -> tuple[Any, Any, Any, bool]:
    """In memory when the decoded folder fits under ``memory_limit_mb``, else a stream over the files."""
    from engine.data.folder import list_folder, load_image_folder, output_channels, scan_classes, scan_image_folder
    from engine.data.streaming import StreamingImageDataset, placeholder

    n_files = len(list_folder(root, opts.labels).files)
    channels = 1 if opts.channels == "1" else 3
    decoded_mb = n_files * channels * opts.size * opts.size / 2**20  # held as uint8: a byte per pixel and channel
    progress = lambda f: ctx.progress(f)  # noqa: E731
    if decoded_mb <= ctx.params["memory_limit_mb"]:
        data, cleaning, listing = load_image_folder(root, opts, check=ctx.check, progress=progress)
        return data, cleaning, listing, False
    ctx.log(f"{n_files} images take about {decoded_mb:,.0f} MB decoded, over the {ctx.params['memory_limit_mb']} MB "
            "limit: checking every file now, then streaming them from disk in batches")
    scan = scan_image_folder(root, opts, keep_pixels=False, check=ctx.check, progress=progress)
    classes, labels = scan_classes(scan)
    c = output_channels(opts, scan)
    data = StreamingImageDataset(
        x=placeholder(c, opts.size), labels=labels, classes=classes, name=root.name or str(root),
        files=[str(f) for f in scan.files],
        decode={"size": opts.size, "fit": opts.fit, "channels": c, "max_pixels": opts.max_pixels},
    )
    return data, scan.report, scan.listing, True


@step(
    "shapes",
    title="Shapes (built-in)",
    category="data",
    description="Procedurally drawn coloured shapes on varied backgrounds: no download, deterministic by seed, "
    "crisp at 32 px (good for GANs).",
    outputs=[Port("data", IMAGE_DATASET, "RGB shape images in [0, 1], one class per shape")],
    params=[
        Int("count", 5000, 10, 500_000, "How many images to draw (classes are balanced).", label="Number of images"),
        Int("size", 32, 8, 256, "Image side in pixels.", unit="px"),
        Text("shapes", "circle,square,triangle,star",
             f"Comma-separated classes from: {', '.join(SHAPE_NAMES)}.",
             parse=partial(parse_names, allowed=SHAPE_NAMES, what="shape")),
        Choice("layout", "varied", ("varied", "centred"),
               "varied: any size, position and rotation (a realistic task); centred: one large upright shape in "
               "the middle, so only shape and colour vary (an easy first task for a GAN)."),
        Seed(),
    ],
    cache=CachePolicy.DISK,
    produces_images=True,
)
def shapes(ctx: StepContext) -> dict:
    from engine.data.preview import emit_preview
    from engine.data.shapes import make_shapes, parse_shapes

    p = ctx.params
    try:
        names = parse_shapes(p["shapes"])
    except ValueError as exc:
        raise UserInputError(f"node '{ctx.node_id}', param 'shapes': {exc}") from None
    data = make_shapes(p["count"], p["size"], names, p["seed"], p["layout"])
    ctx.log(f"shapes: {len(data)} images, {p['size']} px, {p['layout']} layout, classes {', '.join(names)}")
    emit_preview(ctx, data, seed=p["seed"])
    return {"data": data}


def _csv_head_issues(params: dict[str, Any]) -> list[Issue]:
    """Read the head of the CSV (the whole of a small one): binary, encoding, header, target column."""
    from engine.data.csvtext import TableError, read_table_head, require_target

    path = FsPath(params["path"]).expanduser()
    target = str(params.get("target") or "").strip()
    try:
        table, complete = read_table_head(path)
    except TableError as exc:
        return [(param_field("path"), str(exc))]
    try:
        if target:
            require_target(path.name, table.header, table.rows, target, complete)
    except TableError as exc:
        return [(param_field("target"), str(exc))]
    return []


@step(
    "csv_table",
    title="CSV table",
    category="data",
    description="A table from a CSV file: numeric columns standardised (training-split statistics), text columns "
    "one-hot encoded, rows with missing values dropped or imputed.",
    outputs=[Port("data", TABULAR_DATASET, "Encoded rows with class labels and a seeded 80/10/10 split")],
    params=[
        CSV_PATH,
        Text("target", "", "The column holding the class of each row.", required=True, label="Class column"),
        Choice("missing", "drop", ("drop", "impute"),
               "drop = remove rows with a missing value; impute = fill with the training median / most frequent value.",
               label="Missing values"),
        Int("max_categories", 50, 2, 10000,
            "Text columns with more distinct values than this are dropped (they look like ids).", advanced=True,
            label="Most categories per text column"),
        Seed(help="Seed of the initial stratified 80/10/10 split (a Split node can re-split)."),
    ],
    cache=CachePolicy.DISK,
    fingerprint=_path_key,
    preflight=_csv_head_issues,
)
def csv_table(ctx: StepContext) -> dict:
    from engine.data.preview import emit_preview
    from engine.data.tables import TableError, load_csv

    path = require_path(ctx.node_id, CSV_PATH, ctx.params["path"])
    p = ctx.params
    target = (p.get("target") or "").strip()
    if not target:
        raise UserInputError(f"node '{ctx.node_id}', param 'target': name the column that holds the classes")
    try:
        data, report = load_csv(path, target, p["missing"], p["max_categories"], seed=p["seed"])
    except TableError as exc:
        raise UserInputError(f"node '{ctx.node_id}': {exc}") from None
    except OSError as exc:
        raise UserInputError(f"node '{ctx.node_id}': cannot read {path} ({exc.strerror or exc}) — check that the "
                             "file is there and readable") from None
    facts = report.to_json()
    if report.encoding not in ("utf-8", "utf-8 (BOM)"):
        ctx.log(f"{path.name} is not UTF-8: read it as {report.encoding} — check the accented labels in the preview, "
                "or save it as UTF-8 to be sure", "warning")
    if report.replacement_chars:
        ctx.log(f"{path.name} already holds {report.replacement_chars} replacement character(s) (\ufffd) from an "
                "earlier failed conversion: labels that differed may have been merged before Loom read them", "warning")
    for col in report.dropped_columns:
        ctx.log(f"column '{col['column']}' not used: {col['reason']}", "warning")
    dropped = report.dropped_missing + report.dropped_missing_target
    if dropped:
        ctx.log(f"dropped {dropped} row(s) with missing values", "warning")
    if report.imputed_cells:
        ctx.log(f"imputed {sum(report.imputed_cells.values())} missing cell(s)", "warning")
    ctx.log(f"{path.name} ({report.encoding}): {len(data)} rows, {data.x.shape[1]} features, "
            f"{data.num_classes} classes")
    emit_preview(ctx, data, path=str(path), features=list(data.feature_names), **facts)
    return {"data": data}


@step(
    "torchvision_dataset",
    title="MNIST / Fashion-MNIST / CIFAR-10",
    category="data",
    description="A classic benchmark read from a cache folder, downloaded there when the network allows. "
    "The official test set becomes the test split.",
    outputs=[Port("data", IMAGE_DATASET, "Images in [0, 1] with labels")],
    params=[
        Choice("name", "MNIST", ("MNIST", "FashionMNIST", "CIFAR10"), "Which dataset to download: handwritten digits, photos of clothes, or small colour photos.",
               label="Dataset"),
        Path("root", "", "Cache folder (empty = ~/.cache/loom/datasets, or $LOOM_DATA_DIR).", mode="folder",
             label="Download folder"),
        Bool("download", True, "Download into the cache folder when the files are missing."),
        Int("limit", 0, 0, 1_000_000, "Use only this many training images (and a matching share of the test "
            "images) for a quick try; 0 = all.", label="Images to use"),
        Seed(help="Seed of the train/validation split of the official training images."),
    ],
    cache=CachePolicy.DISK,
    produces_images=True,
)
def torchvision_dataset(ctx: StepContext) -> dict:
    import torch

    from engine.data.preview import emit_preview
    from engine.data.splits import stratified_split
    from engine.data.tvdatasets import DatasetMissing, load_torchvision

    p = ctx.params
    root = FsPath(p["root"]).expanduser() if (p.get("root") or "").strip() else None
    try:
        data, n_train = load_torchvision(p["name"], root, p["download"])
    except DatasetMissing as exc:
        raise UserInputError(f"node '{ctx.node_id}': {exc}") from None
    train_idx, test_idx = torch.arange(n_train), torch.arange(n_train, len(data))
    if p["limit"]:
        n_test = max(1, round(p["limit"] * len(test_idx) / max(1, n_train)))
        train_idx, test_idx = train_idx[: p["limit"]], test_idx[:n_test]
        keep = torch.cat([train_idx, test_idx])
        data = data.with_x(data.x[keep].contiguous(), labels=data.labels[keep])
        train_idx, test_idx = torch.arange(len(train_idx)), torch.arange(len(train_idx), len(keep))
    inner = stratified_split(data.labels[train_idx], len(train_idx), (0.9, 0.1, 0.0), p["seed"])
    data.splits = {"train": train_idx[inner["train"]], "val": train_idx[inner["val"]], "test": test_idx}
    ctx.log(f"{p['name']}: {len(data)} images, {data.channels}x{data.size[0]}x{data.size[1]}")
    emit_preview(ctx, data, dataset=p["name"])
    return {"data": data}
