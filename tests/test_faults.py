"""Faults: a server killed mid-run, several clients at once, outputs that cannot be written."""

import contextlib
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from clearml_local import ServerInfo, ensure_running, stop_server

from .clearml_local.local_api_client import Api
from .scripts_runner import output, run_script

METRICS = {"accuracy", "f1_macro", "precision_macro", "recall_macro"}
SWEEP_RUNS = "runs=[logreg_c01,rf_n100,svc_rbf_c1]"
# a dead server must stop a script well before this; a hang fails the test instead
HANG_TIMEOUT_S = 240
# root ignores permission bits, so a read-only folder would not make writes fail
AS_ROOT = os.geteuid() == 0


@contextlib.contextmanager
def dedicated_server(data_dir: Path) -> Iterator[ServerInfo]:
    """A local server of its own on free ports, stopped at the end even if it was killed."""
    info = ensure_running(data_dir, api_port=0, files_port=0, idle_timeout=600)
    try:
        yield info
    finally:
        stop_server(data_dir)


def ports(info: ServerInfo) -> dict[str, int]:
    return {
        "api_port": urlsplit(info.api_url).port,
        "files_port": urlsplit(info.files_url).port,
    }


def tasks_of(api: Api, group: str) -> list[dict]:
    fields = ["id", "name", "status", "last_metrics", "execution.artifacts"]
    return api.call("tasks.get_all", tags=[f"group:{group}"], only_fields=fields)["tasks"]


def wait_for(condition: Callable[[], bool], running: Future, what: str) -> None:
    """Poll until `condition` holds; fail if the script ends first."""
    deadline = time.monotonic() + HANG_TIMEOUT_S
    while not condition():
        if running.done():
            pytest.fail(f"the script ended before {what}: {output(running.result())}")
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.1)


def kill_when(info: ServerInfo, condition: Callable[[Api], bool], running: Future) -> None:
    api = Api(info)
    wait_for(lambda: condition(api), running, "the moment to kill the server")
    os.kill(info.pid, 9)


def metric_names(task: dict) -> set[str]:
    return {
        entry["metric"]
        for variants in (task.get("last_metrics") or {}).values()
        for entry in variants.values()
        if entry["variant"] == "test"
    }


def download(info: ServerInfo, api: Api, url: str) -> requests.Response:
    assert url.startswith(info.files_url), url
    reply = api.http.get(url, timeout=10)
    assert reply.status_code == 200, (url, reply.status_code)
    return reply


def assert_run_intact(info: ServerInfo, api: Api, task: dict) -> None:
    """A finished run as the report wants it: metrics, both artifacts and a model with metadata."""
    assert task["status"] == "completed"
    assert metric_names(task) == METRICS
    artifacts = {item["key"]: item["uri"] for item in task["execution"]["artifacts"]}
    assert 0 < download(info, api, artifacts["metrics"]).json()["accuracy"] <= 1
    assert "text" in download(info, api, artifacts["classification_report"]).json()
    (model,) = api.call(
        "models.get_all", task=[task["id"]], only_fields=["id", "uri", "metadata", "ready"]
    )["models"]
    metadata = {entry["key"]: entry["value"] for entry in model["metadata"].values()}
    assert {"model_name", "seed", "test_size", "accuracy", "metrics_json"} <= set(metadata)
    assert len(download(info, api, model["uri"]).content) > 0


@pytest.mark.slow
def test_sweep_survives_a_killed_local_server(clearml_env, tmp_path):
    group = f"kill-{uuid.uuid4().hex[:8]}"
    data_dir = tmp_path / "server"
    with dedicated_server(data_dir) as info, ThreadPoolExecutor(1) as pool:
        env = {**clearml_env, **info.environment()}
        args = ("experiments", "parallel=1", f"group={group}", SWEEP_RUNS)
        sweep = pool.submit(run_script, *args, env=env, cwd=tmp_path, timeout=HANG_TIMEOUT_S)

        def one_done_one_running(api: Api) -> bool:
            status = [task["status"] for task in tasks_of(api, group)]
            return "completed" in status and "in_progress" in status

        kill_when(info, one_done_one_running, sweep)
        killed_at = time.monotonic()
        interrupted = sweep.result()
        seconds_after_kill = time.monotonic() - killed_at

        restarted = ensure_running(data_dir, **ports(info), idle_timeout=600)
        assert restarted.pid != info.pid
        api = Api(restarted)
        tasks = tasks_of(api, group)
        finished = [task for task in tasks if task["status"] == "completed"]
        assert finished and len(finished) < len(tasks)
        for task in finished:
            assert_run_intact(restarted, api, task)
        assert interrupted.returncode == 1
        assert "does not answer" in output(interrupted)
        assert output(interrupted).count("FAILED") >= 2 * (3 - len(finished))
        print(f"sweep exited {seconds_after_kill:.1f} s after the kill")

        rerun = run_script(*args, env={**clearml_env, **restarted.environment()}, cwd=tmp_path)
        assert rerun.returncode == 0, output(rerun)
        assert "[3/3]" in rerun.stderr
        completed = [task for task in tasks_of(api, group) if task["status"] == "completed"]
        assert len(completed) == len(finished) + 3


