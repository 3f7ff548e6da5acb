"""Pure logic of the training library: split, model factory, evaluation, config checks."""

import json

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from sklearn.metrics import accuracy_score, f1_score

from iris_mlops.config import check_names, check_split
from iris_mlops.data import load_split
from iris_mlops.errors import ConfigError
from iris_mlops.evaluation import METRIC_NAMES, confusion_figure, evaluate
from iris_mlops.models import build_model
from iris_mlops.registry import model_metadata, model_tags
from iris_mlops.training import check_train_config

from .paths import CONF_DIR


def compose_train(overrides: list[str] | None = None):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="train", overrides=overrides or [])


def test_split_is_reproducible_and_stratified():
    first, second = load_split(0.2, 7), load_split(0.2, 7)
    assert first.X_test.index.tolist() == second.X_test.index.tolist()
    assert len(first.X_test) == 30 and len(first.X_train) == 120
    assert first.y_test.value_counts().tolist() == [10, 10, 10]
    assert first.class_names == ["setosa", "versicolor", "virginica"]
    assert load_split(0.2, 8).X_test.index.tolist() != first.X_test.index.tolist()


def test_default_config_and_overrides_compose():
    cfg = compose_train(["model=rf", "model.n_estimators=200", "seed=7"])
    assert cfg.model.name == "rf" and cfg.model.n_estimators == 200 and cfg.seed == 7
    assert cfg.clearml.project == "iris-mlops-hw5"
    assert cfg.clearml.model_name == "iris-hw5-classifier"
    assert cfg.clearml.group == "hw5-exp"
    assert compose_train().model.name == "logreg"


@pytest.mark.parametrize("model", ["logreg", "rf", "svc"])
def test_every_model_of_the_group_fits_iris_well(model):
    cfg = compose_train([f"model={model}"])
    split = load_split(cfg.test_size, cfg.seed)
    estimator = build_model(cfg.model, cfg.seed).fit(split.X_train, split.y_train)
    assert accuracy_score(split.y_test, estimator.predict(split.X_test)) >= 0.85


def test_seed_reaches_the_estimator():
    cfg = compose_train(["model=rf", "seed=11"])
    assert build_model(cfg.model, cfg.seed).get_params()["random_state"] == 11


def test_evaluation_matches_sklearn_and_the_confusion_matrix():
    y_true = np.array([0, 0, 1, 1, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 1, 2, 0, 2])
    evaluation = evaluate(y_true, y_pred, ["a", "b", "c"])
    assert tuple(evaluation.metrics) == METRIC_NAMES
    assert evaluation.metrics["accuracy"] == pytest.approx(5 / 7)
    assert evaluation.metrics["f1_macro"] == pytest.approx(
        f1_score(y_true, y_pred, average="macro")
    )
    assert evaluation.confusion.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 2]]
    assert evaluation.report["b"]["recall"] == pytest.approx(1.0)
    assert "macro avg" in evaluation.report_text
    figure = confusion_figure(evaluation, "t")
    labels = [label.get_text() for label in figure.axes[0].get_xticklabels()]
    assert labels == ["a", "b", "c"]


def test_metadata_and_tags_follow_the_report():
    metrics = {"accuracy": 0.9, "f1_macro": 0.8, "precision_macro": 0.7, "recall_macro": 0.6}
    metadata = model_metadata("rf", 3, 0.25, metrics)
    assert set(metadata) == {"model_name", "seed", "test_size", "accuracy", "metrics_json"}
    assert metadata["accuracy"] == {"value": "0.9", "type": "float"}
    assert json.loads(metadata["metrics_json"]["value"]) == metrics
    assert model_tags("rf", "hw5-exp", ["extra"]) == ["model:rf", "group:hw5-exp", "extra"]


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        (["test_size=0"], "test_size=0"),
        (["test_size=1.5"], "test_size=1.5"),
        (["test_size=abc"], "test_size='abc'"),
        (["seed=-1"], "seed=-1"),
        (["model=rf", "model.n_estimators=0"], "n_estimators"),
        (["model=svc", "model.kernel=cubic"], "kernel"),
        (["model=logreg", "+model.bogus=1"], "model.bogus"),
        (["clearml.project= "], "clearml.project"),
    ],
)
def test_bad_values_are_rejected_with_the_value_named(overrides, named):
    with pytest.raises(ConfigError, match=None) as raised:
        check_train_config(compose_train(overrides))
    assert named in str(raised.value)


def test_unknown_model_name_lists_the_choices():
    with pytest.raises(ConfigError) as raised:
        build_model({"name": "xgb"}, 0)
    assert "'xgb'" in str(raised.value) and "logreg, rf, svc" in str(raised.value)


def test_split_and_name_checks_accept_good_values():
    check_split(0.2, 0)
    check_names({"project": "p"}, ("project",))
