"""The hw5 pipeline: three trainers in parallel, then select_best, then notify."""

import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from iris_mlops import notify, registry, tracking
from iris_mlops.config import check_positive
from iris_mlops.errors import ConfigError, IrisMlopsError

log = logging.getLogger(__name__)

STEP_MODELS = ("logreg", "rf", "svc")


# Step functions: the SDK copies each one's source into a script of its own, so every
# import stays inside the function and values arrive as the step's parameters.


def train_step(config_json: str) -> dict:
    import json

    from omegaconf import OmegaConf

    from iris_mlops.training import train

    result = train(OmegaConf.create(json.loads(config_json)))
    return {
        "task_id": result.task_id,
        "model_id": result.model_id,
        "model": result.model,
        "accuracy": result.metrics["accuracy"],
    }


def select_best_step(project: str, model_name: str, group: str, best_tag: str) -> dict:
    from iris_mlops.pipeline import select_best

    return select_best(project, model_name, group, best_tag)


def notify_step(winner: dict, group: str, log_path: str) -> str:
    from pathlib import Path

    from clearml import Task

    from iris_mlops import notify

    task = Task.current_task()
    fields = {"pipeline": task.parent, "group": group, "status": "completed", **winner}
    return notify.append(Path(log_path), fields)


def select_best(project: str, model_name: str, group: str, best_tag: str) -> dict[str, Any]:
    """The most accurate model of this run's group, tagged `best_tag`; its id, name, accuracy."""
    rows = registry.query_registry(project, model_name, group, None, [])
    ranked = registry.rank_models(rows, top_k=1)
    if not ranked:
        raise IrisMlopsError(f"No registered model of group {group!r} to choose from.")
    best = ranked[0]
    registry.mark_best(best["model_id"], best_tag, rows)
    log.info(
        "Best of %d models: %s (accuracy %.4f)", len(rows), best["model_name"], best["accuracy"]
    )
    return {
        "winner": best["model_name"],
        "model_id": best["model_id"],
        "accuracy": best["accuracy"],
    }


def new_run_group(prefix: str) -> str:
    """A group of its own for one pipeline run, so select_best never sees earlier runs."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return f"{prefix}-{stamp}-{secrets.token_hex(2)}"


@dataclass
class StepMonitor:
    """Logs each step's start and end, with its status and duration, in the controller."""

    started: dict[str, float] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def on_start(self, pipeline, node, parameters) -> bool:
        self.started[node.name] = time.monotonic()
        log.info("Step %s started", node.name)
        return True

    def on_end(self, pipeline, node) -> None:
        seconds = time.monotonic() - self.started.get(node.name, time.monotonic())
        self.seconds[node.name] = seconds
        status = node.job.task.status if node.job else "skipped"
        log.info("Step %s %s in %.1f s", node.name, status, seconds)


@dataclass(frozen=True)
class StepReport:
    name: str
    status: str
    seconds: float | None
    task_id: str


@dataclass(frozen=True)
class PipelineReport:
    """How a pipeline run ended: its steps and, when it got that far, the winner."""

    pipeline_id: str
    group: str
    status: str
    steps: list[StepReport]
    winner: dict[str, Any] | None

    @property
    def ok(self) -> bool:
        return self.status == "completed"


