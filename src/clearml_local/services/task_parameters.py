"""Task hyperparameters, configuration items, artifacts and model links."""

from __future__ import annotations

from typing import Any

from clearml_local.errors import bad_request
from clearml_local.query import as_list
from clearml_local.registry import CallContext, endpoint, require
from clearml_local.services.tasks import load_task, save_task


def _items(body: dict[str, Any], name: str) -> list[dict[str, Any]]:
    items = require(body, name, list)
    if not all(isinstance(item, dict) for item in items):
        raise bad_request(f"Validation error: '{name}' must be a list of objects", subcode=12)
    return items


@endpoint("tasks.edit_hyper_params")
def edit_hyper_params(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    doc = load_task(ctx, body.get("task"))
    items = _items(body, "hyperparams")
    replace = body.get("replace_hyperparams") or "none"
    hyperparams = {} if replace == "all" else dict(doc.get("hyperparams") or {})
    if replace == "section":
        for item in items:
            hyperparams[item.get("section", "General")] = {}
    for item in items:
        section = item.get("section") or "General"
        if not item.get("name"):
            raise bad_request("Validation error: hyperparameter without a name", subcode=12)
        entry = {"section": section, **{k: v for k, v in item.items() if v is not None}}
        entry["value"] = "" if entry.get("value") is None else str(entry["value"])
        hyperparams.setdefault(section, {})[item["name"]] = entry
    doc["hyperparams"] = hyperparams
    save_task(ctx, doc)
    return {"updated": 1}


@endpoint("tasks.get_hyper_params")
def get_hyper_params(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    params = []
    for task_id in as_list(require(body, "tasks", list)):
        doc = load_task(ctx, task_id)
        flat = [
            item
            for section in (doc.get("hyperparams") or {}).values()
            for item in section.values()
        ]
        params.append({"task": task_id, "hyperparams": flat})
    return {"params": params}


@endpoint("tasks.delete_hyper_params")
def delete_hyper_params(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    doc = load_task(ctx, body.get("task"))
    hyperparams = doc.get("hyperparams") or {}
    deleted = 0
    for item in _items(body, "hyperparams"):
        section = item.get("section") or "General"
        if item.get("name"):
            deleted += int(hyperparams.get(section, {}).pop(item["name"], None) is not None)
        else:
            deleted += int(hyperparams.pop(section, None) is not None)
    doc["hyperparams"] = hyperparams
    save_task(ctx, doc)
    return {"deleted": deleted}


@endpoint("tasks.edit_configuration")
def edit_configuration(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    doc = load_task(ctx, body.get("task"))
    items = _items(body, "configuration")
    configuration = {} if body.get("replace_configuration") else dict(doc["configuration"] or {})
    for item in items:
        if not item.get("name"):
            raise bad_request("Validation error: configuration item without a name", subcode=12)
        configuration[item["name"]] = {k: v for k, v in item.items() if v is not None}
    doc["configuration"] = configuration
    save_task(ctx, doc)
    return {"updated": 1}


@endpoint("tasks.get_configurations")
def get_configurations(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    names = set(as_list(body.get("names")))
    result = []
    for task_id in as_list(require(body, "tasks", list)):
        items = (load_task(ctx, task_id).get("configuration") or {}).values()
        chosen = [item for item in items if not names or item.get("name") in names]
        result.append({"task": task_id, "configurations": chosen})
    return {"configurations": result}


@endpoint("tasks.get_configuration_names")
def get_configuration_names(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    names = {}
    for task_id in as_list(require(body, "tasks", list)):
        names[task_id] = sorted((load_task(ctx, task_id).get("configuration") or {}).keys())
    return {"configurations": names}


@endpoint("tasks.delete_configuration")
def delete_configuration(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    doc = load_task(ctx, body.get("task"))
    configuration = doc.get("configuration") or {}
    deleted = sum(
        int(configuration.pop(name, None) is not None)
        for name in as_list(require(body, "configuration", list))
    )
    save_task(ctx, doc)
    return {"deleted": deleted}


@endpoint("tasks.add_or_update_artifacts")
def add_or_update_artifacts(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    doc = load_task(ctx, body.get("task"))
    execution = doc.setdefault("execution", {})
    artifacts = {
        (a.get("key"), a.get("mode", "output")): a for a in execution.get("artifacts") or []
    }
    for item in _items(body, "artifacts"):
        if not item.get("key") or not item.get("type"):
            raise bad_request("Validation error: an artifact needs 'key' and 'type'", subcode=12)
        item = {**item, "mode": item.get("mode") or "output"}
        artifacts[(item["key"], item["mode"])] = item
    execution["artifacts"] = list(artifacts.values())
    save_task(ctx, doc)
    return {"updated": 1}


@endpoint("tasks.delete_artifacts")
def delete_artifacts(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    doc = load_task(ctx, body.get("task"))
    gone = {(a.get("key"), a.get("mode") or "output") for a in _items(body, "artifacts")}
    before = doc.get("execution", {}).get("artifacts") or []
    after = [a for a in before if (a.get("key"), a.get("mode") or "output") not in gone]
    doc.setdefault("execution", {})["artifacts"] = after
    save_task(ctx, doc)
    return {"deleted": len(before) - len(after)}


@endpoint("tasks.add_or_update_model")
def add_or_update_model(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    doc = load_task(ctx, body.get("task"))
    name, model_id = require(body, "name"), require(body, "model")
    kind = require(body, "type")
    if kind not in ("input", "output"):
        raise bad_request("Validation error: model type must be 'input' or 'output'", subcode=12)
    models = doc.setdefault("models", {"input": [], "output": []})
    entries = [m for m in models.get(kind) or [] if m.get("name") != name]
    entry = {"name": name, "model": model_id}
    entries.append(entry)
    models[kind] = entries
    if kind == "output" and isinstance(body.get("iteration"), int):
        doc["last_iteration"] = max(int(doc.get("last_iteration") or 0), body["iteration"])
    save_task(ctx, doc)
    return {"updated": 1}


@endpoint("tasks.delete_models")
def delete_models(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    doc = load_task(ctx, body.get("task"))
    models = doc.setdefault("models", {"input": [], "output": []})
    for item in _items(body, "models"):
        kind = item.get("type", "output")
        models[kind] = [m for m in models.get(kind) or [] if m.get("name") != item.get("name")]
    save_task(ctx, doc)
    return {"updated": 1}
