"""The tasks service: task documents, their status, parameters, artifacts and models."""

from __future__ import annotations

from typing import Any

from clearml_local.errors import bad_request, not_found
from clearml_local.query import as_list, build_predicates, run_query
from clearml_local.registry import CallContext, endpoint, new_id, now_iso, require
from clearml_local.services.projects import HIDDEN, ensure_project

ARCHIVED = "archived"
EDITABLE = (
    "name",
    "type",
    "project",
    "comment",
    "tags",
    "system_tags",
    "parent",
    "script",
    "execution",
    "hyperparams",
    "configuration",
    "container",
    "models",
    "runtime",
)
TASK_TYPES = (
    "training",
    "testing",
    "inference",
    "data_processing",
    "application",
    "monitor",
    "controller",
    "optimizer",
    "service",
    "qc",
    "custom",
)


def load_task(ctx: CallContext, task_id: Any) -> dict[str, Any]:
    if not isinstance(task_id, str) or not task_id:
        raise bad_request("Validation error: missing required field 'task'", subcode=11)
    doc = ctx.store.get("tasks", task_id)
    if doc is None:
        raise not_found("task", task_id)
    return doc


def save_task(ctx: CallContext, doc: dict[str, Any], touch_change: bool = True) -> None:
    stamp = now_iso()
    doc["last_update"] = stamp
    if touch_change:
        doc["last_change"] = stamp
    ctx.store.put("tasks", doc)


def _check_type(value: Any) -> str:
    if value not in TASK_TYPES:
        raise bad_request(f"Invalid task type {value!r}", subcode=12)
    return value


