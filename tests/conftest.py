"""Shared fixtures: a local ClearML-compatible server and the environment that points at it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from clearml_local import ServerInfo, ensure_running, stop_server

from .clearml_local.local_api_client import Api

SDK_CONFIG = """\
api.http.retries { total: 2, connect: 2, read: 2, redirect: 2, status: 2, backoff_factor: 0.2 }
sdk.development.report_use_subprocess: false
sdk.development.store_uncommitted_code_diff: false
sdk.development.worker_ping_period_sec: 60
"""


@pytest.fixture(scope="session")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerInfo]:
    """A local server on free loopback ports for the whole session, stopped at the end."""
    data_dir = tmp_path_factory.mktemp("clearml_local_server")
    info = ensure_running(data_dir, api_port=0, files_port=0, idle_timeout=3600)
    yield info
    stop_server(data_dir)


@pytest.fixture(scope="session")
def clearml_env(local_server: ServerInfo, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """CLEARML_* variables (to merge into os.environ) that run SDK code against local_server."""
    folder: Path = tmp_path_factory.mktemp("clearml_sdk")
    config = folder / "clearml.conf"
    config.write_text(SDK_CONFIG, encoding="utf-8")
    return {
        **local_server.environment(),
        "CLEARML_CONFIG_FILE": str(config),
        "CLEARML_CACHE_DIR": str(folder / "cache"),
    }


SERVER_VARIABLES = (
    "CLEARML_API_HOST",
    "CLEARML_WEB_HOST",
    "CLEARML_FILES_HOST",
    "CLEARML_API_ACCESS_KEY",
    "CLEARML_API_SECRET_KEY",
)


@pytest.fixture(
    scope="session", params=["local", pytest.param("server", marks=pytest.mark.server)]
)
def backend_env(request: pytest.FixtureRequest) -> dict:
    """The scripts' environment: the local server, then a real one when it is configured."""
    if request.param == "local":
        return request.getfixturevalue("clearml_env")
    if not os.environ.get("CLEARML_API_HOST"):
        pytest.skip(
            "no real ClearML server is configured: export CLEARML_API_HOST and its keys "
            "(README, section 1), then run `uv run pytest -m server`"
        )
    return {name: os.environ[name] for name in SERVER_VARIABLES if name in os.environ}


@pytest.fixture(scope="session")
def backend_api(backend_env: dict) -> Api:
    """A raw API client of the server behind `backend_env`, for checks independent of the SDK."""
    return Api(
        SimpleNamespace(
            api_url=backend_env["CLEARML_API_HOST"],
            access_key=backend_env["CLEARML_API_ACCESS_KEY"],
            secret_key=backend_env["CLEARML_API_SECRET_KEY"],
        )
    )