def seed_group(api: Api, group: str, count: int) -> str:
    """A project with `count` finished runs of `group`, written through the raw API."""
    project = api.call("projects.create", name=f"iris-mlops-hw5-{group}")["id"]
    for number in range(count):
        scores = dict.fromkeys(METRICS, 0.5 + number / 100)
        api.create_scored_task(project, f"seeded-{number}", [f"group:{group}"], scores)
    return api.call("projects.get_by_id", project=project)["project"]["name"]


@pytest.mark.slow
def test_several_clients_at_once_lose_nothing(clearml_env, tmp_path):
    group = f"busy-{uuid.uuid4().hex[:8]}"
    with dedicated_server(tmp_path / "server") as info, ThreadPoolExecutor(3) as pool:
        api = Api(info)
        seeded_project = seed_group(api, f"{group}-seeded", 30)
        env = {**clearml_env, **info.environment()}
        runs = {
            "pipeline": pool.submit(run_script, "pipeline", env=env, cwd=tmp_path),
            "compare": pool.submit(
                run_script,
                "compare",
                f"group={group}-seeded",
                f"clearml.project={seeded_project}",
                env=env,
                cwd=tmp_path,
            ),
            "sweep": pool.submit(
                run_script, "experiments", f"group={group}", SWEEP_RUNS, env=env, cwd=tmp_path
            ),
        }
        done = {name: future.result() for name, future in runs.items()}
        for name, process in done.items():
            assert process.returncode == 0, (name, output(process))
            assert "database is locked" not in output(process)
        server_log = (info.data_dir / "server.log").read_text(errors="replace")
        assert "database is locked" not in server_log

        pipeline_group = re.search(r"group (hw5-pipe-[\w-]+)", done["pipeline"].stdout).group(1)
        assert len(done["compare"].stdout.strip().splitlines()) >= 12
        for tracked in (group, pipeline_group):
            trainings = [t for t in tasks_of(api, tracked) if t["name"] != "select_best"]
            trainings = [t for t in trainings if t["name"] not in ("notify", "hw5-pipeline")]
            assert len(trainings) == 3
            for task in trainings:
                assert_run_intact(info, api, task)


def fail_dead_server_mid_run(info: ServerInfo, running: Future) -> None:
    def a_step_is_training(api: Api) -> bool:
        tasks = api.call("tasks.get_all", name="^train_", only_fields=["status"])["tasks"]
        return any(task["status"] == "in_progress" for task in tasks)

    kill_when(info, a_step_is_training, running)


@pytest.mark.slow
def test_pipeline_stops_when_its_server_goes_away(clearml_env, tmp_path):
    with dedicated_server(tmp_path / "server") as info, ThreadPoolExecutor(1) as pool:
        env = {**clearml_env, **info.environment()}
        running = pool.submit(
            run_script, "pipeline", env=env, cwd=tmp_path, timeout=HANG_TIMEOUT_S
        )
        fail_dead_server_mid_run(info, running)
        done = running.result()
    assert done.returncode == 1, output(done)
    assert f"The ClearML API server at {info.api_url} does not answer" in done.stderr
    assert "winner:" not in done.stdout


def blocked_folder(tmp_path: Path) -> Path:
    """A folder nothing can be written to: read-only, or, as root, a file in its place."""
    if AS_ROOT:
        blocker = tmp_path / "blocked"
        blocker.write_text("not a folder")
        return blocker
    folder = tmp_path / "blocked"
    folder.mkdir()
    folder.chmod(0o555)
    return folder


def compare_into(target: Path, env: dict, server, tmp_path: Path):
    """hw5-compare of a freshly seeded group, its summary CSV aimed at `target`."""
    group = f"out-{uuid.uuid4().hex[:8]}"
    project = seed_group(Api(server), group, 3)
    return run_script(
        "compare",
        f"group={group}",
        f"clearml.project={project}",
        f"csv_path={target}",
        f"chart_path={tmp_path / 'top.png'}",
        env=env,
        cwd=tmp_path,
    )


def test_summary_that_cannot_be_written_leaves_nothing(clearml_env, local_server, tmp_path):
    target = blocked_folder(tmp_path) / "summary.csv"
    done = compare_into(target, clearml_env, local_server, tmp_path)
    assert done.returncode == 1
    assert f"Cannot write {target}" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "top.png").exists()
    # write_atomically's temporary files are named .<target name>.<random>
    leftovers = [p.name for p in tmp_path.rglob("*") if p.name.startswith((".summary", ".top"))]
    assert leftovers == []


def test_summary_path_that_is_a_folder_is_not_replaced(clearml_env, local_server, tmp_path):
    target = tmp_path / "summary.csv"
    target.mkdir()
    (target / "keep").write_text("kept")
    done = compare_into(target, clearml_env, local_server, tmp_path)
    assert done.returncode == 1
    assert str(target) in done.stderr and "Traceback" not in done.stderr
    assert (target / "keep").read_text() == "kept"
    assert sorted(path.name for path in target.iterdir()) == ["keep"]
    assert not list(tmp_path.glob(".summary.csv.*")) and not (tmp_path / "top.png").exists()


@pytest.mark.slow
def test_notifications_log_that_cannot_be_written(clearml_env, tmp_path):
    target = blocked_folder(tmp_path) / "notifications.log"
    done = run_script(
        "pipeline", f"pipeline.notifications_log={target}", env=clearml_env, cwd=tmp_path
    )
    assert done.returncode == 1
    assert f"Cannot write the notifications log {target}" in output(done)
    assert not target.exists()
