"""The unchanged clearml SDK against the local server: training, read-back, pipeline."""

from __future__ import annotations

import pytest

TRAIN = """
import json, os
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from clearml import OutputModel, Task

args = json.loads(os.environ["SNIPPET_ARGS"])
task = Task.init(project_name=args["project"], task_name="train", tags=["baseline"])
task.connect({"lr": 0.1, "depth": 3}, name="cfg")
for step, value in enumerate([0.5, 0.9, 0.7]):
    task.get_logger().report_scalar("accuracy", "val", value=value, iteration=step)
task.get_logger().report_single_value("f1_macro", 0.88)
figure, axes = plt.subplots()
axes.plot([1, 2, 3])
task.get_logger().report_matplotlib_figure("confusion", "test", figure, iteration=0)
task.upload_artifact("summary", {"accuracy": 0.7}, wait_on_upload=True)
with open("weights.pkl", "wb") as out:
    out.write(b"model-bytes")
model = OutputModel(task=task, name="iris-model", tags=["candidate"])
model.update_weights(weights_filename="weights.pkl", auto_delete_file=False)
model.set_metadata("accuracy", "0.7", "float")
model.set_all_metadata({"model_type": {"value": "tree", "type": "str"}}, replace=False)
task.add_tags(["finished"])
task.close()
print(json.dumps({"task": task.id, "model": model.id}))
"""

READ = """
import json, os
from clearml import Model, Task

args = json.loads(os.environ["SNIPPET_ARGS"])
project = args["project"]
found = Task.get_tasks(project_name=project, tags=["finished"])
task = Task.get_task(task_id=found[0].id)
models = Model.query_models(project_name=project, tags=["candidate"])
by_metadata = Model.query_models(project_name=project, metadata={"model_type": "tree"})
no_match = Model.query_models(project_name=project, metadata={"model_type": "svm"})
with open(models[0].get_local_copy(), "rb") as weights:
    weights_bytes = weights.read().decode()
print(json.dumps({
    "names": [t.name for t in found],
    "status": task.get_status(),
    "tags": sorted(task.get_tags()),
    "params": task.get_parameters_as_dict(),
    "last": task.get_last_scalar_metrics(),
    "reported": task.get_reported_scalars(),
    "single": task.get_reported_single_values(),
    "plots": len(task.get_reported_plots()),
    "artifact": task.artifacts["summary"].get(),
    "artifact_file": open(task.artifacts["summary"].get_local_copy()).read(),
    "models": [(m.id, m.name, m.tags, m.get_all_metadata()) for m in models],
    "by_metadata": [m.id for m in by_metadata],
    "no_match": len(no_match),
    "weights": weights_bytes,
    "query": Task.query_tasks(project_name=project, task_name="^train$"),
    "query_none": Task.query_tasks(project_name=project, task_name="^nothing$"),
}))
"""


@pytest.fixture
def trained(run_sdk, unique):
    return unique, run_sdk(TRAIN, project=unique)


def test_training_run_reads_back_in_another_process(run_sdk, trained):
    project, ids = trained
    result = run_sdk(READ, project=project)

    assert result["names"] == ["train"]
    assert result["status"] == "completed"
    assert result["tags"] == ["baseline", "finished"]
    assert result["params"]["cfg"] == {"lr": "0.1", "depth": "3"}
    assert result["last"]["accuracy"]["val"] == {"last": 0.7, "min": 0.5, "max": 0.9}
    assert result["last"]["Summary"]["f1_macro"]["last"] == pytest.approx(0.88)
    assert result["reported"]["accuracy"]["val"]["x"] == [0, 1, 2]
    assert result["reported"]["accuracy"]["val"]["y"] == [0.5, 0.9, 0.7]
    assert result["single"] == {"f1_macro": pytest.approx(0.88)}
    assert result["plots"] == 1
    assert result["artifact"] == {"accuracy": 0.7}
    assert '"accuracy": 0.7' in result["artifact_file"]
    [(model_id, name, tags, metadata)] = result["models"]
    assert (model_id, name, tags) == (ids["model"], "iris-model", ["candidate"])
    assert metadata["accuracy"] == {"key": "accuracy", "type": "float", "value": "0.7"}
    assert metadata["model_type"]["value"] == "tree"
    assert result["by_metadata"] == [ids["model"]]
    assert result["no_match"] == 0
    assert result["weights"] == "model-bytes"
    assert result["query"] == [ids["task"]]
    assert result["query_none"] == []


PIPELINE = """
import json, os
from clearml import PipelineController, Task

def make_data(n):
    return list(range(int(n)))

def total(data):
    return sum(data)

args = json.loads(os.environ["SNIPPET_ARGS"])
pipe = PipelineController(
    name="mini", project=args["project"], version="1.0", pool_frequency=0.02
)
pipe.add_parameter("n", 4)
pipe.add_function_step(
    name="make", function=make_data, function_kwargs={"n": "${pipeline.n}"},
    function_return=["data"], cache_executed_step=True,
)
pipe.add_function_step(
    name="total", function=total, function_kwargs={"data": "${make.data}"},
    function_return=["result"], parents=["make"],
)
pipe.start_locally(run_pipeline_steps_locally=True)
controller = Task.get_task(task_id=pipe.id)
steps = Task.get_tasks(task_filter={"parent": pipe.id, "search_hidden": True})
print(json.dumps({
    "status": controller.get_status(),
    "project": controller.get_project_name(),
    "steps": {t.name: [t.get_status(), t.get_parameters().get("return/result")] for t in steps},
    "data": [t.artifacts["data"].get() for t in steps if t.name == "make"],
}))
"""


def test_local_pipeline_runs_both_steps(run_sdk, unique):
    result = run_sdk(PIPELINE, timeout=150, project=unique)

    assert result["status"] == "completed"
    assert result["project"] == f"{unique}/.pipelines/mini"
    assert result["steps"] == {"make": ["completed", None], "total": ["completed", "6"]}
    assert result["data"] == [[0, 1, 2, 3]]


SCHEDULER = """
import json, os
from clearml import Task
from clearml.automation import TaskScheduler

args = json.loads(os.environ["SNIPPET_ARGS"])
base = Task.create(project_name=args["project"], task_name="nightly", task_type="training")
base.mark_completed(force=True)
scheduler = TaskScheduler(force_create_task_name="scheduler", sync_frequency_minutes=0.05)
scheduler.add_task(
    schedule_task_id=base.id, queue="default", minute=30, execute_immediately=True,
    target_project=args["project"],
)
# start() loops forever; one serialized state and one step are what it does per tick
scheduler._serialize_state()
scheduler._serialize()
launched = scheduler._step()
queued = Task.get_tasks(project_name=args["project"], task_filter={"status": ["queued"]})
print(json.dumps({
    "launched": launched,
    "queued": [t.name for t in queued],
    "jobs": len(scheduler.get_scheduled_tasks()),
}))
"""


def test_task_scheduler_clones_and_enqueues_a_job(run_sdk, unique):
    result = run_sdk(SCHEDULER, project=unique)

    assert result["launched"] is True
    assert result["queued"] == ["nightly"]
    assert result["jobs"] == 1
