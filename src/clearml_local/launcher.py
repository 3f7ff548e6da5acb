"""Starting, finding and stopping a detached local server for a data folder."""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from clearml_local.credentials import load_or_create
from clearml_local.serving import STATE_FILE, PortInUseError, bind

log = logging.getLogger(__name__)

LOCK_FILE = "server.lock"
LOG_FILE = "server.log"
DEFAULT_IDLE_TIMEOUT = 30 * 60
START_TIMEOUT = 15.0
_children: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class ServerInfo:
    """Where a running local server listens and the keys it accepts."""

    api_url: str
    files_url: str
    web_url: str | None
    access_key: str
    secret_key: str
    data_dir: Path
    pid: int

    def environment(self) -> dict[str, str]:
        """The CLEARML_* variables that point the SDK at this server."""
        return {
            "CLEARML_API_HOST": self.api_url,
            "CLEARML_FILES_HOST": self.files_url,
            "CLEARML_WEB_HOST": self.web_url or self.api_url,
            "CLEARML_API_ACCESS_KEY": self.access_key,
            "CLEARML_API_SECRET_KEY": self.secret_key,
        }


@contextlib.contextmanager
def _folder_lock(data_dir: Path) -> Iterator[None]:
    with (data_dir / LOCK_FILE).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _alive(pid: int) -> bool:
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def ping(api_url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/debug.ping", timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def read_state(data_dir: Path) -> dict | None:
    """The state file of a live server of this folder, or None."""
    try:
        state = json.loads((Path(data_dir) / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not _alive(int(state.get("pid", 0))):
        return None
    return state


def _info(data_dir: Path, state: dict) -> ServerInfo:
    creds = load_or_create(data_dir)
    return ServerInfo(
        api_url=state["api_url"],
        files_url=state["files_url"],
        web_url=None,
        access_key=creds.access_key,
        secret_key=creds.secret_key,
        data_dir=data_dir,
        pid=int(state["pid"]),
    )


def _check_free(host: str, port: int) -> None:
    if port:
        bind(host, port).close()


def _spawn(data_dir: Path, host: str, api_port: int, files_port: int, idle: float | None) -> int:
    command = [sys.executable, "-m", "clearml_local", "serve", "--data-dir", str(data_dir)]
    command += ["--host", host, "--api-port", str(api_port), "--files-port", str(files_port)]
    command += ["--idle-timeout", str(idle or 0)]
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    with (data_dir / LOG_FILE).open("ab") as log_file:
        # a new session detaches it: it outlives the caller and ignores the caller's Ctrl-C
        child = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
            env=env,
            start_new_session=True,
        )
    _children[child.pid] = child
    return child.pid


def _wait_ready(data_dir: Path, pid: int) -> dict:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        state = read_state(data_dir)
        if state and state.get("pid") == pid and ping(state["api_url"]):
            return state
        if not _alive(pid):
            break
        time.sleep(0.1)
    tail = (data_dir / LOG_FILE).read_text(encoding="utf-8", errors="replace")[-2000:]
    raise RuntimeError(f"The local ClearML server did not start; its log ends with:\n{tail}")


def ensure_running(
    data_dir: Path,
    host: str = "127.0.0.1",
    api_port: int = 18008,
    files_port: int = 18081,
    idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
    access_key: str | None = None,
    secret_key: str | None = None,
) -> ServerInfo:
    """Return the server running for data_dir, starting a detached one if there is none.

    Port 0 lets the system pick free ports. Raises PortInUseError naming host:port when a
    port is taken by another program.
    """
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    with _folder_lock(data_dir):
        state = read_state(data_dir)
        if state and ping(state["api_url"]):
            log.info("Reusing local ClearML server %s (pid %s)", state["api_url"], state["pid"])
            return _info(data_dir, state)
        load_or_create(data_dir, access_key, secret_key)
        _check_free(host, api_port)
        _check_free(host, files_port)
        pid = _spawn(data_dir, host, api_port, files_port, idle_timeout)
        state = _wait_ready(data_dir, pid)
        log.info(
            "Started local ClearML server %s (pid %d, data %s)", state["api_url"], pid, data_dir
        )
        return _info(data_dir, state)


def stop_server(data_dir: Path, timeout: float = 10.0) -> bool:
    """Stop the server running for data_dir; False when none was running."""
    data_dir = Path(data_dir).resolve()
    state = read_state(data_dir)
    if state is None:
        return False
    pid = int(state["pid"])
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid):
        log.warning("Server pid %d ignored SIGTERM; killing it", pid)
        os.kill(pid, signal.SIGKILL)
    child = _children.pop(pid, None)
    if child is not None:
        child.wait(timeout=timeout)
    with contextlib.suppress(FileNotFoundError):
        (data_dir / STATE_FILE).unlink()
    log.info("Stopped local ClearML server pid %d", pid)
    return True


__all__ = ["PortInUseError", "ServerInfo", "ensure_running", "read_state", "stop_server"]
