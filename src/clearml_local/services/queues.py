"""The queues service: named queues of task ids (no worker ever pulls from them here)."""

from __future__ import annotations

from typing import Any

from clearml_local.errors import ApiError, not_found
from clearml_local.query import build_predicates, run_query
from clearml_local.registry import CallContext, endpoint, new_id, now_iso, require

DEFAULT_TAG = "default"


def load_queue(ctx: CallContext, queue_id: Any) -> dict[str, Any]:
    doc = ctx.store.get("queues", queue_id) if isinstance(queue_id, str) else None
    if doc is None:
        raise not_found("queue", str(queue_id))
    return doc


def _new_queue(ctx: CallContext, name: str, tags: Any = None, system_tags: Any = None) -> dict:
    stamp = now_iso()
    doc = {
        "id": new_id(),
        "name": name,
        "display_name": name,
        "created": stamp,
        "last_update": stamp,
        "user": ctx.user,
        "company": ctx.company,
        "tags": list(tags or []),
        "system_tags": list(system_tags or []),
        "entries": [],
        "metadata": {},
    }
    ctx.store.put("queues", doc)
    return doc


def default_queue(ctx: CallContext) -> dict[str, Any]:
    for doc in ctx.store.all("queues"):
        if DEFAULT_TAG in (doc.get("system_tags") or ()):
            return ctx.store.get("queues", doc["id"]) or doc
    return _new_queue(ctx, "default", system_tags=[DEFAULT_TAG])


def push(ctx: CallContext, queue_id: str, task_id: str) -> None:
    doc = load_queue(ctx, queue_id)
    doc["entries"] = [e for e in doc["entries"] if e.get("task") != task_id]
    doc["entries"].append({"task": task_id, "added": now_iso()})
    doc["last_update"] = now_iso()
    ctx.store.put("queues", doc)


def pull(ctx: CallContext, queue_id: str, task_id: str) -> int:
    doc = ctx.store.get("queues", queue_id)
    if doc is None:
        return 0
    before = len(doc["entries"])
    doc["entries"] = [e for e in doc["entries"] if e.get("task") != task_id]
    ctx.store.put("queues", doc)
    return before - len(doc["entries"])


@endpoint("queues.create")
def create(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    name = require(body, "name")
    if any(q.get("name") == name for q in ctx.store.all("queues")):
        raise ApiError(400, f"Queue with this name already exists: name={name}", 400, 709)
    return {"id": _new_queue(ctx, name, body.get("tags"), body.get("system_tags"))["id"]}


@endpoint("queues.get_default")
def get_default(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    doc = default_queue(ctx)
    return {"id": doc["id"], "name": doc["name"]}


@endpoint("queues.get_all", "queues.get_all_ex")
def get_all(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    predicates = build_predicates(body, ("id",))
    found = run_query(ctx.store.all("queues"), body, predicates, default_order=["created"])
    return {"queues": found}


@endpoint("queues.get_by_id")
def get_by_id(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    return {"queue": load_queue(ctx, body.get("queue"))}


@endpoint("queues.add_task")
def add_task(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    push(ctx, load_queue(ctx, body.get("queue"))["id"], require(body, "task"))
    return {"added": 1}


@endpoint("queues.remove_task")
def remove_task(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    return {"removed": pull(ctx, load_queue(ctx, body.get("queue"))["id"], require(body, "task"))}


@endpoint("queues.delete")
def delete(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    doc = load_queue(ctx, body.get("queue"))
    ctx.store.delete("queues", doc["id"])
    return {"deleted": 1}