def build(
    settings: dict[str, Any], step_configs: dict[str, dict], group: str, monitor: StepMonitor
):
    """A PipelineController with the five steps; settings hold names, queues and intervals."""
    from clearml import PipelineController

    pipe = PipelineController(
        name=settings["name"],
        project=settings["project"],
        version=settings["version"],
        # the controller polls its steps this often (minutes); the SDK default is 12 s
        pool_frequency=settings["poll_seconds"] / 60,
        add_pipeline_tags=False,
        # steps, and so their models, live in the project itself, where the registry looks
        target_project=settings["project"],
        output_uri=True,
    )
    pipe.add_tags([f"group:{group}"])
    step_args = {
        "auto_connect_frameworks": tracking.AUTO_CONNECT,
        "cache_executed_step": False,
        "pre_execute_callback": monitor.on_start,
        "post_execute_callback": monitor.on_end,
        "execution_queue": settings["queue"],
    }
    for model, config in step_configs.items():
        pipe.add_function_step(
            name=f"train_{model}",
            function=train_step,
            function_kwargs={"config_json": json.dumps(config)},
            function_return=["result"],
            task_type="training",
            **step_args,
        )
    pipe.add_function_step(
        name="select_best",
        function=select_best_step,
        function_kwargs={
            "project": settings["project"],
            "model_name": settings["model_name"],
            "group": group,
            "best_tag": settings["best_tag"],
        },
        function_return=["winner"],
        parents=[f"train_{model}" for model in step_configs],
        task_type="qc",
        **step_args,
    )
    pipe.add_function_step(
        name="notify",
        function=notify_step,
        function_kwargs={
            "winner": "${select_best.winner}",
            "group": group,
            "log_path": str(Path(settings["notifications_log"]).resolve()),
        },
        function_return=["line"],
        parents=["select_best"],
        task_type="custom",
        **step_args,
    )
    return pipe


def report(pipe, group: str, monitor: StepMonitor) -> PipelineReport:
    """Read the steps' outcome from the controller after the run."""
    steps = []
    for name, node in pipe.get_pipeline_dag().items():
        status = node.job.task.status if node.job else "skipped"
        steps.append(StepReport(name, str(status), monitor.seconds.get(name), node.executed or ""))
    ok = all(step.status == "completed" for step in steps)
    winner = None
    select = pipe.get_pipeline_dag().get("select_best")
    if ok and select and select.job:
        winner = select.job.task.artifacts["winner"].get()
    return PipelineReport(pipe.id, group, "completed" if ok else "failed", steps, winner)


def record_failure(result: PipelineReport, log_path: Path) -> None:
    """notify did not run: record the failed run in the same log, naming the failed steps."""
    # steps that never started because an earlier one failed are not named
    failed = [s.name for s in result.steps if s.status not in ("completed", "skipped")]
    notify.append(
        log_path,
        {
            "pipeline": result.pipeline_id,
            "group": result.group,
            "status": "failed",
            "winner": "failed:" + ",".join(failed),
        },
    )


EXECUTIONS = ("local", "agent")
_NAMED_SETTINGS = ("name", "group_prefix", "best_tag", "notifications_log", "queue")


def check_settings(settings: dict[str, Any]) -> None:
    """The `pipeline` settings, checked before any step config is built or any task created."""
    if settings["execution"] not in EXECUTIONS:
        raise ConfigError(
            f"pipeline.execution={settings['execution']!r} is not known; use one of "
            f"{', '.join(EXECUTIONS)}."
        )
    for key in _NAMED_SETTINGS:
        value = settings.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"pipeline.{key}={value!r} must be a non-empty name.")
    check_positive(settings["poll_seconds"], "pipeline.poll_seconds")


def run(settings: dict[str, Any], step_configs: dict[str, dict], group: str) -> PipelineReport:
    """Run the pipeline to its end, here or on agents, and record a failed run's outcome."""
    check_settings(settings)
    tracking.watch_server(tracking.require_server("hw5-pipeline"))
    local = settings["execution"] == "local"
    monitor = StepMonitor()
    pipe = build(
        {**settings, "queue": None if local else settings["queue"]}, step_configs, group, monitor
    )
    log.info("Starting pipeline %r (group %s, %s)", settings["name"], group, settings["execution"])
    if local:
        pipe.start_locally(run_pipeline_steps_locally=True)
    else:
        pipe.start(queue=settings["controller_queue"], wait=True)
    result = report(pipe, group, monitor)
    if not result.ok and "notify" not in {s.name for s in result.steps if s.status == "completed"}:
        record_failure(result, Path(settings["notifications_log"]))
    return result
