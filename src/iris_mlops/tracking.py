"""The one place that picks the ClearML backend and opens tasks with the project's conventions."""

import logging
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from iris_mlops.errors import BackendError

log = logging.getLogger(__name__)

SDK_DEFAULTS_DIR = Path(__file__).parent / "sdk_defaults"
PREFLIGHT_TIMEOUT_S = 3.0

# ours, not the SDK's: where the local server keeps its data and which ports it listens on
LOCAL_DIR_ENV = "CLEARML_LOCAL_DIR"
LOCAL_API_PORT_ENV = "CLEARML_LOCAL_API_PORT"
LOCAL_FILES_PORT_ENV = "CLEARML_LOCAL_FILES_PORT"
# set for child processes (pipeline steps) so they know the server is the local one
LOCAL_MARK_ENV = "IRIS_MLOPS_LOCAL_SERVER"
DEFAULT_LOCAL_DIR = ".clearml-local"
DEFAULT_LOCAL_API_PORT = 18008
DEFAULT_LOCAL_FILES_PORT = 18081


@dataclass(frozen=True)
class Backend:
    """The ClearML backend the scripts talk to."""

    kind: str  # "server", "local" or "offline"
    api_url: str | None = None
    files_url: str | None = None
    web_url: str | None = None
    data_dir: Path | None = None

    @property
    def has_server(self) -> bool:
        """True when models can be registered and queried (everything but offline mode)."""
        return self.kind != "offline"

    def describe(self) -> str:
        if self.kind == "offline":
            return "SDK offline mode (sessions are stored under the ClearML cache folder)"
        if self.kind == "local":
            return f"local ClearML server at {self.api_url} (data in {self.data_dir})"
        return f"ClearML server at {self.api_url}"


_backend: Backend | None = None


def select_backend() -> Backend:
    """Decide the backend once per process, prepare the SDK for it and log which one it is."""
    global _backend
    if _backend is not None:
        return _backend
    os.environ.setdefault("CLEARML_CONFIG_PATH", str(SDK_DEFAULTS_DIR))
    if _env_flag("CLEARML_OFFLINE_MODE"):
        _backend = Backend("offline")
    elif _configured_api_host():
        _backend = _configured_server()
    else:
        _backend = _local_server()
    log.info("ClearML backend: %s", _backend.describe())
    return _backend


def require_server(what: str) -> Backend:
    """The backend, when it is a server; offline mode gets one clear message instead."""
    backend = select_backend()
    if not backend.has_server:
        raise BackendError(
            f"{what} needs a ClearML server, and CLEARML_OFFLINE_MODE is set: unset it to use "
            "the local server or the configured one."
        )
    return backend


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _configured_api_host() -> str | None:
    """The API host from the environment or a clearml.conf, None when nothing is configured."""
    if os.environ.get("CLEARML_API_HOST"):
        return os.environ["CLEARML_API_HOST"]
    conf_file = Path(os.environ.get("CLEARML_CONFIG_FILE", "~/clearml.conf")).expanduser()
    if not conf_file.is_file():
        return None
    from clearml.backend_api import Session

    return Session.get_api_server_host()


def _configured_server() -> Backend:
    raw_url = os.environ.get("CLEARML_API_HOST", "")
    if raw_url:
        _check_url(raw_url)
    api_url = raw_url.rstrip("/")
    if api_url:
        # checked before the SDK is imported, which alone takes seconds
        _check_server(api_url)
    from clearml.backend_api import Session

    if not api_url:
        api_url = Session.get_api_server_host()
        _check_server(api_url)
    kind = "local" if os.environ.get(LOCAL_MARK_ENV) else "server"
    data_dir = os.environ.get(LOCAL_DIR_ENV) if kind == "local" else None
    return Backend(
        kind,
        api_url=api_url,
        files_url=Session.get_files_server_host(),
        web_url=None if kind == "local" else Session.get_app_server_host(),
        data_dir=Path(data_dir) if data_dir else None,
    )


def _credentials() -> tuple[str, str]:
    access = os.environ.get("CLEARML_API_ACCESS_KEY")
    secret = os.environ.get("CLEARML_API_SECRET_KEY")
    if not access or not secret:
        from clearml.config import config_obj

        access = access or config_obj.get("api.credentials.access_key", None)
        secret = secret or config_obj.get("api.credentials.secret_key", None)
    if not access or not secret:
        raise BackendError(
            "A ClearML server is configured but its API keys are missing: set "
            "CLEARML_API_ACCESS_KEY and CLEARML_API_SECRET_KEY (or api.credentials in "
            "clearml.conf), or unset CLEARML_API_HOST to use the local server."
        )
    return access, secret


