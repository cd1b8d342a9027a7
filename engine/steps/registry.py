"""The step registry: every step type is declared exactly once.

A declaration (:class:`StepSpec`) lists the step's ports and typed params and
points at the function that runs it.  Validation, ``loom steps``, the GUI's
palette and inspector and the docs are all generated from it.

Family modules (``engine/steps/data.py``, ``models.py``, ...) declare their
steps with the :func:`step` decorator; :func:`load_all` imports every module of
this package, so adding a family never means editing a central list.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.names import CachePolicy
from engine.params import Param
from engine.ports import Port
from engine.problems import Issue

if TYPE_CHECKING:
    from engine.context import StepContext

CATEGORIES = ("data", "preprocess", "models", "train", "evaluate", "generate", "export")

RunFn = Callable[["StepContext"], dict[str, Any]]
# Resolved params -> (field, message) problems.  ``check`` must be pure (the GUI
# calls it as the user types); ``preflight`` may read files, never train.
CheckFn = Callable[[dict[str, Any]], list[Issue]]
# Resolved params and, per connected input port, the feeding node's (step type, resolved params) -> problems.
# Pure, like ``check``: for rules between linked nodes (a VAE wired into a GAN trainer).
InputsCheckFn = Callable[[dict[str, Any], dict[str, tuple[str, dict[str, Any]]]], list[Issue]]


@dataclass(frozen=True)
class StepSpec:
    """Declaration of one step type.

    ``cache`` says where the runner may keep this step's outputs: ``"disk"``
    (outputs survive between processes; they must offer ``to_state``/
    ``from_state``), ``"memory"`` (reused within one app session) or
    ``"none"``.  Bump ``version`` when a change makes old cached outputs wrong.

    ``check``, ``check_inputs`` and ``preflight`` declare, with the step, what
    can be known wrong before anything runs: ``check`` looks only at the
    params and ``check_inputs`` also at the nodes linked into this one (both
    run by :func:`engine.validation.validate`); ``preflight`` may look at the
    files they name (run by :func:`engine.preflight.preflight` in ``loom validate``
    and before any node of a run starts).
    """

    type: str
    title: str
    category: str
    run: RunFn
    description: str = ""
    inputs: tuple[Port, ...] = ()
    outputs: tuple[Port, ...] = ()
    params: tuple[Param, ...] = ()
    cache: CachePolicy = CachePolicy.MEMORY
    version: int = 1
    produces_images: bool = False
    # params -> text that changes when the step's external input changes
    # (a folder's files, a CSV's bytes); folded into the cache key.
    fingerprint: Callable[[dict[str, Any]], str] | None = None
    check: CheckFn | None = None
    check_inputs: InputsCheckFn | None = None
    preflight: CheckFn | None = None
    _by_name: dict[str, Param] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"step {self.type!r}: unknown category {self.category!r}")
        object.__setattr__(self, "cache", CachePolicy(self.cache))  # accepts the policy's text too
        self._by_name.update({p.name: p for p in self.params})

    def param(self, name: str) -> Param | None:
        return self._by_name.get(name)

    def input(self, name: str) -> Port | None:
        return next((p for p in self.inputs if p.name == name), None)

    def output(self, name: str) -> Port | None:
        return next((p for p in self.outputs if p.name == name), None)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "title": self.title,
            "category": self.category,
            "description": self.description,
            "inputs": [_port_json(p) for p in self.inputs],
            "outputs": [_port_json(p) for p in self.outputs],
            "params": [p.to_json() for p in self.params],
        }


def _port_json(port: Port) -> dict[str, Any]:
    out = {"name": port.name, "type": port.type}
    if port.help:
        out["help"] = port.help
    if port.optional:
        out["optional"] = True
    return out


_REGISTRY: dict[str, StepSpec] = {}


def register(spec: StepSpec) -> StepSpec:
    if spec.type in _REGISTRY and _REGISTRY[spec.type].run is not spec.run:
        raise ValueError(f"step type {spec.type!r} is declared twice")
    _REGISTRY[spec.type] = spec
    return spec


def step(
    type: str,  # noqa: A002 - the public name of the field in workflow files
    *,
    title: str,
    category: str,
    description: str = "",
    inputs: tuple[Port, ...] | list[Port] = (),
    outputs: tuple[Port, ...] | list[Port] = (),
    params: tuple[Param, ...] | list[Param] = (),
    cache: CachePolicy | str = CachePolicy.MEMORY,
    version: int = 1,
    produces_images: bool = False,
    fingerprint: Callable[[dict[str, Any]], str] | None = None,
    check: CheckFn | None = None,
    check_inputs: InputsCheckFn | None = None,
    preflight: CheckFn | None = None,
) -> Callable[[RunFn], RunFn]:
    """Decorator that declares and registers a step type around its run function."""

    def wrap(fn: RunFn) -> RunFn:
        register(
            StepSpec(
                type=type,
                title=title,
                category=category,
                run=fn,
                description=description or (fn.__doc__ or "").strip().split("\n\n")[0],
                inputs=tuple(inputs),
                outputs=tuple(outputs),
                params=tuple(params),
                cache=cache,
                version=version,
                produces_images=produces_images,
                fingerprint=fingerprint,
                check=check,
                check_inputs=check_inputs,
                preflight=preflight,
            )
        )
        return fn

    return wrap


_loaded = False


def load_all() -> None:
    """Import every step family module once (cheap: torch is imported lazily)."""
    global _loaded
    if _loaded:
        return
    import engine.steps as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name != "registry" and not info.name.startswith("_"):
            importlib.import_module(f"engine.steps.{info.name}")
    _loaded = True


def get_step(step_type: str) -> StepSpec | None:
    load_all()
    return _REGISTRY.get(step_type)


def all_steps() -> list[StepSpec]:
    """Every declared step, ordered by category then title (palette order)."""
    load_all()
    order = {c: i for i, c in enumerate(CATEGORIES)}
    return sorted(_REGISTRY.values(), key=lambda s: (order[s.category], s.title.lower()))
