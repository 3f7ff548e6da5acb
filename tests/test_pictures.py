"""hw5-pictures against a local server: two tracked runs and a pipeline run built by hand."""

import json
import os
import subprocess
import sys
import textwrap
import uuid
from concurrent.futures import ThreadPoolExecutor

import matplotlib.pyplot as plt
import pytest

from iris_mlops.pictures import PICTURES, STEP_NAMES, confusion_from_plots

from .clearml_local.local_api_client import Api
from .scripts_runner import output, run_script

GATHER = """
import json, sys
from dataclasses import asdict
from iris_mlops import pictures

settings = pictures.Settings(**json.loads(sys.argv[1]))
ranking = pictures.experiments_ranking(settings, 12)
newest = pictures.find_pipeline_run(settings)
older = pictures.find_pipeline_run(
    pictures.Settings(**{**asdict(settings), "pipeline_group": sys.argv[2]})
)
print(json.dumps({
    "ranked": ranking.table[["task_name", "accuracy", "f1_macro"]].values.tolist(),
    "models": [row["model_id"] for row in pictures.model_rows(settings)],
    "newest": {"group": newest.group, "winner": newest.winner,
               "steps": {name: asdict(step) for name, step in newest.steps.items()}},
    "older": {"group": older.group, "steps": list(older.steps), "winner": older.winner},
}))
"""


@pytest.fixture(scope="module")
def api(local_server) -> Api:
    return Api(local_server)


@pytest.fixture(scope="module")
def seeded(clearml_env, api, tmp_path_factory) -> dict:
    """A project of its own with two tracked runs of one group and two pipeline runs."""
    key = uuid.uuid4().hex[:8]
    names = {
        "project": f"pictures-{key}",
        "model_name": f"iris-pictures-{key}",
        "group": f"sweep-{key}",
    }
    folder = tmp_path_factory.mktemp("pictures")

    def train(model: str) -> subprocess.CompletedProcess:
        return run_script(
            "train",
            f"model={model}",
            f"clearml.project={names['project']}",
            f"clearml.model_name={names['model_name']}",
            f"clearml.group={names['group']}",
            f"clearml.task_name=pic-{model}",
            env=clearml_env,
            cwd=folder,
        )

    # two at once: most of a run's time is spent starting Python and the SDK
    with ThreadPoolExecutor(max_workers=2) as pool:
        for done in pool.map(train, ("logreg", "rf")):
            assert done.returncode == 0, output(done)
    (project,) = api.call("projects.get_all", name=f"^{names['project']}$")["projects"]
    older = fake_pipeline_run(api, project["id"], f"pipe-old-{key}", steps=False)
    newest = fake_pipeline_run(api, project["id"], f"pipe-new-{key}", steps=True)
    return {**names, "folder": folder, "older": older, "newest": newest}


def fake_pipeline_run(api: Api, project: str, group: str, steps: bool) -> str:
    """A controller task and, when asked, its five steps as a pipeline run leaves them."""
    controller = create_task(api, project, "hw5-pipeline", "controller", [f"group:{group}"])
    api.call("tasks.started", task=controller)
    if steps:
        for name in STEP_NAMES:
            task = create_task(api, project, name, "training", [], parent=controller)
            api.call("tasks.started", task=task)
            if name == "select_best":
                attach_winner(api, task)
            api.call("tasks.failed" if name == "notify" else "tasks.completed", task=task)
    api.call("tasks.completed", task=controller)
    return group


def create_task(api: Api, project: str, name: str, kind: str, tags: list, parent=None) -> str:
    body = {"name": name, "type": kind, "project": project, "tags": tags, "parent": parent}
    return api.call("tasks.create", **body)["id"]


def attach_winner(api: Api, task: str) -> None:
    path = f"pictures/select_best.{task}/artifacts/winner/winner.json"
    winner = {"winner": "rf", "model_id": "0123456789abcdef", "accuracy": 0.9}
    uploaded = api.http.post(
        f"{api.info.files_url}/", files={f"/{path}": ("winner.json", json.dumps(winner))}
    )
    assert uploaded.status_code == 200
    artifact = {
        "key": "winner",
        "type": "JSON",
        "mode": "output",
        "uri": f"{api.info.files_url}/{path}",
        "type_data": {"content_type": "application/json"},
    }
    api.call("tasks.add_or_update_artifacts", task=task, artifacts=[artifact])


def overrides(seeded: dict) -> list[str]:
    return [
        f"clearml.project={seeded['project']}",
        f"clearml.model_name={seeded['model_name']}",
        f"group={seeded['group']}",
    ]


def test_all_four_pictures_are_written_as_images(clearml_env, seeded, tmp_path):
    done = run_script(
        "pictures", *overrides(seeded), f"out_dir={tmp_path}", env=clearml_env, cwd=tmp_path
    )

    assert done.returncode == 0, output(done)
    for name in PICTURES.values():
        assert f"wrote {tmp_path / name}" in done.stdout
        height, width, _ = plt.imread(tmp_path / name).shape
        assert width >= 900 and height >= 120, (name, width, height)
    assert not list(tmp_path.glob(".*.png")), "a temporary file was left behind"


