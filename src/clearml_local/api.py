"""The API listener: routes `/v<level>/<service>.<action>` calls and wraps answers in envelopes."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from clearml_local import services  # noqa: F401  (registers every handler)
from clearml_local.errors import ApiError, bad_request
from clearml_local.registry import ENDPOINTS, CallContext
from clearml_local.schemas import check_request
from clearml_local.services.auth import Credentials, authenticate, check_basic, issue_token
from clearml_local.services.server import API_VERSION
from clearml_local.storage import Store

log = logging.getLogger(__name__)

_CALL = re.compile(r"(?:v(?P<version>\d+(?:\.\d+)?)/)?(?P<service>[a-z_]+)\.(?P<action>[a-z_]+)")
NO_AUTH = {"debug.ping"}
IMPLEMENTED = sorted({*ENDPOINTS, "auth.login"})


@dataclass
class ServerState:
    """Everything both listeners share."""

    store: Store
    credentials: Credentials
    files_dir: Path
    max_upload_bytes: int
    last_request: float = field(default_factory=time.monotonic)
    calls: Counter[str] = field(default_factory=Counter)

    def touch(self) -> None:
        self.last_request = time.monotonic()


def envelope(
    name: str, version: str, data: Any, status: int = 200, error: ApiError | None = None
) -> JSONResponse:
    trx = uuid.uuid4().hex
    meta = {
        "id": trx,
        "trx": trx,
        "endpoint": {"name": name, "requested_version": version, "actual_version": API_VERSION},
        "result_code": error.code if error else 200,
        "result_subcode": error.subcode if error else 0,
        "result_msg": error.message if error else "OK",
        "error_stack": None,
        "error_data": {},
        "alarms": {},
    }
    return JSONResponse({"meta": meta, "data": data}, status_code=status)


def parse_body(raw: bytes, content_type: str, query: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = dict(query)
    if not raw.strip():
        return body
    try:
        text = raw.decode("utf-8")
        if "json-lines" in content_type:
            return {**body, "requests": [json.loads(line) for line in text.splitlines() if line]}
        parsed = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad_request(f"Invalid request body: {exc}") from exc
    if isinstance(parsed, list):
        return {**body, "requests": parsed}
    if not isinstance(parsed, dict):
        raise bad_request("Request body must be a JSON object")
    return {**body, **parsed}


def _login(state: ServerState, request: Request, body: dict[str, Any]) -> dict[str, Any]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        check_basic(state.credentials, header)
    else:
        authenticate(state.credentials, header)
    try:
        expiration = int(body.get("expiration_sec") or 0) or None
    except (TypeError, ValueError) as exc:
        raise bad_request("expiration_sec must be an integer") from exc
    return {"token": issue_token(state.credentials, expiration)}


def _dispatch(state: ServerState, request: Request, name: str, body: dict[str, Any]) -> Any:
    if name == "auth.login":
        return _login(state, request, body)
    handler = ENDPOINTS.get(name)
    if handler is None:
        raise ApiError(404, f"Unknown call: {name} is not implemented by this server", 404)
    claims = {}
    if name not in NO_AUTH:
        claims = authenticate(state.credentials, request.headers.get("authorization"))
        check_request(name, body)
    ctx = CallContext(
        store=state.store,
        files_dir=state.files_dir,
        identity=claims.get("identity") or {},
        token_payload=claims,
    )
    if log.isEnabledFor(logging.DEBUG):
        log.debug("%s %s", name, json.dumps(body)[:300])
    with state.store.lock:
        return handler(ctx, body)


def make_api_app(state: ServerState) -> Starlette:
    async def call(request: Request) -> JSONResponse:
        state.touch()
        path = request.path_params["path"].strip("/")
        match = _CALL.fullmatch(path)
        name = f"{match['service']}.{match['action']}" if match else path
        version = (match["version"] if match else None) or API_VERSION
        state.calls[name] += 1
        try:
            if match is None:
                raise ApiError(404, f"Unknown call: /{path}", 404)
            length = request.headers.get("content-length", "")
            if length.isdigit() and int(length) > state.max_upload_bytes:
                raise ApiError(413, "Request body too large", 413)
            raw = await request.body()
            body = parse_body(
                raw, request.headers.get("content-type", ""), dict(request.query_params)
            )
            data = _dispatch(state, request, name, body)
        except ApiError as exc:
            # unknown calls are worth noticing: they show what a client needs that is missing
            level = logging.WARNING if exc.status == 404 else logging.INFO
            log.log(level, "%s -> %d %s", name, exc.status, exc.message)
            return envelope(name, version, {}, exc.status, exc)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            # malformed nested input reaches the handlers as one of these
            log.warning("%s: invalid request (%s)", name, exc, exc_info=True)
            return envelope(name, version, {}, 400, bad_request(f"Invalid request: {exc}"))
        except Exception:
            log.exception("%s failed", name)
            return envelope(name, version, {}, 500, ApiError(500, "Internal server error", 500))
        return envelope(name, version, data)

    methods = ["GET", "POST", "PUT"]
    return Starlette(routes=[Route("/{path:path}", call, methods=methods)])
