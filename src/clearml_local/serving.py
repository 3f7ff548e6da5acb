"""Running both listeners of the local server in the foreground, with an idle shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import uvicorn

from clearml_local.api import ServerState, make_api_app
from clearml_local.credentials import load_or_create
from clearml_local.fileserver import make_files_app
from clearml_local.registry import CallContext
from clearml_local.schemas import sdk_schemas
from clearml_local.services.queues import default_queue
from clearml_local.storage import Store

log = logging.getLogger(__name__)

STATE_FILE = "server.json"
DB_FILE = "clearml_local.sqlite3"
FILES_DIR = "files"
DEFAULT_MAX_UPLOAD = 512 * 1024 * 1024


class PortInUseError(RuntimeError):
    """A listener's port is taken by another program."""


class _Server(uvicorn.Server):
    # signals are handled once for both listeners, in serve()
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # an explicit IPPROTO_TCP lets asyncio set TCP_NODELAY on accepted connections; without
    # it every answer waits ~40 ms for a delayed ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise PortInUseError(
            f"Cannot listen on {host}:{port} ({exc.strerror}): another program uses it. "
            "Pick another port (--api-port/--files-port, or api_port=/files_port=)."
        ) from exc
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def base_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"


def _write_state(data_dir: Path, host: str, api_port: int, files_port: int) -> None:
    state = {
        "pid": os.getpid(),
        "host": host,
        "api_port": api_port,
        "files_port": files_port,
        "api_url": base_url(host, api_port),
        "files_url": base_url(host, files_port),
        "started": time.time(),
    }
    partial = data_dir / (STATE_FILE + ".partial")
    partial.write_text(json.dumps(state), encoding="utf-8")
    partial.replace(data_dir / STATE_FILE)


def _clear_state(data_dir: Path) -> None:
    path = data_dir / STATE_FILE
    with contextlib.suppress(OSError, ValueError):
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()


async def _run(state: ServerState, sockets: list[socket.socket], idle_timeout: float | None):
    servers = [
        _Server(
            uvicorn.Config(
                app,
                log_level="warning",
                lifespan="off",
                access_log=False,
                timeout_graceful_shutdown=5,
            )
        )
        for app in (make_api_app(state), make_files_app(state))
    ]

    def stop() -> None:
        for server in servers:
            server.should_exit = True

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)

    async def watch_idle() -> None:
        while not all(s.should_exit for s in servers):
            await asyncio.sleep(min(5.0, idle_timeout or 5.0))
            if idle_timeout and time.monotonic() - state.last_request > idle_timeout:
                log.info("No request for %.0f s: shutting down", idle_timeout)
                stop()

    watcher = asyncio.create_task(watch_idle())
    await asyncio.gather(
        *(s.serve(sockets=[sock]) for s, sock in zip(servers, sockets, strict=True))
    )
    watcher.cancel()


def serve(
    data_dir: Path,
    host: str = "127.0.0.1",
    api_port: int = 18008,
    files_port: int = 18081,
    idle_timeout: float | None = None,
    access_key: str | None = None,
    secret_key: str | None = None,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD,
    on_ready: Callable[[str, str], None] | None = None,
) -> None:
    """Run both listeners until a signal or the idle timeout; on_ready gets their URLs."""
    data_dir = Path(data_dir).resolve()
    (data_dir / FILES_DIR).mkdir(parents=True, exist_ok=True)
    credentials = load_or_create(data_dir, access_key, secret_key)
    sockets = [bind(host, api_port), bind(host, files_port)]
    api_port, files_port = (s.getsockname()[1] for s in sockets)
    store = Store(data_dir / DB_FILE)
    state = ServerState(store, credentials, data_dir / FILES_DIR, max_upload_bytes)
    # the real server always has a "default" queue; schedulers and pipelines look it up by name
    default_queue(CallContext(store, state.files_dir, credentials.identity()))

    # the SDK's schema classes take seconds to import; load them before the first call needs them
    threading.Thread(target=sdk_schemas, name="load-schemas", daemon=True).start()
    _write_state(data_dir, host, api_port, files_port)
    if on_ready is not None:
        on_ready(base_url(host, api_port), base_url(host, files_port))
    log.info(
        "Serving API on %s and files on %s", base_url(host, api_port), base_url(host, files_port)
    )
    try:
        asyncio.run(_run(state, sockets, idle_timeout))
    finally:
        _clear_state(data_dir)
        store.close()
        for sock in sockets:
            sock.close()
        log.info("Stopped; %d calls served: %s", state.calls.total(), dict(state.calls))