def _check_url(api_url: str) -> None:
    parts = urlsplit(api_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BackendError(
            f"CLEARML_API_HOST={api_url!r} is not an http(s) URL with a host; expected "
            "something like http://localhost:8008."
        )


def _check_server(api_url: str) -> None:
    """Fail in seconds, naming the host, where the SDK would retry silently for hours."""
    _check_url(api_url)
    _answer(api_url, "debug.ping")
    access_key, secret_key = _credentials()
    reply = _answer(api_url, "auth.login", auth=(access_key, secret_key))
    if reply.status_code == 401:
        raise BackendError(
            f"The ClearML server at {api_url} rejected the API keys (access key "
            f"{access_key!r}). Check CLEARML_API_ACCESS_KEY and CLEARML_API_SECRET_KEY, or "
            "create new credentials in the web UI (Settings > Workspace)."
        )
    if not reply.ok:
        raise BackendError(
            f"The ClearML server at {api_url} answered auth.login with HTTP "
            f"{reply.status_code}; is CLEARML_API_HOST the API port (8008) and not the web UI?"
        )


def _answer(api_url: str, call: str, **kwargs: Any) -> requests.Response:
    try:
        return requests.get(f"{api_url}/{call}", timeout=PREFLIGHT_TIMEOUT_S, **kwargs)
    except requests.RequestException as error:
        raise BackendError(
            f"The ClearML API server at {api_url} does not answer ({type(error).__name__}). "
            "Check that the server is running (docker compose ps in clearml/) and that "
            "CLEARML_API_HOST is right, or unset CLEARML_API_HOST to use the local server."
        ) from error


def _local_server() -> Backend:
    from clearml_local import ensure_running

    data_dir = Path(os.environ.get(LOCAL_DIR_ENV, DEFAULT_LOCAL_DIR)).resolve()
    api_port = _port_from_env(LOCAL_API_PORT_ENV, DEFAULT_LOCAL_API_PORT)
    files_port = _port_from_env(LOCAL_FILES_PORT_ENV, DEFAULT_LOCAL_FILES_PORT)
    try:
        info = ensure_running(data_dir, api_port=api_port, files_port=files_port)
    except Exception as error:
        raise BackendError(
            f"The local ClearML server could not start: {error} For the scripts, choose the "
            f"ports with {LOCAL_API_PORT_ENV} and {LOCAL_FILES_PORT_ENV}, and keep them for "
            f"this data folder ({data_dir})."
        ) from error
    # pipeline steps and other child processes inherit these and reuse the same server
    os.environ.update(info.environment())
    os.environ.update({LOCAL_DIR_ENV: str(data_dir), LOCAL_MARK_ENV: "1"})
    return Backend("local", api_url=info.api_url, files_url=info.files_url, data_dir=data_dir)


def _port_from_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise BackendError(f"{name}={raw!r} is not a TCP port; use a number from 1 to 65535.")
    return int(raw)


SERVER_CHECK_S = 5.0
SERVER_LOST_AFTER = 4


def watch_server(backend: Backend) -> None:
    """From now on, end the process when the backend's API server stops answering.

    The SDK's task, pipeline controller and log threads retry a vanished server forever and
    even block SIGTERM while they flush, so only an immediate exit ends such a run.
    """
    if backend.has_server and backend.api_url:
        thread = threading.Thread(
            target=_watch, args=(backend.api_url,), name="server-watchdog", daemon=True
        )
        thread.start()


def _watch(api_url: str) -> None:
    misses = 0
    while misses < SERVER_LOST_AFTER:
        time.sleep(SERVER_CHECK_S)
        try:
            requests.get(f"{api_url}/debug.ping", timeout=SERVER_CHECK_S)
            misses = 0
        except requests.RequestException:
            misses += 1
    log.error(
        "The ClearML API server at %s does not answer any more (%d checks %.0f s apart "
        "failed); stopping here, what was not finished stays unfinished on the server. "
        "Start the server again and rerun the command.",
        api_url,
        SERVER_LOST_AFTER,
        SERVER_CHECK_S,
    )
    sys.stderr.flush()
    os._exit(1)


AUTO_CONNECT = {"matplotlib": False, "joblib": False, "scikit": False}


def start_task(
    project: str, name: str, tags: list[str], config: dict[str, Any], task_type: str = "training"
):
    """Open a ClearML task with the config connected as the hyperparameter section `cfg`.

    Inside a pipeline step the step's own task is already open; it is used as it is.
    """
    from clearml import Task

    backend = select_backend()
    task = Task.current_task()
    if task is None:
        log.info("Creating task %r in project %r", name, project)
        task = Task.init(
            project_name=project,
            task_name=name,
            task_type=task_type,
            tags=tags,
            reuse_last_task_id=False,
            # models go to the server's file store, so the registry links to downloadable weights
            output_uri=True if backend.has_server else None,
            # the scripts report exactly what the report lists; framework hooks would add
            # duplicate figures and one extra model per joblib.dump
            auto_connect_frameworks=AUTO_CONNECT,
            auto_resource_monitoring=False,
        )
    else:
        log.info("Reporting to the running task %r (%s)", task.name, task.id)
        task.add_tags(tags)
    task.connect(config, name="cfg")
    return task


def task_url(task_id: str) -> str:
    """The task's page in the web UI where there is one, else the task id."""
    backend = select_backend()
    if backend.kind == "server" and backend.web_url:
        return f"{backend.web_url}/projects/*/experiments/{task_id}/output/execution"
    return task_id
