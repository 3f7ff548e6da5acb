"""Backend choice and failures: offline mode, zero set-up, dead servers, wrong keys."""

import json
import re
import socket
import time

import pytest

from clearml_local import stop_server

from .clearml_local.local_api_client import Api
from .scripts_runner import output, run_script


def closed_port() -> int:
    """A loopback port with nothing listening (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def api(backend_api: Api) -> Api:
    return backend_api


def test_offline_mode_keeps_the_whole_run_in_the_session(tmp_path):
    cache = tmp_path / "cache"
    env = {"CLEARML_OFFLINE_MODE": "1", "CLEARML_CACHE_DIR": str(cache)}
    done = run_script("train", "model=svc", env=env, cwd=tmp_path)
    assert done.returncode == 0, output(done)
    assert "the model is not registered" in done.stderr

    (session,) = [path for path in (cache / "offline").iterdir() if path.is_dir()]
    task = json.loads((session / "task.json").read_text())
    assert task["hyperparams"]["cfg"]["model/name"]["value"] == "svc"
    events = [
        event
        for line in (session / "metrics.jsonl").read_text().splitlines()
        for event in json.loads(line)
    ]
    scalars = {e["metric"] for e in events if e["type"] == "training_stats_scalar"}
    assert {"accuracy", "f1_macro", "precision_macro", "recall_macro"} <= scalars
    assert any(e["type"] == "plot" and e["metric"] == "confusion_matrix" for e in events)
    artifacts = {path.name for path in session.glob("data/*/*/artifacts/*")}
    assert artifacts == {"metrics", "classification_report"}


@pytest.mark.parametrize(
    ("script", "keys"),
    [
        ("train", {"CLEARML_API_ACCESS_KEY": "a", "CLEARML_API_SECRET_KEY": "b"}),
        ("smoke", {"CLEARML_API_ACCESS_KEY": "a", "CLEARML_API_SECRET_KEY": "b"}),
        # with no keys at all, the dead server is still what gets reported
        ("train", {}),
    ],
)
def test_a_closed_port_fails_fast_naming_the_host(tmp_path, script, keys):
    host = f"http://127.0.0.1:{closed_port()}"
    env = {"CLEARML_API_HOST": host, **keys}
    started = time.monotonic()
    done = run_script(script, env=env, cwd=tmp_path, timeout=60)
    seconds = time.monotonic() - started
    assert done.returncode == 1
    assert f"The ClearML API server at {host} does not answer" in done.stderr
    assert seconds < 10, f"took {seconds:.1f} s"


@pytest.mark.parametrize("script", ["train", "smoke"])
def test_wrong_keys_get_their_own_message(backend_env, tmp_path, script):
    env = {**backend_env, "CLEARML_API_SECRET_KEY": "not-the-secret"}
    done = run_script(script, env=env, cwd=tmp_path)
    assert done.returncode == 1
    assert "rejected the API keys" in done.stderr
    assert backend_env["CLEARML_API_ACCESS_KEY"] in done.stderr


def test_an_unknown_override_key_is_refused_by_hydra(backend_env, tmp_path):
    done = run_script("train", "learning_rate=0.1", env=backend_env, cwd=tmp_path)
    assert done.returncode == 1
    assert "learning_rate" in done.stderr


def test_a_run_that_fails_after_its_task_exists_is_marked_failed(backend_env, api, tmp_path):
    group = f"fail-{time.time_ns()}"
    done = run_script(
        "train",
        "model=rf",
        "+model.bootstrap=false",
        "+model.oob_score=true",
        f"clearml.group={group}",
        env=backend_env,
        cwd=tmp_path,
    )
    assert done.returncode == 1
    (task,) = api.call("tasks.get_all", tags=[f"group:{group}"], only_fields=["id", "status"])[
        "tasks"
    ]
    assert task["status"] == "failed"
    log = api.call("events.get_task_log", task=task["id"], batch_size=500)["events"]
    assert any("Out of bag estimation" in event.get("msg", "") for event in log)


def test_smoke_check_passes_against_the_local_server(backend_env, api, tmp_path):
    done = run_script("smoke", env=backend_env, cwd=tmp_path)
    assert done.returncode == 0, output(done)
    assert "smoke check passed" in done.stdout
    task_id = re.search(r"task write\s+ok\s+task (\w+)", done.stdout).group(1)
    task = api.call("tasks.get_by_id", task=task_id)["task"]
    assert "archived" in task["system_tags"]


def test_with_nothing_configured_a_local_server_is_started_and_shared(tmp_path):
    data_dir = tmp_path / "local-data"
    ports = {
        "CLEARML_LOCAL_API_PORT": str(closed_port()),
        "CLEARML_LOCAL_FILES_PORT": str(closed_port()),
    }
    env = {"CLEARML_LOCAL_DIR": str(data_dir), **ports}
    try:
        trained = run_script("train", "model=rf", env=env, cwd=tmp_path)
        assert trained.returncode == 0, output(trained)
        assert f"local ClearML server at http://127.0.0.1:{ports['CLEARML_LOCAL_API_PORT']}" in (
            trained.stderr
        )
        model_id = re.search(r"model: (\w+)", trained.stdout).group(1)

        listed = run_script("list_models", "format=csv", env=env, cwd=tmp_path)
        assert listed.returncode == 0, output(listed)
        (row,) = listed.stdout.strip().splitlines()[1:]
        assert row.split(",")[1] == model_id
        assert "Reusing local ClearML server" in listed.stderr
    finally:
        stop_server(data_dir)


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("CLEARML_API_HOST", "localhost:8008", "is not an http(s) URL"),
        ("CLEARML_LOCAL_API_PORT", "eighty", "CLEARML_LOCAL_API_PORT='eighty'"),
        ("CLEARML_LOCAL_FILES_PORT", "70000", "CLEARML_LOCAL_FILES_PORT='70000'"),
    ],
)
def test_malformed_environment_is_named(tmp_path, variable, value, named):
    env = {variable: value, "CLEARML_API_ACCESS_KEY": "a", "CLEARML_API_SECRET_KEY": "b"}
    done = run_script("train", env=env, cwd=tmp_path)
    assert done.returncode == 1
    assert named in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("script", ["compare", "list_models", "pipeline"])
def test_offline_mode_says_the_registry_needs_a_server(tmp_path, script):
    env = {"CLEARML_OFFLINE_MODE": "1", "CLEARML_CACHE_DIR": str(tmp_path / "cache")}
    done = run_script(script, env=env, cwd=tmp_path)
    assert done.returncode == 1
    assert "needs a ClearML server, and CLEARML_OFFLINE_MODE is set" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "reports/hw5/notifications.log").exists()
