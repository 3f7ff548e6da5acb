"""Every implemented call answers with data that validates against the SDK's response schema."""

from __future__ import annotations

import copy
import importlib
import json
import uuid
from typing import Any

import jsonschema
import pytest

from clearml_local.api import IMPLEMENTED
from clearml_local.schemas import sdk_schemas

# calls the SDK ships no schema for: the real server has them, the SDK does not call them
WITHOUT_SDK_SCHEMA = {"debug.ping", "server.info", "users.get_current_user"}
# the *_ex variants answer like the plain call
SAME_AS = {name: name.removesuffix("_ex") for name in IMPLEMENTED if name.endswith("_ex")}


def _response_schema(name: str) -> dict[str, Any]:
    schema = copy.deepcopy(sdk_schemas()[SAME_AS.get(name, name)]["response"])
    # some SDK schemas reference definitions they do not ship; accept anything there
    definitions = schema.setdefault("definitions", {})
    for ref in _refs(schema):
        definitions.setdefault(ref.removeprefix("#/definitions/"), {})
    return schema


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def _scenario(api, unique) -> dict[str, dict[str, Any]]:
    """Call every endpoint once, in an order where each finds what it needs."""
    answers: dict[str, dict[str, Any]] = {}

    def call(_name: str, **body: Any) -> dict[str, Any]:
        answers[_name] = api.call(_name, **body)
        return answers[_name]

    answers["auth.login"] = api.http.get(
        f"{api.info.api_url}/auth.login", auth=(api.info.access_key, api.info.secret_key)
    ).json()["data"]
    call("debug.ping")
    call("server.info")
    call("users.get_current_user")
    call("workers.get_all")
    project, task = _projects_and_tasks(call, unique)
    answers["events.add_batch"] = _events(call, api, task)
    _models(call, project, task)
    _lifecycle(call, unique, project, task)
    return answers


def _projects_and_tasks(call, unique):
    project = call("projects.create", name=unique, description="d")["id"]
    call("projects.get_all", name=f"^{unique}$")
    call("projects.get_all_ex", name=f"^{unique}$")
    call("projects.get_by_id", project=project)
    call("projects.update", project=project, description="e")

    task = call("tasks.create", name="a", type="training", project=project)["id"]
    call("tasks.edit", task=task, script={"entry_point": "x.py"}, output_dest="http://f")
    call("tasks.update", task=task, comment="c", output__error="none")
    call("tasks.set_requirements", task=task, requirements={"pip": "numpy"})
    hyper = [{"section": "cfg", "name": "lr", "value": "0.1", "type": "float"}]
    call("tasks.edit_hyper_params", task=task, hyperparams=hyper)
    call("tasks.get_hyper_params", tasks=[task])
    call("tasks.delete_hyper_params", task=task, hyperparams=[{"section": "cfg", "name": "x"}])
    config = [{"name": "OmegaConf", "value": "a: 1", "type": "yaml"}]
    call("tasks.edit_configuration", task=task, configuration=config)
    call("tasks.get_configurations", tasks=[task])
    call("tasks.get_configuration_names", tasks=[task])
    call("tasks.delete_configuration", task=task, configuration=["nothing"])
    artifact = {"key": "k", "type": "pickle", "uri": "http://f/k.pkl", "content_size": 3}
    call("tasks.add_or_update_artifacts", task=task, artifacts=[artifact])
    call("tasks.started", task=task)
    call("tasks.ping", task=task)
    return project, task


def _events(call, api, task):
    scalar = {"type": "training_stats_scalar", "task": task, "metric": "m", "variant": "v"}
    call("events.add", **scalar, value=1.0, iter=0)
    added = api.events(
        [
            {**scalar, "value": 2.0, "iter": 1},
            {**scalar, "metric": "Summary", "value": 3.0, "iter": -(2**31)},
            {"type": "log", "task": task, "msg": "hi", "level": "info"},
            {"type": "plot", "task": task, "metric": "p", "variant": "q", "plot_str": "{}"},
            {"type": "training_debug_image", "task": task, "metric": "i", "variant": "j"},
        ]
    )
    call("events.scalar_metrics_iter_histogram", task=task, key="iter")
    call("events.get_task_single_value_metrics", tasks=[task])
    call("events.get_task_events", task=task, event_type="training_stats_scalar")
    call("events.get_scalar_metric_data", task=task, metric="m")
    call("events.get_task_plots", task=task, iters=1)
    call("events.get_task_log", task=task, batch_size=5)
    call("events.get_task_metrics", tasks=[task])
    call("events.get_task_latest_scalar_values", task=task)
    call("events.get_scalar_metrics_and_variants", task=task)
    call("events.debug_images", metrics=[{"task": task, "metric": "i"}], iters=1)

    return added


