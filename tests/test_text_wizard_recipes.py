"""The text wizards' recipes and data checks, without Qt: choices -> a valid, readable workflow; bad data refused."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from engine.text_presets import PRESETS
from engine.validation import validate
from gui.wizards.recipes import Budget, RecipeError
from gui.wizards.text_recipes import (
    WRITER_SIZES,
    TextClassifyChoices,
    TextDataChoice,
    WriteChoices,
    prompt_from_text,
    text_classify_workflow,
    write_workflow,
)
from gui.wizards.text_scan import scan_text_folder, scan_text_table

EXAMPLES = Path(__file__).resolve().parents[1] / "resources" / "examples"


def types(wf) -> dict[str, str]:
    return {n.id: n.type for n in wf.nodes}


def links(wf) -> set[tuple[str, str]]:
    return {(str(lk.source), str(lk.target)) for lk in wf.links}


SOURCES = {
    "builtin": TextDataChoice(),
    "csv": TextDataChoice("csv", "/data/reviews.csv", "title, body", "stars"),
    "folder": TextDataChoice("folder", "/data/reviews"),
}


@pytest.mark.parametrize("preset", list(PRESETS))
@pytest.mark.parametrize("source", list(SOURCES))
def test_every_source_and_preset_gives_a_valid_workflow_shaped_like_the_example(source: str, preset: str) -> None:
    from engine.workflow import Workflow

    wf = text_classify_workflow(TextClassifyChoices(data=SOURCES[source], preset=preset, model_folder="/models/bert"))
    assert validate(wf) == []
    example = Workflow.load(EXAMPLES / "classify_text.json")
    assert set(types(wf)) == set(types(example)) and links(wf) == links(example)
    assert [n.position for n in wf.nodes] == [n.position for n in example.nodes]  # the same tidy layout
    assert wf.node("data").type == {"builtin": "text_builtin", "csv": "text_csv", "folder": "text_folder"}[source]
    assert wf.node("model").type == PRESETS[preset].model_type
    assert wf.node("evaluate").params == {"split": "test", "mistakes": 16}


def test_the_fast_gru_recipe_is_the_example_with_the_budget_as_its_time_limit() -> None:
    from engine.workflow import Workflow

    wf = text_classify_workflow(TextClassifyChoices())
    example = Workflow.load(EXAMPLES / "classify_text.json")
    for node in ("data", "tokenize", "model", "evaluate"):
        assert wf.node(node).params == example.node(node).params, node
    train = wf.node("train").params
    assert train["time_budget"] == 3.0 and train["epochs"] == PRESETS["fast_gru"].train["epochs"]
    assert train["patience"] == PRESETS["fast_gru"].train["patience"] and train["restore_best"] is True


def test_budget_in_epochs_and_without_early_stopping() -> None:
    wf = text_classify_workflow(TextClassifyChoices(budget=Budget(kind="epochs", epochs=2, early_stopping=False)))
    train = wf.node("train").params
    assert train["epochs"] == 2 and train["patience"] == 0 and "time_budget" not in train


def test_csv_and_folder_params() -> None:
    csv = text_classify_workflow(TextClassifyChoices(data=SOURCES["csv"])).node("data").params
    assert csv == {"path": "/data/reviews.csv", "text_columns": "title, body", "label": "stars"}
    folder = text_classify_workflow(TextClassifyChoices(data=SOURCES["folder"])).node("data").params
    assert folder == {"path": "/data/reviews", "layout": "classes"}
    small = text_classify_workflow(TextClassifyChoices(data=TextDataChoice(per_class=40))).node("data").params
    assert small == {"dataset": "ui_languages", "per_class": 40}


def test_pretrained_reads_the_model_folder_in_both_steps() -> None:
    wf = text_classify_workflow(TextClassifyChoices(preset="pretrained", model_folder="/models/distilbert"))
    assert wf.node("tokenize").params["method"] == "pretrained"
    assert wf.node("tokenize").params["path"] == "/models/distilbert"
    assert wf.node("model").params["model"] == "/models/distilbert"


@pytest.mark.parametrize("choices,words", [
    (TextClassifyChoices(data=TextDataChoice("csv", "")), "choose a CSV file"),
    (TextClassifyChoices(data=TextDataChoice("csv", "/a.csv", text_columns=" , ")), "hold the texts"),
    (TextClassifyChoices(data=TextDataChoice("csv", "/a.csv", label="")), "each text's class"),
    (TextClassifyChoices(data=TextDataChoice("csv", "/a.csv", text_columns="text", label="text")), "both"),
    (TextClassifyChoices(data=TextDataChoice("folder", "")), "one subfolder"),
    (TextClassifyChoices(data=TextDataChoice("web")), "unknown text source"),
    (TextClassifyChoices(data=TextDataChoice(per_class=5)), "20 to 900"),
    (TextClassifyChoices(preset="huge"), "unknown model"),
    (TextClassifyChoices(preset="pretrained"), "pretrained model needs a model"),
    (TextClassifyChoices(budget=Budget(kind="minutes", minutes=0)), "above zero"),
])
def test_impossible_classify_choices_say_why(choices: TextClassifyChoices, words: str) -> None:
    with pytest.raises(RecipeError, match=words):
        text_classify_workflow(choices)


@pytest.mark.parametrize("size", list(WRITER_SIZES))
@pytest.mark.parametrize("source", ["builtin", "folder"])
def test_every_write_source_and_size_gives_a_valid_workflow(source: str, size: str) -> None:
    data = TextDataChoice() if source == "builtin" else TextDataChoice("folder", "/data/poems")
    wf = write_workflow(WriteChoices(data=data, size=size, prompt="Roses are" if source == "folder" else ""))
    assert validate(wf) == []
    assert types(wf) == {"data": "text_builtin" if source == "builtin" else "text_folder", "tokenize": "tokenize",
                         "model": WRITER_SIZES[size].model_type, "train": "train_lm", "generate": "generate_text"}
    assert links(wf) == {("data.data", "tokenize.data"), ("tokenize.data", "train.data"),
                         ("model.model", "train.model"), ("train.model", "generate.model")}
    xs = [wf.node(i).position[0] for i in ("data", "tokenize", "train", "generate")]
    assert xs == sorted(xs) and len(set(xs)) == 4  # left to right
    if source == "folder":
        assert wf.node("data").params == {"path": "/data/poems", "layout": "flat", "test": 0.0}
        assert wf.node("generate").params["prompt"] == "Roses are"
        assert wf.node("train").params["prompts"] == "Roses are"  # the live samples too
    else:
        assert wf.node("data").params == {"dataset": "python_docs"}
        assert wf.node("generate").params["prompt"] == "A list"  # the example's
        assert "prompts" not in wf.node("train").params  # the engine's defaults are the Python docs'


def test_the_medium_writer_is_the_example() -> None:
    from engine.workflow import Workflow

    wf = write_workflow(WriteChoices(size="medium"))
    example = Workflow.load(EXAMPLES / "lm_python_docs.json")
    assert [(n.id, n.type, n.position) for n in wf.nodes] == [(n.id, n.type, n.position) for n in example.nodes]
    for node in ("data", "tokenize", "model"):
        assert wf.node(node).params == example.node(node).params, node
    assert wf.node("train").params["time_budget"] == 3.0
    epochs = write_workflow(WriteChoices(size="small", budget=Budget(kind="epochs", epochs=1)))
    assert epochs.node("train").params["epochs"] == 1 and "time_budget" not in epochs.node("train").params


def test_a_folder_without_a_prompt_gets_a_plain_one_and_bad_write_choices_say_why() -> None:
    wf = write_workflow(WriteChoices(data=TextDataChoice("folder", "/data/poems")))
    assert wf.node("generate").params["prompt"] == "The"
    with pytest.raises(RecipeError, match="folder of .txt"):
        write_workflow(WriteChoices(data=TextDataChoice("csv", "/a.csv")))
    with pytest.raises(RecipeError, match="choose a folder"):
        write_workflow(WriteChoices(data=TextDataChoice("folder", "")))
    with pytest.raises(RecipeError, match="unknown model size"):
        write_workflow(WriteChoices(size="xl"))


def test_prompt_from_text_takes_the_first_words_without_the_prompt_separator() -> None:
    assert prompt_from_text("\n\n  Once upon a time | there was") == "Once upon a"
    assert prompt_from_text("a|b c d") == "a b c"
    assert prompt_from_text("") == ""


def test_the_recipes_need_neither_torch_nor_qt() -> None:
    """They run on the GUI thread while a page is shown: no torch import (slow), no widget code."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    code = ("import sys; import gui.wizards.text_recipes, gui.wizards.text_scan; "
            "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert out.stdout.strip() == "[]"
    for name in ("text_recipes.py", "text_scan.py"):
        assert "PySide6" not in (root / "gui" / "wizards" / name).read_text(encoding="utf-8")


