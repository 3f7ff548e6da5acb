"""Fixtures of the local server tests: a raw API client and an SDK subprocess runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest

from clearml_local import ServerInfo

from .local_api_client import Api


@pytest.fixture(scope="session")
def api(local_server: ServerInfo) -> Api:
    return Api(local_server)


@pytest.fixture
def unique() -> str:
    """A fresh name so tests sharing the session server never see each other's data."""
    return "t" + uuid.uuid4().hex[:10]


@pytest.fixture
def run_sdk(clearml_env: dict, tmp_path: Path):
    """Run a Python snippet with the SDK in a subprocess; return the JSON its last line prints."""

    def run(code: str, timeout: float = 120, **arguments: Any) -> Any:
        script = tmp_path / f"snippet_{uuid.uuid4().hex[:8]}.py"
        script.write_text(textwrap.dedent(code), encoding="utf-8")
        env = {**os.environ, **clearml_env, "SNIPPET_ARGS": json.dumps(arguments)}
        done = subprocess.run(
            [sys.executable, str(script)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    return run
