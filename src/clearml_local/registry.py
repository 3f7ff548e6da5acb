"""The table of API calls the server implements and the context each call runs with."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clearml_local.errors import bad_request
from clearml_local.storage import Store

Handler = Callable[["CallContext", dict[str, Any]], dict[str, Any]]

ENDPOINTS: dict[str, Handler] = {}


@dataclass
class CallContext:
    """What a handler may use besides the request body."""

    store: Store
    files_dir: Path
    identity: dict[str, Any] = field(default_factory=dict)
    token_payload: dict[str, Any] = field(default_factory=dict)

    @property
    def user(self) -> str:
        return str(self.identity.get("user", ""))

    @property
    def company(self) -> str:
        return str(self.identity.get("company", ""))


def endpoint(*names: str) -> Callable[[Handler], Handler]:
    """Register a handler under one or more `service.action` names."""

    def register(handler: Handler) -> Handler:
        for name in names:
            ENDPOINTS[name] = handler
        return handler

    return register


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def new_id() -> str:
    return uuid.uuid4().hex


def require(body: dict[str, Any], name: str, kind: type | tuple[type, ...] = str) -> Any:
    value = body.get(name)
    if value is None or value == "":
        raise bad_request(f"Validation error: missing required field '{name}'", subcode=11)
    if not isinstance(value, kind):
        raise bad_request(f"Validation error: field '{name}' has the wrong type", subcode=12)
    return value
