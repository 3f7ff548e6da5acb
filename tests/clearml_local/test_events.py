"""Events: last_metrics upkeep keyed like the real server, reads, and what reset clears."""

from __future__ import annotations

import hashlib

SINGLE_VALUE_ITER = -(2**31)


def _md5(name):
    return hashlib.md5(name.encode()).hexdigest()


def _scalar(task, metric, variant, value, iteration):
    return {
        "type": "training_stats_scalar",
        "task": task,
        "metric": metric,
        "variant": variant,
        "value": value,
        "iter": iteration,
        "timestamp": 1_700_000_000_000 + iteration,
    }


def _task(api, unique):
    project = api.call("projects.create", name=unique)["id"]
    return api.call("tasks.create", name="run", type="training", project=project)["id"]


def test_scalars_keep_last_min_max_and_last_iteration(api, unique):
    task = _task(api, unique)
    api.events([_scalar(task, "loss", "train", v, i) for i, v in enumerate([0.9, 0.2, 0.4])])
    api.events([_scalar(task, "Summary", "accuracy", 0.95, SINGLE_VALUE_ITER)])

    doc = api.call("tasks.get_by_id", task=task)["task"]
    entry = doc["last_metrics"][_md5("loss")][_md5("train")]
    summary = doc["last_metrics"][_md5("Summary")][_md5("accuracy")]

    assert (entry["metric"], entry["variant"]) == ("loss", "train")
    assert (entry["value"], entry["min_value"], entry["max_value"]) == (0.4, 0.2, 0.9)
    assert (entry["min_value_iteration"], entry["max_value_iteration"]) == (1, 0)
    assert summary["value"] == 0.95
    assert doc["last_iteration"] == 2


def test_reads_histogram_single_values_logs_and_metrics(api, unique):
    task = _task(api, unique)
    api.events(
        [
            _scalar(task, "loss", "train", 0.5, 0),
            _scalar(task, "loss", "train", 0.25, 1),
            _scalar(task, "Summary", "f1", 0.8, SINGLE_VALUE_ITER),
            {"type": "log", "task": task, "msg": "hello", "level": "info"},
            {"type": "plot", "task": task, "metric": "cm", "variant": "v", "plot_str": "{}"},
        ]
    )

    histogram = api.call("events.scalar_metrics_iter_histogram", task=task, key="iter")
    singles = api.call("events.get_task_single_value_metrics", tasks=[task])
    logs = api.call("events.get_task_log", task=task, batch_size=10)
    plots = api.call("events.get_task_plots", task=task, iters=1)
    metrics = api.call("events.get_task_metrics", tasks=[task], event_type="plot")

    assert histogram == {"loss": {"train": {"name": "train", "x": [0, 1], "y": [0.5, 0.25]}}}
    assert singles["tasks"][0]["values"][0]["variant"] == "f1"
    assert singles["tasks"][0]["values"][0]["value"] == 0.8
    assert [e["msg"] for e in logs["events"]] == ["hello"]
    assert [p["metric"] for p in plots["plots"]] == ["cm"]
    assert metrics["metrics"] == [{"task": task, "metrics": ["cm"]}]


def test_task_events_scroll_in_batches(api, unique):
    task = _task(api, unique)
    api.events([_scalar(task, "m", "v", float(i), i) for i in range(5)])

    first = api.call("events.get_task_events", task=task, batch_size=3)
    second = api.call(
        "events.get_task_events", task=task, batch_size=3, scroll_id=first["scroll_id"]
    )

    assert [e["iter"] for e in first["events"]] == [0, 1, 2]
    assert [e["iter"] for e in second["events"]] == [3, 4]
    assert (first["total"], second["returned"]) == (5, 2)


def test_reset_clears_events_metrics_artifacts_and_models(api, unique):
    task = _task(api, unique)
    api.events([_scalar(task, "loss", "train", 0.5, 3)])
    api.call(
        "tasks.add_or_update_artifacts",
        task=task,
        artifacts=[{"key": "data", "type": "pickle", "uri": "http://x/data.pkl"}],
    )
    model = api.call("models.update_for_task", task=task, uri="http://x/w.pkl", name="w")["id"]
    api.call("tasks.started", task=task)
    api.call("tasks.started", task=task)

    result = api.call("tasks.reset", task=task)
    doc = api.call("tasks.get_by_id", task=task)["task"]
    events = api.call("events.get_task_events", task=task)
    status, _ = api.raw("models.get_by_id", {"model": model})

    assert result["events"]["deleted"] == 1 and result["deleted_models"] == 1
    assert doc["status"] == "created" and doc["last_metrics"] == {}
    assert doc["last_iteration"] == 0
    assert doc["execution"]["artifacts"] == [] and doc["models"]["output"] == []
    assert events["total"] == 0
    assert status == 400


def test_status_changes_are_permissive(api, unique):
    task = _task(api, unique)

    for call in ("tasks.started", "tasks.started", "tasks.completed", "tasks.started"):
        api.call(call, task=task, force=True)
    api.call("tasks.failed", task=task)
    api.call("tasks.completed", task=task)

    doc = api.call("tasks.get_by_id", task=task)["task"]
    assert doc["status"] == "completed"
    assert doc["started"] and doc["completed"]


def test_edit_replaces_whole_fields_and_maps_output_dest(api, unique):
    task = _task(api, unique)
    api.call("tasks.edit", task=task, script={"entry_point": "a.py", "branch": "main"})
    api.call("tasks.edit", task=task, script={"entry_point": "b.py"}, output_dest="http://f")

    doc = api.call("tasks.get_by_id", task=task)["task"]

    assert doc["script"] == {"entry_point": "b.py"}
    assert doc["output"]["destination"] == "http://f"


def test_clone_and_enqueue_dequeue(api, unique):
    task = _task(api, unique)
    api.call(
        "tasks.edit_hyper_params",
        task=task,
        hyperparams=[{"section": "cfg", "name": "lr", "value": "0.1"}],
    )
    clone = api.call("tasks.clone", task=task, new_task_name="copy")["id"]
    queue = api.call("queues.get_default")["id"]
    api.call("tasks.enqueue", task=clone, queue=queue)
    queued = api.call("queues.get_by_id", queue=queue)["queue"]
    api.call("tasks.dequeue", task=clone)

    doc = api.call("tasks.get_by_id", task=clone)["task"]
    params = api.call("tasks.get_hyper_params", tasks=[clone])["params"][0]["hyperparams"]

    assert clone in [entry["task"] for entry in queued["entries"]]
    assert doc["name"] == "copy" and doc["status"] == "created"
    assert [(p["section"], p["name"], p["value"]) for p in params] == [("cfg", "lr", "0.1")]
    assert clone not in [
        e["task"] for e in api.call("queues.get_by_id", queue=queue)["queue"]["entries"]
    ]
