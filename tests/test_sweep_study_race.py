"""Two processes starting the same study at once: neither sees half a study and refuses it."""

from __future__ import annotations

import optuna

from engine.sweep import SweepConfig, parse_sweep_param
from engine.sweep.study import METRIC_ATTR, SPACE_ATTR, WORKFLOW_ATTR, open_study, storage
from tests.test_sweep_cli import in_tmp, tiny_workflow  # noqa: F401 - the fixture

SPACE = "train.lr=log:1e-3..1e-1"


def config(study: str) -> SweepConfig:
    wf = tiny_workflow()
    return SweepConfig(wf, [parse_sweep_param(SPACE, wf)], trials=2, prune="none", study=study)


def test_the_space_is_stored_last_so_a_stored_space_means_a_stored_metric(in_tmp, monkeypatch):  # noqa: F811
    written: list[str] = []
    original = optuna.Study.set_user_attr

    def recording(self, key, value):  # noqa: ANN001, ANN202
        written.append(key)
        return original(self, key, value)

    monkeypatch.setattr(optuna.Study, "set_user_attr", recording)
    open_study(config("fresh"), epochs=3)
    assert written[-1] == SPACE_ATTR and {METRIC_ATTR, WORKFLOW_ATTR} <= set(written[:-1])


def test_a_study_another_process_is_still_creating_is_joined_not_refused(in_tmp):  # noqa: F811
    cfg = config("together")
    half_made = optuna.create_study(storage=storage(cfg.storage_url), study_name="together",
                                    direction="maximize" if cfg.maximize else "minimize")
    half_made.set_user_attr(METRIC_ATTR, cfg.metric)  # the other process got this far
    study = open_study(cfg, epochs=3)
    assert study.user_attrs[SPACE_ATTR] == [p.to_json() for p in cfg.params]
    assert study.user_attrs[METRIC_ATTR] == cfg.metric
