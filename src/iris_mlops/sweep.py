"""The experiment sweep: every run is a separate hw5-train process with its own ClearML task."""

import json
import logging
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from iris_mlops import tracking
from iris_mlops.config import check_names
from iris_mlops.errors import ConfigError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOutcome:
    """How one run of the sweep ended."""

    experiment: str
    ok: bool
    seconds: float
    model: str = ""
    accuracy: float | None = None
    task_id: str = ""
    model_id: str = ""
    error: str = ""


def check_sweep(experiments: list[str], parallel: int, known: set[str]) -> None:
    """The run list must name known experiment overlays, and parallelism must be 1 or more."""
    if not experiments:
        raise ConfigError("runs=[] is empty; list experiments from conf/experiment/.")
    unknown = [name for name in experiments if name not in known]
    if unknown:
        raise ConfigError(
            f"runs contains {unknown[0]!r}, which is not an experiment; known ones: "
            f"{', '.join(sorted(known))}."
        )
    if isinstance(parallel, bool) or not isinstance(parallel, int) or parallel < 1:
        raise ConfigError(f"parallel={parallel!r} is not valid; use a whole number of 1 or more.")


def known_experiments(conf_dir: Path) -> set[str]:
    return {path.stem for path in (conf_dir / "experiment").glob("*.yaml")}


def run_sweep(
    train_command: list[str],
    experiments: list[str],
    group: str,
    overrides: list[str],
    parallel: int,
) -> list[RunOutcome]:
    """Run every experiment of the group, reporting progress; a failed run does not stop others."""
    check_names({"group": group}, ("group",))
    # choose (or start) the backend once; the runs inherit it through the environment
    tracking.select_backend()
    started = time.monotonic()
    outcomes: list[RunOutcome] = []
    with tempfile.TemporaryDirectory() as results_dir, ThreadPoolExecutor(parallel) as pool:
        futures = [
            pool.submit(_run_one, train_command, name, group, overrides, Path(results_dir))
            for name in experiments
        ]
        for done, future in enumerate(as_completed(futures), start=1):
            outcome = future.result()
            outcomes.append(outcome)
            log.info("%s", _progress_line(done, len(experiments), outcome, started))
    order = {name: index for index, name in enumerate(experiments)}
    return sorted(outcomes, key=lambda outcome: order[outcome.experiment])


def _progress_line(done: int, total: int, outcome: RunOutcome, started: float) -> str:
    result = f"accuracy {outcome.accuracy:.4f}" if outcome.ok else "FAILED"
    return (
        f"[{done}/{total}] {outcome.experiment} ({outcome.model or '?'}): {result} in "
        f"{outcome.seconds:.1f} s, {time.monotonic() - started:.0f} s elapsed"
    )


def _run_one(
    train_command: list[str], name: str, group: str, overrides: list[str], results_dir: Path
) -> RunOutcome:
    result_file = results_dir / f"{name}.json"
    command = [
        *train_command,
        f"experiment={name}",
        f"clearml.group={group}",
        f"clearml.task_name=hw5-{name}",
        f"result_file={result_file}",
        *overrides,
    ]
    started = time.monotonic()
    process = subprocess.run(command, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if process.returncode != 0 or not result_file.is_file():
        return RunOutcome(name, ok=False, seconds=seconds, error=_last_error(process.stderr))
    result = json.loads(result_file.read_text())
    return RunOutcome(
        name,
        ok=True,
        seconds=seconds,
        model=result["model"],
        accuracy=result["metrics"]["accuracy"],
        task_id=result["task_id"],
        model_id=result["model_id"] or "",
    )


def _last_error(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    errors = [line for line in lines if "ERROR" in line or "Error" in line]
    return (errors or lines or ["exited without a result"])[-1][-300:]
