"""Workflow rules for text classifiers, found from the workflow's text alone (the GUI checks them as you type).

A link between port types cannot say everything: a ``train`` node accepts
any dataset and any model, but an image model cannot read token ids, a text
model cannot read pixels, FGSM perturbs pixels, and ``pretrained_text`` reads
only its own model's token ids.  :func:`text_problems` follows each ``data``
input back through steps that pass any dataset on (``split``) to the step
that made it, and names the node, the field and what to do.
"""

from __future__ import annotations

from typing import Any

from engine.ports import DATASET, MODEL, TEXT_DATASET
from engine.problems import Problem, param_field
from engine.steps.registry import StepSpec
from engine.workflow import Workflow

TEXT_MODELS = ("gru", "lstm", "transformer", "pretrained_text")  # model steps that read token ids
_TEXT_MODEL_WORDS = "gru, lstm, transformer or pretrained_text"


def _feeder(wf: Workflow, specs: dict[str, StepSpec], node_id: str, port: str) -> tuple[str, str] | None:
    """(node id, port type) of what feeds ``node_id.port``, through steps that pass any dataset on."""
    seen: set[str] = set()
    while node_id not in seen:
        seen.add(node_id)
        link = next((lk for lk in wf.links_into(node_id) if lk.target.port == port), None)
        spec = specs.get(link.source.node) if link else None
        out = spec.output(link.source.port) if spec and link else None
        if link is None or out is None:
            return None
        if out.type != DATASET or spec is None or spec.input("data") is None:
            return link.source.node, out.type
        node_id, port = link.source.node, "data"
    return None


def text_problems(wf: Workflow, specs: dict[str, StepSpec], flawed: set[str]) -> list[Problem]:
    """Text-model rules for every node that takes ``data``; nodes with problems of their own are left out."""
    from engine.validation import resolved_params

    params = {n.id: resolved_params(specs[n.id], n.params) for n in wf.nodes if n.id in specs and n.id not in flawed}
    problems: list[Problem] = []
    for node_id, spec in specs.items():
        if node_id not in params or spec.input("data") is None:
            continue
        data = _feeder(wf, specs, node_id, "data")
        if data is None:
            continue
        text = data[1] == TEXT_DATASET
        own = params[node_id]
        if text and float(own.get("adversarial_eps", 0) or 0) > 0:
            problems.append(Problem(node_id, param_field("adversarial_eps"), "FGSM adversarial training perturbs "
                                    "pixels and does not apply to text — set it to 0"))
        if text and str(own.get("fgsm_eps", "") or "").strip():
            problems.append(Problem(node_id, param_field("fgsm_eps"), "the FGSM robustness check perturbs pixels "
                                    "and does not apply to text — leave it empty"))
        model_link = next((lk for lk in wf.links_into(node_id) if lk.target.port == "model"), None)
        model_spec = specs.get(model_link.source.node) if model_link else None
        if model_link is None or model_spec is None or not _gives(model_spec, model_link.source.port, MODEL):
            continue
        model_node, model_type = model_link.source.node, model_spec.type
        if text and model_type not in TEXT_MODELS:
            problems.append(Problem(node_id, "input 'model'", f"'{model_node}' ({model_type}) cannot read text — "
                                    f"use a {_TEXT_MODEL_WORDS} model"))
        elif model_type in TEXT_MODELS and not text and data[1] != DATASET:
            problems.append(Problem(node_id, "input 'data'", f"'{model_node}' ({model_type}) reads texts as token ids "
                                    f"but '{data[0]}' gives {data[1]} — feed it from a tokenize step"))
        elif text and model_type == "pretrained_text":
            problems.extend(_pretrained_tokens(node_id, model_node, data[0], specs, params))
        if text and model_type in TEXT_MODELS:
            problems.extend(_unlabelled(wf, specs, params, node_id, data[0]))
    return problems


# What makes a text source unlabelled, from its params alone (a flat folder, no label column, a corpus).
UNLABELLED_SOURCES = {
    "text_csv": ("its label column is empty", lambda p: not str(p.get("label", "")).strip(),
                 "name the column holding each text's class"),
    "text_folder": ("layout flat", lambda p: p.get("layout") == "flat",
                    "use one subfolder per class and layout auto or classes"),
    "text_builtin": ("the python_docs corpus", lambda p: p.get("dataset") == "python_docs", "choose ui_languages"),
}


def _unlabelled(wf: Workflow, specs: dict[str, StepSpec], params: dict[str, dict[str, Any]], node_id: str,
                tokens_node: str) -> list[Problem]:
    """A classifier fed texts without classes (a language model's corpus) fails in training: say so now."""
    source = _feeder(wf, specs, tokens_node, "data")
    if source is None or source[0] not in params:
        return []
    rule = UNLABELLED_SOURCES.get(specs[source[0]].type)
    if rule is None or not rule[1](params[source[0]]):
        return []
    return [Problem(node_id, "input 'data'", f"'{source[0]}' gives texts without classes ({rule[0]}: a language "
                    f"model's corpus), but a classifier learns classes — {rule[2]}, or train a language model "
                    "(train_lm)")]


def _gives(spec: StepSpec, port: str, port_type: str) -> bool:
    out = spec.output(port)
    return out is not None and out.type == port_type


def _pretrained_tokens(node_id: str, model_node: str, data_node: str, specs: dict[str, StepSpec],
                       params: dict[str, dict[str, Any]]) -> list[Problem]:
    """``pretrained_text`` reads its own model's token ids: a tokenizer learned from the data cannot feed it.

    The step that made the token ids (``tokenize``) names its tokenizer in its ``method`` param.
    """
    method = params.get(data_node, {}).get("method")
    if method in (None, "pretrained"):
        return []
    return [Problem(node_id, "input 'data'", f"'{model_node}' (pretrained_text) reads the token ids of its own "
                    f"model, but '{data_node}' learns a {method} tokenizer — set its method to pretrained with the "
                    "same model folder")]
