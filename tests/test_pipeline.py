"""The pipeline and the scheduler end to end against a local server."""

import json
import os
import re
import signal
import subprocess
import sys
import threading

import pytest

from iris_mlops.notify import parse_line

from .clearml_local.local_api_client import Api
from .paths import SCRIPTS_DIR
from .scripts_runner import output, run_script

MODEL_NAME = "iris-hw5-classifier"
NOTIFICATIONS = "reports/hw5/notifications.log"


@pytest.fixture
def api(backend_api: Api) -> Api:
    return backend_api


def run_group(done) -> str:
    return re.search(r"group (hw5-pipe-[\w-]+)", done.stdout).group(1)


def score(model: dict) -> tuple[float, float]:
    """A model's accuracy and f1_macro, from its metadata on the server."""
    values = {entry["key"]: entry["value"] for entry in model["metadata"].values()}
    return float(values["accuracy"]), float(json.loads(values["metrics_json"])["f1_macro"])


@pytest.mark.slow
def test_two_pipeline_runs_each_pick_their_own_best(backend_env, api, tmp_path):
    first = run_script("pipeline", env=backend_env, cwd=tmp_path)
    assert first.returncode == 0, output(first)
    second = run_script("pipeline", "seed=7", env=backend_env, cwd=tmp_path)
    assert second.returncode == 0, output(second)

    lines = (tmp_path / NOTIFICATIONS).read_text().splitlines()
    assert len(lines) == 2
    for done, line in zip((first, second), lines, strict=True):
        group, notice = run_group(done), parse_line(line)
        assert notice["group"] == group and notice["status"] == "completed"
        models = {
            model["id"]: model
            for model in api.call(
                "models.get_all", tags=[f"group:{group}"], only_fields=["id", "tags", "metadata"]
            )["models"]
        }
        assert len(models) == 3
        winner = models[notice["model_id"]]
        assert score(winner) == max(score(model) for model in models.values())
        assert [m["id"] for m in models.values() if "best" in m["tags"]] == [winner["id"]]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", notice["time"])
        assert f"winner: {notice['winner']}" in done.stdout
        for step in ("train_logreg", "train_rf", "train_svc", "select_best", "notify"):
            assert re.search(rf"Step {step} started", done.stderr)
            assert re.search(rf"Step {step} completed in [\d.]+ s", done.stderr)
    assert run_group(first) != run_group(second)


@pytest.mark.slow
def test_a_failing_step_fails_the_pipeline_and_is_recorded(backend_env, api, tmp_path):
    # each value passes the config checks; together they fail only when the forest is fitted
    overrides = 'step_overrides.rf=["+model.bootstrap=false","+model.oob_score=true"]'
    done = run_script("pipeline", overrides, env=backend_env, cwd=tmp_path)
    assert done.returncode == 1, output(done)
    group = re.search(r"group (hw5-pipe-[\w-]+)", output(done)).group(1)
    (line,) = (tmp_path / NOTIFICATIONS).read_text().splitlines()
    notice = parse_line(line)
    assert notice["status"] == "failed" and notice["group"] == group
    assert "train_rf" in notice["winner"]
    tasks = api.call("tasks.get_all", tags=[f"group:{group}"], only_fields=["name", "status"])[
        "tasks"
    ]
    status = {task["name"]: task["status"] for task in tasks}
    assert status["train_rf"] == "failed"
    assert status["train_logreg"] == "completed" and status["train_svc"] == "completed"
    assert "select_best" not in status


def test_bad_pipeline_settings_stop_before_it_starts(backend_env, tmp_path):
    done = run_script(
        "pipeline", 'step_overrides.svc=["model.C=-1"]', env=backend_env, cwd=tmp_path
    )
    assert done.returncode == 1
    assert "model=svc" in output(done) and "Traceback" not in output(done)
    assert not (tmp_path / NOTIFICATIONS).exists()


@pytest.mark.slow
def test_scheduler_demo_fires_the_pipeline_once_and_exits(backend_env, api, tmp_path):
    done = run_script("scheduler", env=backend_env, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, output(done)
    (line,) = (tmp_path / NOTIFICATIONS).read_text().splitlines()
    notice = parse_line(line)
    assert notice["status"] == "completed"
    schedulers = api.call("tasks.get_all", name="^hw5-scheduler$", only_fields=["id", "type"])[
        "tasks"
    ]
    assert schedulers and all(task["type"] == "service" for task in schedulers)
    # the pipeline opened a controller task of its own, not the scheduler's
    assert notice["pipeline"] not in {task["id"] for task in schedulers}
    controller = api.call("tasks.get_by_id", task=notice["pipeline"])["task"]
    assert controller["name"].startswith("hw5-pipeline") and controller["type"] == "controller"


@pytest.mark.parametrize(
    ("overrides", "named"), [(["mode=daily"], "mode='daily'"), (["minute=60"], "minute=60")]
)
def test_bad_schedule_is_rejected(backend_env, tmp_path, overrides, named):
    done = run_script("scheduler", *overrides, env=backend_env, cwd=tmp_path)
    assert done.returncode == 1
    assert named in output(done)


def test_ctrl_c_stops_the_hourly_scheduler_cleanly(backend_env, api, tmp_path):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("CLEARML_", "IRIS_MLOPS_"))}
    task_name = f"hw5-scheduler-{tmp_path.name}"
    command = [
        sys.executable,
        str(SCRIPTS_DIR / "hw5_clearml_scheduler.py"),
        "mode=hourly",
        f"task_name={task_name}",
    ]
    process = subprocess.Popen(
        command,
        cwd=tmp_path,
        env={**base, **backend_env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # a scheduler that never reaches its wait is killed, and the test fails below
    watchdog = threading.Timer(120, process.kill)
    watchdog.start()
    try:
        seen = []
        for line in process.stdout:
            seen.append(line)
            if "Waiting for next run" in line:
                process.send_signal(signal.SIGINT)
                break
        code = process.wait(timeout=60)
        seen.extend(process.stdout)
    finally:
        watchdog.cancel()
        process.kill()
    assert code == 130, "".join(seen)
    assert "Interrupted" in "".join(seen)
    (task,) = api.call("tasks.get_all", name=f"^{task_name}$", only_fields=["status"])["tasks"]
    assert task["status"] != "in_progress"
