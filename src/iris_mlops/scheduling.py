"""A ClearML TaskScheduler (UTC) that launches the pipeline: hourly, or once as a demo."""

import logging
import os
import subprocess
import threading
import time
from dataclasses import dataclass, field

from iris_mlops import tracking
from iris_mlops.errors import ConfigError, IrisMlopsError

log = logging.getLogger(__name__)

MODES = ("demo", "hourly")


@dataclass
class PipelineLauncher:
    """The scheduled job: one pipeline run as a process of its own, its exit code kept."""

    command: list[str]
    finished: threading.Event = field(default_factory=threading.Event)
    exit_codes: list[int] = field(default_factory=list)

    def __call__(self) -> None:
        log.info("Scheduler fired: %s", " ".join(self.command))
        started = time.monotonic()
        try:
            code = subprocess.run(self.command, env=_without_task(os.environ)).returncode
        except OSError as error:
            log.error("Cannot start the pipeline: %s", error)
            code = 1
        self.exit_codes.append(code)
        log.info(
            "Scheduled pipeline run ended with exit code %d in %.0f s",
            code,
            time.monotonic() - started,
        )
        self.finished.set()


def _without_task(environ) -> dict[str, str]:
    """The environment minus the SDK's current-task variables, so the child opens its own."""
    inherited = {
        "CLEARML_TASK_ID",
        "TRAINS_TASK_ID",
        "CLEARML_PROC_MASTER_ID",
        "TRAINS_PROC_MASTER_ID",
    }
    return {key: value for key, value in environ.items() if key not in inherited}


def check_schedule(mode: str, minute) -> None:
    if mode not in MODES:
        raise ConfigError(f"mode={mode!r} is not known; use one of {', '.join(MODES)}.")
    if isinstance(minute, bool) or not isinstance(minute, int) or not 0 <= minute <= 59:
        raise ConfigError(f"minute={minute!r} is not a minute of the hour; use 0 to 59.")


def create_scheduler(
    project: str, task_name: str, launcher: PipelineLauncher, mode: str, minute: int
):
    """A TaskScheduler with its own service task and the pipeline job of the given mode."""
    from clearml.automation import TaskScheduler

    tracking.require_server("hw5-scheduler")
    scheduler = TaskScheduler(
        sync_frequency_minutes=1,
        force_create_task_name=task_name,
        force_create_task_project=project,
    )
    if mode == "hourly":
        # hour=1 with minute=m: at minute m of every UTC hour
        scheduler.add_task(
            name="hw5-pipeline hourly",
            schedule_function=launcher,
            hour=1,
            minute=minute,
            recurring=True,
            single_instance=True,
        )
    else:
        # the SDK wants a schedule even for a single run; execute_immediately fires it now
        scheduler.add_task(
            name="hw5-pipeline demo",
            schedule_function=launcher,
            hour=1,
            minute=minute,
            execute_immediately=True,
            recurring=False,
        )
    return scheduler


def run_demo(scheduler, launcher: PipelineLauncher, timeout_s: float) -> int:
    """Let the scheduler fire the job once, wait for the run and return its exit code."""
    threading.Thread(target=scheduler.start, name="scheduler", daemon=True).start()
    if not launcher.finished.wait(timeout_s):
        raise IrisMlopsError(f"The scheduled pipeline did not finish within {timeout_s:.0f} s.")
    return launcher.exit_codes[-1]
