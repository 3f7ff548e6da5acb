"""The files listener: multipart uploads stored under the files folder, and downloads."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from clearml_local.api import ServerState
from clearml_local.errors import ApiError, bad_request
from clearml_local.services.auth import authenticate

log = logging.getLogger(__name__)


def safe_path(root: Path, relative: str) -> Path:
    """Resolve a client-given object path inside root, refusing anything that leaves it."""
    # the SDK sends object paths with a leading slash; they are always relative to root
    relative = unquote(relative).replace("\\", "/").lstrip("/")
    parts = PurePosixPath(relative).parts
    if not parts or ".." in parts or ":" in parts[0] or "\x00" in relative:
        raise bad_request(f"Invalid object path: {relative!r}")
    target = (root / Path(*parts)).resolve()
    if not target.is_relative_to(root.resolve()):
        raise bad_request(f"Invalid object path: {relative!r}")
    return target


def _error(exc: ApiError) -> JSONResponse:
    return JSONResponse({"error": exc.message, "code": exc.code}, status_code=exc.status)


async def _store_upload(state: ServerState, request: Request, prefix: str) -> list[str]:
    length = request.headers.get("content-length")
    if length is None:
        raise ApiError(411, "Uploads need a Content-Length header", 411)
    if int(length) > state.max_upload_bytes:
        raise ApiError(413, f"Upload larger than {state.max_upload_bytes} bytes", 413)
    stored = []
    async with request.form(max_files=100, max_fields=100) as form:
        for field_name, value in form.multi_items():
            if not isinstance(value, UploadFile):
                continue
            object_path = f"{prefix}/{field_name}" if prefix else field_name
            target = safe_path(state.files_dir, object_path)
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + ".partial")
            with partial.open("wb") as out:
                shutil.copyfileobj(value.file, out, 1024 * 1024)
            partial.replace(target)
            stored.append(object_path)
    if not stored:
        raise bad_request("No file field in the upload")
    return stored


def make_files_app(state: ServerState) -> Starlette:
    async def handle(request: Request) -> Response:
        state.touch()
        path = request.path_params["path"].strip("/")
        try:
            authenticate(state.credentials, request.headers.get("authorization"))
            if request.method in ("POST", "PUT"):
                stored = await _store_upload(state, request, path)
                log.info("Stored %s", ", ".join(stored))
                return JSONResponse({"uploaded": stored})
            target = safe_path(state.files_dir, path)
            if request.method == "DELETE":
                if not target.is_file():
                    raise ApiError(404, f"No such file: {path}", 404)
                target.unlink()
                return JSONResponse({"deleted": path})
            if not target.is_file():
                raise ApiError(404, f"No such file: {path}", 404)
            return FileResponse(target)
        except ApiError as exc:
            return _error(exc)
        except (ValueError, MultiPartException) as exc:
            return _error(bad_request(f"Invalid upload: {exc}"))

    methods = ["GET", "HEAD", "POST", "PUT", "DELETE"]
    return Starlette(routes=[Route("/{path:path}", handle, methods=methods)])
