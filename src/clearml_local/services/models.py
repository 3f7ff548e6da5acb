"""The models service: registered model documents with tags and metadata."""

from __future__ import annotations

from typing import Any

from clearml_local.errors import bad_request, not_found
from clearml_local.query import as_list, build_predicates, dotted_get, run_query
from clearml_local.registry import CallContext, endpoint, new_id, now_iso, require
from clearml_local.services.projects import ensure_project
from clearml_local.services.tasks import load_task, save_task

ARCHIVED = "archived"
EDITABLE = (
    "name",
    "comment",
    "tags",
    "system_tags",
    "framework",
    "design",
    "labels",
    "uri",
    "project",
    "task",
    "parent",
    "ready",
)


def load_model(ctx: CallContext, model_id: Any) -> dict[str, Any]:
    if not isinstance(model_id, str) or not model_id:
        raise bad_request("Validation error: missing required field 'model'", subcode=11)
    doc = ctx.store.get("models", model_id)
    if doc is None:
        raise not_found("model", model_id)
    return doc


def save_model(ctx: CallContext, doc: dict[str, Any]) -> None:
    doc["last_update"] = now_iso()
    ctx.store.put("models", doc)


def _metadata(items: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(items, list) or not all(isinstance(i, dict) and i.get("key") for i in items):
        raise bad_request("Validation error: metadata must be a list of items with a key", 12)
    return {
        str(i["key"]): {
            "key": str(i["key"]),
            "type": str(i.get("type") or "str"),
            "value": "" if i.get("value") is None else str(i["value"]),
        }
        for i in items
    }


def _fields(body: dict[str, Any]) -> dict[str, Any]:
    fields = {key: body[key] for key in EDITABLE if key in body}
    if "metadata" in body:
        fields["metadata"] = _metadata(body["metadata"])
    return fields


def _new_model(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    stamp = now_iso()
    doc: dict[str, Any] = {
        "id": new_id(),
        "name": require(body, "name"),
        "uri": body.get("uri"),
        "created": stamp,
        "last_update": stamp,
        "user": ctx.user,
        "company": ctx.company,
        "comment": "",
        "tags": [],
        "system_tags": [],
        "framework": None,
        "design": {},
        "labels": {},
        "project": None,
        "task": None,
        "parent": None,
        "ready": False,
        "metadata": {},
    }
    doc.update(_fields(body))
    return doc


@endpoint("models.create")
def create(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    require(body, "uri")
    doc = _new_model(ctx, body)
    save_model(ctx, doc)
    return {"id": doc["id"], "created": True}


@endpoint("models.edit", "models.update")
def edit(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    doc = load_model(ctx, body.get("model"))
    fields = _fields(body)
    doc.update(fields)
    save_model(ctx, doc)
    return {"updated": 1, "fields": fields}


@endpoint("models.update_for_task")
def update_for_task(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    task = load_task(ctx, body.get("task"))
    fields = {k: body[k] for k in ("uri", "name", "comment", "tags") if k in body}
    if body.get("override_model_id"):
        doc = load_model(ctx, body["override_model_id"])
        created = False
    else:
        doc = _new_model(ctx, {"name": body.get("name") or task["name"], "uri": body.get("uri")})
        doc.update(project=task.get("project"), task=task["id"])
        created = True
    doc.update(fields)
    save_model(ctx, doc)
    outputs = [m for m in task["models"].get("output") or [] if m.get("model") != doc["id"]]
    task["models"]["output"] = [*outputs, {"name": doc["name"], "model": doc["id"]}]
    save_task(ctx, task)
    return {"id": doc["id"], "created": created, "updated": 1, "fields": fields}


@endpoint("models.set_ready")
def set_ready(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    doc = load_model(ctx, body.get("model"))
    doc["ready"] = True
    save_model(ctx, doc)
    return {"updated": 1, "published_task": None}


@endpoint("models.publish_many")
def publish_many(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    succeeded = []
    for model_id in as_list(require(body, "ids", list)):
        set_ready(ctx, {"model": model_id})
        succeeded.append({"id": model_id, "updated": True})
    return {"succeeded": succeeded, "failed": []}


@endpoint("models.add_or_update_metadata")
def add_or_update_metadata(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    doc = load_model(ctx, body.get("model"))
    items = _metadata(require(body, "metadata", list))
    doc["metadata"] = items if body.get("replace_metadata") else {**doc["metadata"], **items}
    save_model(ctx, doc)
    return {"updated": 1}


@endpoint("models.delete_metadata")
def delete_metadata(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    doc = load_model(ctx, body.get("model"))
    for key in as_list(require(body, "keys", list)):
        doc["metadata"].pop(str(key), None)
    save_model(ctx, doc)
    return {"updated": 1}


@endpoint("models.get_by_id")
def get_by_id(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    return {"model": load_model(ctx, body.get("model"))}


@endpoint("models.get_by_task_id")
def get_by_task_id(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    task = load_task(ctx, body.get("task"))
    outputs = (task.get("models") or {}).get("output") or []
    if not outputs:
        raise bad_request(f"No output model for task: id={task['id']}", subcode=201)
    return {"model": load_model(ctx, outputs[-1]["model"])}


def _metadata_predicates(body: dict[str, Any]) -> list:
    # Model.query_models sends metadata filters as extra "metadata.<key>.value" fields
    predicates = []
    for key, wanted in body.items():
        if key.startswith("metadata.") and wanted is not None:
            values = {str(v) for v in as_list(wanted)}
            predicates.append(lambda d, k=key, v=values: str(dotted_get(d, k)) in v)
    return predicates


@endpoint("models.get_all", "models.get_all_ex")
def get_all(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    fields = ("id", "project", "task", "framework", "uri", "user")
    predicates = build_predicates(body, fields) + _metadata_predicates(body)
    if body.get("ready") is not None:
        predicates.append(lambda d: bool(d.get("ready")) == bool(body["ready"]))
    found = run_query(ctx.store.all("models"), body, predicates, default_order=["-created"])
    return {"models": found}


@endpoint("models.get_frameworks")
def get_frameworks(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    projects = set(as_list(body.get("projects")))
    frameworks = {
        m["framework"]
        for m in ctx.store.all("models")
        if m.get("framework") and (not projects or m.get("project") in projects)
    }
    return {"frameworks": sorted(frameworks)}


@endpoint("models.delete")
def delete(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    doc = load_model(ctx, body.get("model"))
    ctx.store.delete("models", doc["id"])
    return {"deleted": True, "url": doc.get("uri")}


@endpoint("models.archive_many")
def archive_many(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    succeeded = []
    for model_id in as_list(require(body, "ids", list)):
        doc = load_model(ctx, model_id)
        if ARCHIVED not in doc["system_tags"]:
            doc["system_tags"].append(ARCHIVED)
        save_model(ctx, doc)
        succeeded.append({"id": model_id, "archived": True})
    return {"succeeded": succeeded, "failed": []}


@endpoint("models.move")
def move(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    project = body.get("project") or ensure_project(ctx, require(body, "project_name"))
    for model_id in as_list(require(body, "ids", list)):
        doc = load_model(ctx, model_id)
        doc["project"] = project
        save_model(ctx, doc)
    return {"project_id": project}
