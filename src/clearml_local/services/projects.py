"""The projects service: a tree of named projects, created with their parents."""

from __future__ import annotations

from typing import Any

from clearml_local.errors import ApiError, bad_request, not_found
from clearml_local.query import build_predicates, run_query
from clearml_local.registry import CallContext, endpoint, new_id, now_iso, require

HIDDEN = "hidden"


def _by_name(ctx: CallContext, name: str) -> dict[str, Any] | None:
    return next((p for p in ctx.store.all("projects") if p.get("name") == name), None)


def ensure_project(ctx: CallContext, name: str, body: dict[str, Any] | None = None) -> str:
    """Return the id of the project with this full name, creating it and its parents."""
    body = body or {}
    parts = [part for part in name.split("/") if part.strip()]
    if not parts:
        raise bad_request("Project name must not be empty")
    parent_id = None
    for depth in range(1, len(parts) + 1):
        full_name = "/".join(parts[:depth])
        existing = _by_name(ctx, full_name)
        if existing is not None:
            parent_id = existing["id"]
            continue
        leaf = depth == len(parts)
        # a project whose path holds a dot-folder (e.g. ".pipelines") is hidden, like its tree
        hidden = any(part.startswith(".") for part in parts[:depth])
        system_tags = list(body.get("system_tags") or []) if leaf else []
        if hidden and HIDDEN not in system_tags:
            system_tags.append(HIDDEN)
        stamp = now_iso()
        doc = {
            "id": new_id(),
            "name": full_name,
            "basename": parts[depth - 1],
            "description": body.get("description", "") if leaf else "",
            "tags": list(body.get("tags") or []) if leaf else [],
            "system_tags": system_tags,
            "default_output_destination": body.get("default_output_destination") if leaf else None,
            "parent": parent_id,
            "created": stamp,
            "last_update": stamp,
            "user": ctx.user,
            "company": ctx.company,
        }
        ctx.store.put("projects", doc)
        parent_id = doc["id"]
    assert parent_id is not None
    return parent_id


@endpoint("projects.create")
def create(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    name = require(body, "name").strip("/")
    if _by_name(ctx, name) is not None:
        raise ApiError(400, f"Project with the same name already exists: name={name}", 400, 409)
    return {"id": ensure_project(ctx, name, body)}


def _visible(body: dict[str, Any]) -> list:
    predicates = build_predicates(body, ("id", "parent"), ("name", "basename"))
    if not body.get("search_hidden") and not body.get("include_hidden"):
        predicates.append(lambda p: HIDDEN not in (p.get("system_tags") or ()))
    return predicates


@endpoint("projects.get_all", "projects.get_all_ex")
def get_all(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    predicates = _visible(body)
    if body.get("shallow_search"):
        predicates.append(lambda p: "/" not in p.get("name", ""))
    found = run_query(ctx.store.all("projects"), body, predicates, default_order=["name"])
    return {"projects": found}


@endpoint("projects.get_by_id")
def get_by_id(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    project_id = require(body, "project")
    doc = ctx.store.get("projects", project_id)
    if doc is None:
        raise not_found("project", project_id)
    return {"project": doc}


@endpoint("projects.update")
def update(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    project_id = require(body, "project")
    doc = ctx.store.get("projects", project_id)
    if doc is None:
        raise not_found("project", project_id)
    fields = {
        k: body[k]
        for k in ("description", "tags", "system_tags", "default_output_destination")
        if k in body
    }
    doc.update(fields, last_update=now_iso())
    ctx.store.put("projects", doc)
    return {"updated": 1, "fields": fields}


@endpoint("projects.delete")
def delete(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    project_id = require(body, "project")
    if not ctx.store.delete("projects", project_id):
        raise not_found("project", project_id)
    return {"deleted": 1, "disassociated_tasks": 0, "urls": None}
