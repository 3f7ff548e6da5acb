"""Calls about the server itself, its users and its (absent) workers."""

from __future__ import annotations

from typing import Any

from clearml_local.registry import CallContext, endpoint

SERVER_VERSION = "1.16.0"
API_VERSION = "2.23"


@endpoint("debug.ping")
def ping(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    return {"msg": "ClearML server (local)"}


@endpoint("server.info")
def info(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    return {"version": SERVER_VERSION, "api_version": API_VERSION, "build": "local", "uid": ""}


@endpoint("users.get_current_user")
def get_current_user(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    user = {
        "id": ctx.user,
        "name": ctx.identity.get("user_name", ctx.user),
        "company": {"id": ctx.company, "name": ctx.identity.get("company_name", "")},
        "role": ctx.identity.get("role", "user"),
    }
    return {"user": user, "getting_started": None, "settings": {}}


@endpoint("workers.get_all")
def get_workers(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    return {"workers": []}