def _models(call, project, task):
    unique = call("projects.get_by_id", project=project)["project"]["name"]
    model = call("models.create", name="m", uri="http://f/m.pkl", project=project)["id"]
    call("models.edit", model=model, tags=["t"], framework="scikit-learn")
    call("models.update", model=model, comment="c")
    metadata = [{"key": "acc", "type": "float", "value": "0.9"}]
    call("models.add_or_update_metadata", model=model, metadata=metadata)
    call("models.delete_metadata", model=model, keys=["nothing"])
    call("models.get_by_id", model=model)
    call("models.get_all", project=[project])
    call("models.get_all_ex", project=[project])
    call("models.get_frameworks", projects=[project])
    call("models.set_ready", model=model)
    call("models.publish_many", ids=[model])
    call("tasks.add_or_update_model", task=task, name="m", model=model, type="output")
    call("models.update_for_task", task=task, uri="http://f/n.pkl", name="n")
    call("models.get_by_task_id", task=task)
    call("models.move", ids=[model], project_name=f"{unique}/moved")
    call("models.archive_many", ids=[model])
    call("tasks.delete_models", task=task, models=[{"name": "m", "type": "output"}])
    call("models.delete", model=model)


def _lifecycle(call, unique, project, task):
    call("tasks.get_by_id", task=task)
    call("tasks.get_all", project=[project], only_fields=["id", "last_metrics"])
    call("tasks.get_all_ex", project=[project])
    call("tasks.get_types", projects=[project])
    call("tasks.stopped", task=task)
    call("tasks.stop", task=task)
    call("tasks.failed", task=task)
    call("tasks.completed", task=task)
    call("tasks.publish", task=task)
    call("tasks.close", task=task)
    call("tasks.delete_artifacts", task=task, artifacts=[{"key": "k"}])
    clone = call("tasks.clone", task=task, new_task_name="b")["id"]

    queue = call("queues.create", name=f"{unique}-q")["id"]
    call("queues.get_default")
    call("queues.get_all", name=f"^{unique}")
    call("queues.get_all_ex", name=f"^{unique}")
    call("queues.get_by_id", queue=queue)
    call("queues.add_task", queue=queue, task=clone)
    call("queues.remove_task", queue=queue, task=clone)
    call("tasks.enqueue", task=clone, queue=queue)
    call("tasks.dequeue", task=clone)
    call("queues.delete", queue=queue)

    call("tasks.reset", task=task)
    call("events.delete_for_task", task=task)
    call("tasks.archive", tasks=[task])
    call("tasks.archive_many", ids=[task])
    call("tasks.unarchive_many", ids=[task])
    call("tasks.delete_many", ids=[clone])
    call("tasks.delete", task=task)
    call("projects.delete", project=project)


@pytest.fixture(scope="module")
def answers(api):
    return _scenario(api, "contract-" + uuid.uuid4().hex[:8])


def test_scenario_reaches_every_implemented_call(answers):
    assert sorted(answers) == IMPLEMENTED


def test_calls_without_sdk_schema_are_only_the_known_ones():
    schemas = sdk_schemas()
    missing = {n for n in IMPLEMENTED if "response" not in schemas.get(SAME_AS.get(n, n), {})}
    assert missing == WITHOUT_SDK_SCHEMA


@pytest.mark.parametrize("name", sorted(set(IMPLEMENTED) - WITHOUT_SDK_SCHEMA))
def test_response_validates_against_sdk_schema(answers, name):
    data = answers[name]
    validator = jsonschema.Draft7Validator(_response_schema(name))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
    assert errors == [], json.dumps(data)[:2000]


def test_sdk_parses_every_response_without_dropping_it(answers):
    for name, data in answers.items():
        if name in WITHOUT_SDK_SCHEMA:
            continue
        service, action = SAME_AS.get(name, name).split(".")
        module = importlib.import_module(f"clearml.backend_api.services.v2_23.{service}")
        response_class = next(
            cls
            for cls in vars(module).values()
            if isinstance(cls, type)
            and cls.__name__.endswith("Response")
            and getattr(cls, "_action", None) == action
        )
        parsed = response_class.from_dict(copy.deepcopy(data))
        assert parsed is not None, name