# -- scans ----------------------------------------------------------------------------------------------------
def write_texts(folder: Path, n: int, word: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"{i}.txt").write_text(f"{word} number {i}", encoding="utf-8")


def test_folder_scan_counts_classes_and_refuses_one_class_or_a_flat_folder(tmp_path: Path) -> None:
    write_texts(tmp_path / "good" / "pos", 6, "lovely")
    write_texts(tmp_path / "good" / "neg", 6, "awful")
    good = scan_text_folder(tmp_path / "good", labelled=True)
    assert good.problem() == "" and good.texts_per_class == {"neg": 6, "pos": 6}
    assert "2 classes, 12 text files" in good.summary()
    write_texts(tmp_path / "one" / "pos", 6, "lovely")
    assert "only one class (pos)" in scan_text_folder(tmp_path / "one", labelled=True).problem()
    write_texts(tmp_path / "flat", 6, "lovely")
    assert "no class subfolders" in scan_text_folder(tmp_path / "flat", labelled=True).problem()
    write_texts(tmp_path / "few" / "pos", 6, "lovely")
    write_texts(tmp_path / "few" / "neg", 2, "awful")
    assert "Too few texts: neg (2)" in scan_text_folder(tmp_path / "few", labelled=True).problem()
    (tmp_path / "empty").mkdir()
    assert "holds no files" in scan_text_folder(tmp_path / "empty", labelled=True).problem()
    assert "is not a folder" in scan_text_folder(tmp_path / "nowhere", labelled=True).problem()


