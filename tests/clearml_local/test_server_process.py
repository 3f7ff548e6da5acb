"""Starting, reusing and stopping servers; persistence, limits, concurrency and scale."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from clearml_local import PortInUseError, ensure_running, stop_server
from clearml_local.storage import Store

from .local_api_client import Api


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def data_dir(tmp_path):
    yield tmp_path / "server"
    stop_server(tmp_path / "server")


def test_concurrent_ensure_running_starts_one_server_and_reuses_it(data_dir):
    with ThreadPoolExecutor(4) as pool:
        infos = list(
            pool.map(lambda _: ensure_running(data_dir, api_port=0, files_port=0), range(4))
        )

    assert len({info.pid for info in infos}) == 1
    assert ensure_running(data_dir, api_port=0, files_port=0).pid == infos[0].pid
    mode = stat.S_IMODE((data_dir / "credentials.json").stat().st_mode)
    assert mode == 0o600
    assert stop_server(data_dir) is True
    assert stop_server(data_dir) is False


def test_taken_port_is_reported_with_host_and_port(data_dir):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortInUseError, match=f"127.0.0.1:{port}.*another port"):
            ensure_running(data_dir, api_port=port, files_port=0)


def test_data_and_urls_survive_a_restart(data_dir):
    ports = {"api_port": _free_port(), "files_port": _free_port()}
    first = ensure_running(data_dir, **ports)
    api = Api(first)
    project = api.call("projects.create", name="keep")["id"]
    task = api.call("tasks.create", name="kept", type="training", project=project)["id"]
    api.http.post(f"{first.files_url}/", files={"keep/file.txt": ("file.txt", b"still here")})
    stop_server(data_dir)

    second = ensure_running(data_dir, **ports)
    again = Api(second)

    assert second.pid != first.pid
    assert (second.api_url, second.access_key) == (first.api_url, first.access_key)
    assert again.call("tasks.get_by_id", task=task)["task"]["name"] == "kept"
    assert again.http.get(f"{second.files_url}/keep/file.txt").content == b"still here"


def test_cli_serve_prints_exports_limits_uploads_and_stops_when_idle(tmp_path):
    folder = tmp_path / "cli"
    command = [sys.executable, "-m", "clearml_local", "serve", "--data-dir", str(folder)]
    command += ["--api-port", "0", "--files-port", "0", "--idle-timeout", "2"]
    command += ["--max-upload-bytes", "1000"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    exports = dict(
        process.stdout.readline().strip().removeprefix("export ").split("=", 1) for _ in range(5)
    )
    state = json.loads((folder / "server.json").read_text())
    api = Api(_info_from(exports, folder))

    too_big = api.http.post(f"{state['files_url']}/", files={"big.bin": ("b", b"x" * 5000)})
    small = api.http.post(f"{state['files_url']}/", files={"small.bin": ("s", b"x" * 10)})

    assert exports["CLEARML_API_HOST"] == state["api_url"]
    assert too_big.status_code == 413 and small.status_code == 200
    assert process.wait(timeout=15) == 0
    assert not (folder / "server.json").exists()


def _info_from(exports, folder):
    from clearml_local import ServerInfo

    return ServerInfo(
        api_url=exports["CLEARML_API_HOST"],
        files_url=exports["CLEARML_FILES_HOST"],
        web_url=None,
        access_key=exports["CLEARML_API_ACCESS_KEY"],
        secret_key=exports["CLEARML_API_SECRET_KEY"],
        data_dir=folder,
        pid=0,
    )


def _writer(info, task, worker):
    api = Api(info)
    for i in range(25):
        api.call("tasks.create", name=f"w{worker}-{i}", type="training", project=task["project"])
        api.events(
            [
                {
                    "type": "training_stats_scalar",
                    "task": task["id"],
                    "metric": "m",
                    "variant": f"w{worker}",
                    "value": float(i),
                    "iter": i,
                }
            ]
        )
    return worker


def test_parallel_clients_lose_no_write(api, unique, local_server):
    project = api.call("projects.create", name=unique)["id"]
    task = {"id": api.call("tasks.create", name="shared", type="training", project=project)["id"]}
    task["project"] = project

    with ProcessPoolExecutor(4) as pool:
        done = list(pool.map(_writer, [local_server] * 4, [task] * 4, range(4)))

    tasks = api.call("tasks.get_all", project=[project], only_fields=["id"])["tasks"]
    events = api.call("events.get_task_events", task=task["id"], batch_size=1000)
    metrics = api.call("tasks.get_by_id", task=task["id"])["task"]["last_metrics"]
    assert done == [0, 1, 2, 3]
    assert len(tasks) == 4 * 25 + 1
    assert events["total"] == 100
    assert sorted(e["count"] for v in metrics.values() for e in v.values()) == [25] * 4


def _store_with_tasks(folder: Path, count: int) -> None:
    (folder / "files").mkdir(parents=True)
    store = Store(folder / "clearml_local.sqlite3")
    template = {
        "type": "training",
        "status": "completed",
        "project": "p",
        "tags": ["sweep"],
        "system_tags": [],
        "script": {"entry_point": "train.py", "requirements": {"pip": "x\n" * 200}},
        "hyperparams": {"cfg": {f"k{i}": {"name": f"k{i}", "value": "1"} for i in range(20)}},
    }
    for i in range(count):
        created = f"2024-01-01T00:00:{i:05d}"
        store.put(
            "tasks", {**template, "id": f"task{i:05d}", "name": f"run {i}", "created": created}
        )
    store.close()


def test_get_all_pages_and_orders_ten_thousand_stored_tasks(tmp_path):
    folder = tmp_path / "big"
    _store_with_tasks(folder, 10_000)
    info = ensure_running(folder, api_port=0, files_port=0)
    try:
        api = Api(info)
        # the first call after a start also waits for the SDK schemas to load
        api.call("tasks.get_all", id=["warm-up"])
        page = api.call(
            "tasks.get_all",
            project=["p"],
            name="^run",
            tags=["sweep"],
            order_by=["-created"],
            only_fields=["id", "name"],
            page=19,
            page_size=500,
        )
    finally:
        stop_server(folder)

    # the last page of twenty, newest first: runs 499 down to 0
    assert [task["name"] for task in page["tasks"]] == [f"run {i}" for i in range(499, -1, -1)]


def test_ping_needs_no_auth_and_reports_the_server(local_server):
    response = requests.get(f"{local_server.api_url}/debug.ping", timeout=5)
    assert response.json()["data"]["msg"].startswith("ClearML")
    assert os.path.isdir(Path(local_server.data_dir) / "files")