@endpoint("tasks.create")
def create(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    stamp = now_iso()
    doc: dict[str, Any] = {
        "id": new_id(),
        "name": require(body, "name"),
        "type": _check_type(require(body, "type")),
        "status": "created",
        "status_reason": "",
        "status_message": "",
        "status_changed": stamp,
        "created": stamp,
        "last_update": stamp,
        "last_change": stamp,
        "user": ctx.user,
        "company": ctx.company,
        "project": body.get("project"),
        "comment": body.get("comment", ""),
        "tags": list(body.get("tags") or []),
        "system_tags": list(body.get("system_tags") or []),
        "parent": body.get("parent"),
        "script": body.get("script") or {},
        "execution": body.get("execution") or {},
        "hyperparams": body.get("hyperparams") or {},
        "configuration": body.get("configuration") or {},
        "container": body.get("container") or {},
        "models": body.get("models") or {"input": [], "output": []},
        "output": {"destination": body.get("output_dest")},
        "runtime": {},
        "last_iteration": 0,
        "last_metrics": {},
    }
    ctx.store.put("tasks", doc)
    return {"id": doc["id"]}


@endpoint("tasks.edit")
def edit(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    doc = load_task(ctx, body.get("task"))
    # whole top-level fields are replaced, as the real server does
    fields = {key: body[key] for key in EDITABLE if key in body}
    if "type" in fields:
        _check_type(fields["type"])
    if "output_dest" in body:
        doc.setdefault("output", {})["destination"] = body["output_dest"]
        fields["output.destination"] = body["output_dest"]
    doc.update({k: v for k, v in fields.items() if "." not in k})
    save_task(ctx, doc)
    return {"updated": 1, "fields": fields}


@endpoint("tasks.update")
def update(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    doc = load_task(ctx, body.get("task"))
    fields = {
        k: body[k] for k in ("name", "comment", "tags", "system_tags", "project") if k in body
    }
    doc.update(fields)
    if "output__error" in body:
        doc.setdefault("output", {})["error"] = body["output__error"]
        fields["output.error"] = body["output__error"]
    save_task(ctx, doc)
    return {"updated": 1, "fields": fields}


@endpoint("tasks.clone")
def clone(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    source = load_task(ctx, body.get("task"))
    new_project = None
    project = body.get("new_task_project") or source.get("project")
    if body.get("new_project_name"):
        project = ensure_project(ctx, body["new_project_name"])
        new_project = {"id": project, "name": body["new_project_name"]}
    execution = dict(source.get("execution") or {})
    execution.pop("queue", None)
    execution["artifacts"] = [
        a for a in execution.get("artifacts") or [] if a.get("mode") == "input"
    ]
    execution.update(body.get("execution_overrides") or {})
    system_tags = body.get("new_task_system_tags", source.get("system_tags") or [])
    models = {"input": body.get("new_task_input_models", source["models"].get("input") or [])}
    created = create(
        ctx,
        {
            "name": body.get("new_task_name") or source["name"],
            "type": source["type"],
            "project": project,
            "comment": body.get("new_task_comment", source.get("comment", "")),
            "tags": body.get("new_task_tags", source.get("tags") or []),
            "system_tags": [tag for tag in system_tags if tag != ARCHIVED],
            "parent": body.get("new_task_parent") or source.get("parent"),
            "script": source.get("script"),
            "execution": execution,
            "hyperparams": body.get("new_task_hyperparams", source.get("hyperparams")),
            "configuration": body.get("new_task_configuration", source.get("configuration")),
            "container": body.get("new_task_container", source.get("container")),
            "models": {**models, "output": []},
            "output_dest": (source.get("output") or {}).get("destination"),
        },
    )
    return {"id": created["id"], "new_project": new_project}


@endpoint("tasks.reset")
def reset(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    doc = load_task(ctx, body.get("task"))
    deleted_events = ctx.store.delete_events(doc["id"])
    deleted_models = 0
    output_models = (doc.get("models") or {}).get("output") or []
    if body.get("delete_output_models", True):
        for item in output_models:
            model = ctx.store.peek("models", item.get("model", ""))
            if model is not None and not model.get("ready"):
                deleted_models += int(ctx.store.delete("models", model["id"]))
    execution = doc.get("execution") or {}
    execution["artifacts"] = [
        a for a in execution.get("artifacts") or [] if a.get("mode") == "input"
    ]
    execution.pop("queue", None)
    fields = {
        "status": "created",
        "status_reason": body.get("status_reason", "reset"),
        "status_message": body.get("status_message", ""),
        "status_changed": now_iso(),
        "last_metrics": {},
        "last_iteration": 0,
        "started": None,
        "completed": None,
        "published": None,
        "execution": execution,
        "models": {"input": (doc.get("models") or {}).get("input") or [], "output": []},
        "output": {"destination": (doc.get("output") or {}).get("destination")},
    }
    doc.update(fields)
    save_task(ctx, doc)
    return {
        "updated": 1,
        "fields": {"status": "created"},
        "events": {"deleted": deleted_events},
        "deleted_models": deleted_models,
        "urls": None,
    }


def _set_status(
    ctx: CallContext, body: dict[str, Any], status: str, stamp_field: str | None = None
) -> dict[str, Any]:
    doc = load_task(ctx, body.get("task"))
    stamp = now_iso()
    fields: dict[str, Any] = {
        "status": status,
        "status_changed": stamp,
        "status_reason": body.get("status_reason", ""),
        "status_message": body.get("status_message", ""),
    }
    # a second `started` (controller, then the step itself) keeps the first start time
    if stamp_field and not (stamp_field == "started" and doc.get("started")):
        fields[stamp_field] = stamp
    doc.update(fields)
    save_task(ctx, doc)
    return {"updated": 1, "fields": fields}


@endpoint("tasks.started")
def started(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    return {**_set_status(ctx, body, "in_progress", "started"), "started": 1}


@endpoint("tasks.stopped", "tasks.stop")
def stopped(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    return _set_status(ctx, body, "stopped")


@endpoint("tasks.completed")
def completed(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    result = _set_status(ctx, body, "completed", "completed")
    if body.get("publish"):
        _set_status(ctx, body, "published", "published")
        return {**result, "published": 1}
    return {**result, "published": 0}


@endpoint("tasks.failed")
def failed(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    return _set_status(ctx, body, "failed")


@endpoint("tasks.close")
def close(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    return _set_status(ctx, body, "closed")


@endpoint("tasks.publish")
def publish(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    return {**_set_status(ctx, body, "published", "published"), "committed_versions_results": []}


@endpoint("tasks.enqueue")
def enqueue(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    from clearml_local.services.queues import default_queue, push

    doc = load_task(ctx, body.get("task"))
    queue_id = body.get("queue") or default_queue(ctx)["id"]
    push(ctx, queue_id, doc["id"])
    doc.setdefault("execution", {})["queue"] = queue_id
    save_task(ctx, doc)
    result = _set_status(ctx, body, "queued")
    return {**result, "queued": 1, "queue_watched": False}


@endpoint("tasks.dequeue")
def dequeue(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    from clearml_local.services.queues import pull

    doc = load_task(ctx, body.get("task"))
    queue_id = (doc.get("execution") or {}).get("queue")
    removed = pull(ctx, queue_id, doc["id"]) if queue_id else 0
    result = _set_status(ctx, body, "created")
    return {**result, "dequeued": removed}


@endpoint("tasks.ping")
def ping(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    doc = load_task(ctx, body.get("task"))
    save_task(ctx, doc, touch_change=False)
    return {}


@endpoint("tasks.archive")
def archive(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    count = 0
    for task_id in as_list(require(body, "tasks", list)):
        doc = load_task(ctx, task_id)
        if ARCHIVED not in doc["system_tags"]:
            doc["system_tags"].append(ARCHIVED)
        save_task(ctx, doc)
        count += 1
    return {"archived": count}


def _set_archived(ctx: CallContext, ids: list[Any], archived: bool) -> list[dict[str, Any]]:
    succeeded = []
    for task_id in ids:
        doc = load_task(ctx, task_id)
        tags = [tag for tag in doc["system_tags"] if tag != ARCHIVED]
        doc["system_tags"] = [*tags, ARCHIVED] if archived else tags
        save_task(ctx, doc)
        succeeded.append({"id": task_id, "archived" if archived else "unarchived": True})
    return succeeded


@endpoint("tasks.archive_many")
def archive_many(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    return {"succeeded": _set_archived(ctx, require(body, "ids", list), True), "failed": []}


@endpoint("tasks.unarchive_many")
def unarchive_many(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    return {"succeeded": _set_archived(ctx, require(body, "ids", list), False), "failed": []}


@endpoint("tasks.delete")
def delete(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    doc = load_task(ctx, body.get("task"))
    deleted_events = ctx.store.delete_events(doc["id"])
    ctx.store.delete("tasks", doc["id"])
    return {"deleted": True, "events": {"deleted": deleted_events}, "urls": None}


@endpoint("tasks.delete_many")
def delete_many(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    succeeded = []
    for task_id in as_list(require(body, "ids", list)):
        delete(ctx, {"task": task_id})
        succeeded.append({"id": task_id, "deleted": True})
    return {"succeeded": succeeded, "failed": []}


@endpoint("tasks.get_by_id")
def get_by_id(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    return {"task": load_task(ctx, body.get("task"))}


def task_predicates(body: dict[str, Any]) -> list:
    predicates = build_predicates(body, ("id", "project", "status", "type", "parent", "user"))
    if not body.get("search_hidden"):
        predicates.append(lambda t: HIDDEN not in (t.get("system_tags") or ()))
    return predicates


@endpoint("tasks.get_all", "tasks.get_all_ex")
def get_all(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    # creation order by default, like the real server's natural order
    found = run_query(ctx.store.all("tasks"), body, task_predicates(body), ["created"])
    return {"tasks": found}


@endpoint("tasks.get_types")
def get_types(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    projects = set(as_list(body.get("projects")))
    types = {
        t["type"] for t in ctx.store.all("tasks") if not projects or t.get("project") in projects
    }
    return {"types": sorted(types)}


@endpoint("tasks.set_requirements")
def set_requirements(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    doc = load_task(ctx, body.get("task"))
    requirements = require(body, "requirements", dict)
    doc.setdefault("script", {})["requirements"] = requirements
    save_task(ctx, doc)
    return {"updated": 1, "fields": {"script.requirements": requirements}}