def test_corpus_scan_gives_a_prompt_and_refuses_too_little_text(tmp_path: Path) -> None:
    corpus = tmp_path / "poems"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Roses are red, violets are blue.\n" * 40, encoding="utf-8")
    (corpus / "b.png").write_bytes(b"\x89PNG")
    scan = scan_text_folder(corpus, labelled=False)
    assert scan.problem() == "" and scan.prompt == "Roses are red," and scan.other_files == 1
    tiny = tmp_path / "tiny"
    tiny.mkdir()
    (tiny / "a.txt").write_text("Hello.", encoding="utf-8")
    assert "Too little text" in scan_text_folder(tiny, labelled=False).problem()


def test_table_scan_guesses_the_columns_and_refuses_what_cannot_train(tmp_path: Path) -> None:
    reviews = tmp_path / "reviews.csv"
    reviews.write_text("id,review,stars\n" + "".join(
        f"{i},{'a lovely film' if i % 2 else 'a dull film'} number {i},{'good' if i % 2 else 'bad'}\n"
        for i in range(20)), encoding="utf-8")
    scan = scan_text_table(reviews)
    assert scan.columns == ["id", "review", "stars"]
    assert scan.guess_label() == "stars" and scan.guess_text("stars") == ["review"]
    assert scan.problem(["review"], "stars") == ""
    assert "Tick the column" in scan.problem([], "stars")
    assert "both a text column and the label" in scan.problem(["review", "stars"], "stars")
    assert "20 texts for 20 classes" in scan.problem(["review"], "id")  # an id column is no class
    numbers = tmp_path / "numbers.csv"
    numbers.write_text("a,b\n" + "".join(f"{i},{i % 2}\n" for i in range(20)), encoding="utf-8")
    assert "no column of texts" in scan_text_table(numbers).problem(["a"], "b")
    one = tmp_path / "one.csv"
    one.write_text("text,label\n" + "".join(f"text {i},same\n" for i in range(20)), encoding="utf-8")
    assert "only 1 class" in scan_text_table(one).problem(["text"], "label")
    assert "is not a file" in scan_text_table(tmp_path / "missing.csv").error