def test_pictures_show_the_server_data(clearml_env, api, seeded):
    settings = {
        "project": seeded["project"],
        "model_name": seeded["model_name"],
        "group": seeded["group"],
        "experiments_top_k": 12,
        "models_top_k": 10,
        "metric": "accuracy",
        "tiebreak": "f1_macro",
        "pipeline_name": "hw5-pipeline",
        "pipeline_group": None,
    }
    found = gather(clearml_env, seeded, settings)

    runs = api.call(
        "tasks.get_all", tags=[f"group:{seeded['group']}"], only_fields=["name", "last_metrics"]
    )["tasks"]
    scores = {run["name"]: (score(run, "accuracy"), score(run, "f1_macro")) for run in runs}
    expected = sorted(scores, key=lambda name: (-scores[name][0], -scores[name][1], name))
    assert [name for name, _, _ in found["ranked"]] == expected
    assert {name: (acc, f1) for name, acc, f1 in found["ranked"]} == scores
    models = api.call("models.get_all", name=f"^{seeded['model_name']}$", only_fields=["id"])
    assert sorted(found["models"]) == sorted(model["id"] for model in models["models"])
    assert len(found["models"]) == 2

    newest = found["newest"]
    assert newest["group"] == seeded["newest"]
    assert newest["winner"] == {"winner": "rf", "model_id": "0123456789abcdef", "accuracy": 0.9}
    status = {name: step["status"] for name, step in newest["steps"].items()}
    assert status == {**dict.fromkeys(STEP_NAMES, "completed"), "notify": "failed"}
    assert all(0 <= step["seconds"] < 60 for step in newest["steps"].values())
    assert found["older"] == {"group": seeded["older"], "steps": [], "winner": None}


def gather(clearml_env: dict, seeded: dict, settings: dict) -> dict:
    """The data behind the pictures, read by the library in a process of its own."""
    script = seeded["folder"] / "gather.py"
    script.write_text(textwrap.dedent(GATHER), encoding="utf-8")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("CLEARML_", "IRIS_MLOPS_"))}
    done = subprocess.run(
        [sys.executable, str(script), json.dumps(settings), seeded["older"]],
        env={**base, **clearml_env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, output(done)
    return json.loads(done.stdout.strip().splitlines()[-1])


def score(run: dict, metric: str) -> float:
    for variants in run["last_metrics"].values():
        for entry in variants.values():
            if entry["metric"] == metric and entry["variant"] == "test":
                return entry["value"]
    raise AssertionError(f"no {metric} in {run['name']}")


def test_a_missing_source_skips_its_picture_and_fails(clearml_env, seeded, tmp_path):
    done = run_script(
        "pictures",
        *overrides(seeded),
        "group=no-such-group",
        "pipeline_name=no-such-pipeline",
        "only=[plots,models,pipeline]",
        f"out_dir={tmp_path}",
        env=clearml_env,
        cwd=tmp_path,
    )

    assert done.returncode == 1
    assert "group 'no-such-group'" in done.stderr and "run hw5-experiments first" in done.stderr
    assert "'no-such-pipeline'" in done.stderr and "run hw5-pipeline first" in done.stderr
    assert "Traceback" not in output(done)
    assert sorted(path.name for path in tmp_path.glob("*.png")) == [PICTURES["models"]]


@pytest.mark.parametrize(
    ("override", "named"),
    [("only=[experiments,charts]", "only="), ("models_top_k=0", "top_k=0")],
)
def test_bad_settings_stop_before_drawing(clearml_env, tmp_path, override, named):
    done = run_script("pictures", override, f"out_dir={tmp_path}", env=clearml_env, cwd=tmp_path)

    assert done.returncode == 1
    assert named in done.stderr and "Traceback" not in output(done)
    assert not list(tmp_path.glob("*.png"))


def test_the_confusion_matrix_is_read_from_either_form_of_plot_event():
    heatmap = {
        "data": [{"type": "heatmap", "z": [[2, 0], [1, 3]], "x": ["a", "b"], "y": ["a", "b"]}]
    }
    image = {"data": [], "layout": {"images": [{"source": "http://files/cm.png"}]}}
    events = [
        {"metric": "roc", "variant": "test", "plot_str": json.dumps(heatmap)},
        {"metric": "confusion_matrix", "variant": "test", "plot_str": json.dumps(heatmap)},
    ]

    found = confusion_from_plots(events)
    assert (found.z, found.x, found.y, found.image_url) == (
        [[2, 0], [1, 3]],
        ["a", "b"],
        ["a", "b"],
        None,
    )
    found = confusion_from_plots([{"metric": "confusion_matrix", "plot_str": json.dumps(image)}])
    assert (found.z, found.image_url) == (None, "http://files/cm.png")
    assert confusion_from_plots(events[:1]) is None
