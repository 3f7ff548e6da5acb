"""The report's scripts end to end against a local server: train, sweep, compare, registry."""

import csv
import json
import re
import uuid

import pytest
from hydra import compose, initialize_config_dir
from sklearn.metrics import accuracy_score, f1_score

from iris_mlops.data import load_split
from iris_mlops.models import build_model

from .clearml_local.local_api_client import Api
from .paths import CONF_DIR
from .scripts_runner import output, run_script

PROJECT = "iris-mlops-hw5"
MODEL_NAME = "iris-hw5-classifier"
SWEEP = [
    "logreg_c01",
    "logreg_c1",
    "logreg_c10",
    "rf_n50_d3",
    "rf_n100",
    "rf_n300_leaf3",
    "svc_rbf_c1",
    "svc_rbf_c10",
    "svc_linear_c1",
]


@pytest.fixture
def api(backend_api: Api) -> Api:
    return backend_api


@pytest.fixture
def group() -> str:
    # a dot, so that a regular-expression match would also take the decoy group below
    return f"g{uuid.uuid4().hex[:8]}.x"


def expected_scores(overrides: list[str]) -> tuple[float, float]:
    """Accuracy and f1_macro of a run, computed here without ClearML."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="train", overrides=overrides)
    split = load_split(cfg.test_size, cfg.seed)
    predicted = (
        build_model(cfg.model, cfg.seed).fit(split.X_train, split.y_train).predict(split.X_test)
    )
    return (
        accuracy_score(split.y_test, predicted),
        f1_score(split.y_test, predicted, average="macro"),
    )


def last_value(task: dict, metric: str) -> float:
    for variants in task["last_metrics"].values():
        for entry in variants.values():
            if entry["metric"] == metric and entry["variant"] == "test":
                return entry["value"]
    raise AssertionError(f"no {metric} in {task['last_metrics']}")


def models_of_group(api: Api, group: str) -> list[dict]:
    return api.call(
        "models.get_all",
        name=f"^{MODEL_NAME}$",
        tags=[f"group:{group}"],
        only_fields=["id", "name", "tags", "metadata", "task", "uri", "ready"],
    )["models"]


def test_train_tracks_metrics_figure_artifacts_and_model(backend_env, api, group, tmp_path):
    done = run_script(
        "train", "model=rf", "seed=3", f"clearml.group={group}", env=backend_env, cwd=tmp_path
    )
    assert done.returncode == 0, output(done)
    task_id, model_id = re.search(r"task: (\w+)\s+model: (\w+)", done.stdout).groups()

    task = api.call("tasks.get_by_id", task=task_id)["task"]
    accuracy, f1 = expected_scores(["model=rf", "seed=3"])
    assert task["name"] == "hw5-train" and task["status"] == "completed"
    assert last_value(task, "accuracy") == pytest.approx(accuracy)
    assert last_value(task, "f1_macro") == pytest.approx(f1)
    assert task["hyperparams"]["cfg"]["model/name"]["value"] == "rf"
    assert task["hyperparams"]["cfg"]["seed"]["value"] == "3"
    assert {"model:rf", f"group:{group}"} <= set(task["tags"])
    artifacts = {artifact["key"] for artifact in task["execution"]["artifacts"]}
    assert {"metrics", "classification_report"} <= artifacts
    plots = api.call("events.get_task_plots", task=task_id, iters=1)["plots"]
    assert any(plot["metric"] == "confusion_matrix" for plot in plots)

    (model,) = models_of_group(api, group)
    assert model["id"] == model_id and model["task"] == task_id
    assert {"model:rf", f"group:{group}"} <= set(model["tags"])
    metadata = {entry["key"]: entry["value"] for entry in model["metadata"].values()}
    assert metadata["model_name"] == "rf" and metadata["seed"] == "3"
    assert float(metadata["test_size"]) == 0.2
    assert float(metadata["accuracy"]) == pytest.approx(accuracy)
    assert json.loads(metadata["metrics_json"])["f1_macro"] == pytest.approx(f1)
    assert model["uri"].startswith(backend_env["CLEARML_FILES_HOST"])
    assert (tmp_path / "reports/hw5/models" / f"{task_id}.joblib").is_file()


def test_bad_value_stops_before_any_task_is_created(backend_env, api, group, tmp_path):
    done = run_script(
        "train", "test_size=2", f"clearml.group={group}", env=backend_env, cwd=tmp_path
    )
    assert done.returncode == 1
    assert "test_size=2" in output(done) and "Traceback" not in output(done)
    assert api.call("tasks.get_all", tags=[f"group:{group}"])["tasks"] == []


@pytest.mark.slow
def test_sweep_then_compare_and_list_models(backend_env, api, group, tmp_path):
    decoy = group.replace(".", "A")
    run_script("train", f"clearml.group={decoy}", env=backend_env, cwd=tmp_path)
    sweep = run_script("experiments", f"group={group}", env=backend_env, cwd=tmp_path)
    assert sweep.returncode == 0, output(sweep)
    assert "[9/9]" in output(sweep)

    compare = run_script("compare", f"group={group}", env=backend_env, cwd=tmp_path)
    assert compare.returncode == 0, output(compare)
    with open(tmp_path / "reports/hw5/clearml_experiments_summary.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert (tmp_path / "reports/hw5/clearml_experiments_top.png").stat().st_size > 0
    assert sorted(row["task_name"] for row in rows) == sorted(f"hw5-{name}" for name in SWEEP)
    scores = {f"hw5-{name}": expected_scores([f"experiment={name}"]) for name in SWEEP}
    expected = sorted(scores, key=lambda name: (-scores[name][0], -scores[name][1], name))
    assert [row["task_name"] for row in rows] == expected
    for row in rows:
        assert float(row["accuracy"]) == pytest.approx(scores[row["task_name"]][0])
        assert row["status"] == "completed" and row["task_id"] in row["link"]
        experiment = row["task_name"].removeprefix("hw5-")
        assert row["model"] == experiment.split("_")[0]
        assert (row["seed"], row["test_size"]) == ("42", "0.2")

    listed = run_script(
        "list_models", f"group={group}", "format=csv", "top_k=20", env=backend_env, cwd=tmp_path
    )
    assert listed.returncode == 0, output(listed)
    models = list(csv.DictReader(listed.stdout.splitlines()))
    assert len(models) == 9
    assert {model["model_name"] for model in models} == {"logreg", "rf", "svc"}
    accuracies = [float(model["accuracy"]) for model in models]
    assert accuracies == sorted(accuracies, reverse=True)
    assert all(json.loads(model["metrics_json"])["accuracy"] for model in models)

    svc_only = run_script(
        "list_models",
        f"group={group}",
        "estimator=svc",
        "format=csv",
        env=backend_env,
        cwd=tmp_path,
    )
    assert svc_only.returncode == 0, output(svc_only)
    assert [row["model_name"] for row in csv.DictReader(svc_only.stdout.splitlines())] == [
        "svc"
    ] * 3

    marked = run_script(
        "compare", f"group={group}", "mark_best=true", env=backend_env, cwd=tmp_path
    )
    assert marked.returncode == 0, output(marked)
    best = [model for model in models_of_group(api, group) if "best" in model["tags"]]
    assert [model["task"] for model in best] == [rows[0]["task_id"]]
    assert best[0]["ready"] is True


def test_compare_reads_a_group_larger_than_one_page(backend_env, api, group, tmp_path):
    # the SDK asks for 500 tasks a page; 501 tasks need a second page
    project = api.call("projects.create", name=f"{PROJECT}-paging-{uuid.uuid4().hex[:6]}")["id"]
    for number in range(501):
        scores = dict.fromkeys(("accuracy", "f1_macro"), (number % 97) / 100)
        api.create_scored_task(project, f"run-{number}", [f"group:{group}"], scores)
    name = api.call("projects.get_by_id", project=project)["project"]["name"]
    done = run_script(
        "compare",
        f"group={group}",
        f"clearml.project={name}",
        "top_k=1000",
        env=backend_env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, output(done)
    with open(tmp_path / "reports/hw5/clearml_experiments_summary.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 501
    assert float(rows[0]["accuracy"]) == pytest.approx(0.96)


@pytest.mark.parametrize(
    ("script", "overrides", "named"),
    [
        ("compare", ["top_k=0"], "top_k=0"),
        ("compare", ["metric=auc"], "metric='auc'"),
        ("list_models", ["format=xml"], "format='xml'"),
        ("experiments", ["runs=[nope]"], "'nope'"),
    ],
)
def test_bad_inputs_of_the_registry_scripts(backend_env, tmp_path, script, overrides, named):
    done = run_script(script, *overrides, env=backend_env, cwd=tmp_path)
    assert done.returncode == 1
    assert named in output(done) and "Traceback" not in output(done)


def test_compare_of_an_unknown_group_leaves_no_csv(backend_env, group, tmp_path):
    done = run_script("compare", f"group={group}", env=backend_env, cwd=tmp_path)
    assert done.returncode == 1
    assert f"No experiments of group '{group}'" in output(done)
    assert not (tmp_path / "reports/hw5/clearml_experiments_summary.csv").exists()
