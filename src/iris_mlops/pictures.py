"""The report's pictures, each drawn from what the ClearML server in use holds."""

import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # pictures are written to files, never shown

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from iris_mlops import comparison, registry, tracking
from iris_mlops.errors import ConfigError, IrisMlopsError
from iris_mlops.evaluation import METRIC_NAMES
from iris_mlops.files import write_atomically

log = logging.getLogger(__name__)

PICTURES = {
    "experiments": "hw5_clearml_experiments.png",
    "models": "hw5_clearml_models.png",
    "plots": "hw5_clearml_plots.png",
    "pipeline": "hw5_clearml_pipeline.png",
}
TRAIN_STEPS = ("train_logreg", "train_rf", "train_svc")
STEP_NAMES = (*TRAIN_STEPS, "select_best", "notify")
STATUS_COLORS = {"completed": "#8fd19e", "failed": "#f1948a", "in_progress": "#f9e79f"}
DPI = 120


class MissingSource(IrisMlopsError):
    """The server holds nothing yet to draw a picture from."""


@dataclass(frozen=True)
class Settings:
    """Where the pictures' data lives and how much of it to show."""

    project: str
    model_name: str
    group: str
    experiments_top_k: int
    models_top_k: int
    metric: str
    tiebreak: str
    pipeline_name: str
    pipeline_group: str | None


def check_settings(settings: Settings, only: Sequence[str]) -> None:
    unknown = [name for name in only if name not in PICTURES]
    if unknown or not only:
        raise ConfigError(
            f"only={list(only)!r} is not valid; list one or more of {', '.join(PICTURES)}."
        )
    comparison.check_ranking(settings.experiments_top_k, settings.metric, settings.tiebreak)
    registry.check_top_k(settings.models_top_k)


def generate(
    settings: Settings, out_dir: Path, only: Sequence[str]
) -> tuple[list[Path], list[str]]:
    """Write each picture in `only`; the written paths and the names of those skipped."""
    tracking.require_server("hw5-pictures")
    drawers: dict[str, Callable[[Settings], Figure]] = {
        "experiments": experiments_picture,
        "models": models_picture,
        "plots": plots_picture,
        "pipeline": pipeline_picture,
    }
    written, skipped = [], []
    for name in only:
        path = out_dir / PICTURES[name]
        log.info("Drawing %s", path)
        try:
            figure = drawers[name](settings)
        except MissingSource as error:
            log.error("Skipped %s: %s", path, error)
            skipped.append(name)
            continue
        save(figure, path)
        written.append(path)
    return written, skipped


def save(figure: Figure, path: Path) -> None:
    write_atomically(path, lambda tmp: figure.savefig(tmp, dpi=DPI, bbox_inches="tight"))
    plt.close(figure)
    log.info("Wrote %s", path)


# Experiments: the sweep group's ranking, as hw5-compare computes it.


def experiments_ranking(settings: Settings, top_k: int) -> comparison.Ranking:
    """The group's top-k runs by metric; MissingSource when the group has no scored run."""
    runs = comparison.fetch_group_runs(settings.project, settings.group)
    ranking = comparison.rank_runs(runs, top_k, settings.metric, settings.tiebreak)
    if ranking.table.empty:
        raise MissingSource(
            f"no experiment of group {settings.group!r} in project {settings.project!r} has "
            "metrics; run hw5-experiments first, or pass group=<name> of an existing sweep."
        )
    return ranking


def experiments_picture(settings: Settings) -> Figure:
    ranking = experiments_ranking(settings, settings.experiments_top_k)
    title = (
        f"Эксперименты (top-{settings.experiments_top_k} {settings.metric})\n"
        f"group {settings.group}: {len(ranking.table)} of {ranking.runs_found} runs shown"
    )
    return comparison.ranking_chart(ranking.table, settings.metric, title)


# Models: the registry's top-k, as hw5-list-models ranks it.

MODEL_COLUMNS = [
    "rank",
    "model id",
    "tags",
    "model_name",
    "seed",
    "test_size",
    "accuracy",
    "created",
]


def model_rows(settings: Settings) -> list[dict[str, Any]]:
    """The registry's top-k models by accuracy; MissingSource when none is registered."""
    rows = registry.query_registry(settings.project, settings.model_name, None, None, [])
    ranked = registry.rank_models(rows, settings.models_top_k)
    if not ranked:
        raise MissingSource(
            f"no registered model {settings.model_name!r} with an accuracy in project "
            f"{settings.project!r}; run hw5-experiments (or hw5-train) first."
        )
    return ranked


def model_table(rows: list[dict[str, Any]]) -> list[list[str]]:
    """The cells of the models picture, one row per model, in MODEL_COLUMNS order."""
    return [
        [
            str(row["rank"]),
            row["model_id"][:8],
            row["tags"],
            str(row["model_name"]),
            str(row["seed"]),
            str(row["test_size"]),
            f"{row['accuracy']:.4f}",
            str(row["created"])[:19].replace("T", " "),
        ]
        for row in rows
    ]


def models_picture(settings: Settings) -> Figure:
    cells = model_table(model_rows(settings))
    figure, axes = plt.subplots(figsize=(15, 0.3 * (len(cells) + 1)))
    axes.axis("off")
    widths = [0.04, 0.08, 0.38, 0.09, 0.05, 0.07, 0.08, 0.16]
    table = axes.table(
        cellText=cells, colLabels=MODEL_COLUMNS, colWidths=widths, bbox=[0, 0, 1, 1]
    )
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    for (row, column), cell in table.get_celld().items():
        # the padding is a share of the cell's width; this keeps it the same in every column
        cell.PAD = 0.005 / widths[column]
        cell.set_text_props(ha="left" if row else "center")
        if row == 0:
            cell.set_text_props(weight="bold")
            cell.set_facecolor("#dfe6f0")
    title = f"Реестр моделей (top-{settings.models_top_k} accuracy): {settings.model_name}"
    axes.set_title(title, fontsize=12)
    return figure


# Plots: the group's metrics per run and the best run's confusion matrix.


@dataclass(frozen=True)
class ConfusionPlot:
    """A confusion matrix as the server stores it: a heatmap's cells, or a rendered image."""

    z: list[list[float]] | None = None
    x: list[str] | None = None
    y: list[str] | None = None
    image_url: str | None = None


def confusion_from_plots(plots: list[dict[str, Any]]) -> ConfusionPlot | None:
    """The `confusion_matrix` plot among a task's plot events, None when there is none."""
    for plot in plots:
        if plot.get("metric") != "confusion_matrix":
            continue
        figure = json.loads(plot.get("plot_str") or "{}")
        for trace in figure.get("data") or []:
            if trace.get("type") == "heatmap":
                return ConfusionPlot(z=trace["z"], x=trace.get("x"), y=trace.get("y"))
        # the SDK uploads a matplotlib figure it cannot convert as an image inside the layout
        images = (figure.get("layout") or {}).get("images") or []
        if images and images[0].get("source"):
            return ConfusionPlot(image_url=images[0]["source"])
    return None


def read_confusion(task_id: str) -> ConfusionPlot | None:
    from clearml import Task

    log.info("Reading the plots of task %s", task_id)
    return confusion_from_plots(Task.get_task(task_id=task_id).get_reported_plots())


def plots_picture(settings: Settings) -> Figure:
    ranking = experiments_ranking(settings, settings.experiments_top_k)
    best = ranking.table.iloc[0]
    confusion = read_confusion(best["task_id"])

    figure = plt.figure(figsize=(15, 6))
    grid = figure.add_gridspec(1, 2, width_ratios=[2.3, 1])
    _metric_bars(figure.add_subplot(grid[0]), ranking.table)
    _confusion_axes(figure.add_subplot(grid[1]), confusion, best["task_name"])
    figure.suptitle(f"Метрики экспериментов группы {settings.group} (ClearML)", fontsize=13)
    figure.tight_layout()
    return figure


def _metric_bars(axes, table: pd.DataFrame) -> None:
    positions = np.arange(len(table))
    width = 0.8 / len(METRIC_NAMES)
    for index, metric in enumerate(METRIC_NAMES):
        offset = (index - (len(METRIC_NAMES) - 1) / 2) * width
        axes.bar(positions + offset, table[metric].astype(float), width, label=metric)
    low = float(table[list(METRIC_NAMES)].astype(float).min().min())
    axes.set_ylim(max(0.0, low - 0.05), 1.0)
    axes.set_xticks(positions, table["task_name"], rotation=30, ha="right")
    axes.set_ylabel("test score")
    axes.set_title("accuracy, f1_macro, precision_macro, recall_macro per run")
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncols=4, fontsize=9)
    axes.grid(axis="y", alpha=0.3)


def _confusion_axes(axes, confusion: ConfusionPlot | None, run_name: str) -> None:
    axes.set_title(f"confusion_matrix/test of the best run\n{run_name}")
    if confusion is None:
        axes.axis("off")
        axes.text(0.5, 0.5, "no confusion_matrix plot on the server", ha="center")
    elif confusion.z is not None:
        _heatmap(axes, confusion)
    else:
        axes.imshow(_download_image(confusion.image_url))
        axes.axis("off")


def _heatmap(axes, confusion: ConfusionPlot) -> None:
    cells = np.asarray(confusion.z, dtype=float)
    axes.imshow(cells, cmap="Blues")
    for (row, column), value in np.ndenumerate(cells):
        color = "white" if value > cells.max() / 2 else "black"
        axes.text(column, row, f"{value:g}", ha="center", va="center", color=color)
    if confusion.x:
        axes.set_xticks(range(len(confusion.x)), confusion.x)
    if confusion.y:
        axes.set_yticks(range(len(confusion.y)), confusion.y)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")


def _download_image(url: str) -> np.ndarray:
    from clearml import StorageManager

    local = StorageManager.get_local_copy(url, extract_archive=False)
    if not local:
        raise MissingSource(f"the confusion-matrix image {url} cannot be downloaded.")
    return plt.imread(local)


# Pipeline: the newest run of the controller, its steps and its winner.


@dataclass(frozen=True)
class StepState:
    status: str
    seconds: float | None


@dataclass(frozen=True)
class PipelineRun:
    """One pipeline run as the server holds it."""

    controller_id: str
    group: str
    status: str
    created: datetime | None
    steps: dict[str, StepState]
    winner: dict[str, Any] | None


def find_pipeline_run(settings: Settings) -> PipelineRun:
    """The newest controller task (tagged `pipeline_group` when set), its steps and winner."""
    from clearml import Task

    controller = _newest_controller(settings)
    group = _group_of(controller["tags"])
    # steps are the controller's children; select_best and notify carry no group tag
    tasks = Task.query_tasks(
        task_filter={"parent": controller["id"]},
        additional_return_fields=[
            "name",
            "status",
            "started",
            "completed",
            "status_changed",
            "created",
        ],
    )
    steps, step_ids = {}, {}
    for task in sorted(tasks, key=lambda task: _as_time(task.get("created"))):
        if task["name"] in STEP_NAMES:
            steps[task["name"]] = StepState(str(task["status"]), _seconds(task))
            step_ids[task["name"]] = task["id"]
    winner = _winner(step_ids["select_best"]) if "select_best" in step_ids else None
    return PipelineRun(
        controller["id"], group, str(controller["status"]), controller["created"], steps, winner
    )


def _newest_controller(settings: Settings) -> dict[str, Any]:
    from clearml import Task

    wanted = settings.pipeline_group
    log.info("Looking for the newest %r run in %r", settings.pipeline_name, settings.project)
    # the SDK keeps controllers in a hidden sub-project, <project>/.pipelines/<name>
    hidden = f"{settings.project}/.pipelines/{settings.pipeline_name}"
    projects = {Task.get_project_id(name) for name in (settings.project, hidden)} - {None}
    controllers = [
        task
        for task in Task.query_tasks(
            # task names are matched by the server as regular expressions
            # later runs are named "<name> #2", "<name> #3", ...
            task_name=rf"^{re.escape(settings.pipeline_name)}( #\d+)?$",
            tags=[f"group:{wanted}"] if wanted else None,
            additional_return_fields=["name", "status", "created", "tags", "project"],
        )
        if task.get("project") in projects
    ]
    if not controllers:
        which = f" of group {wanted!r}" if wanted else ""
        raise MissingSource(
            f"no {settings.pipeline_name!r} run{which} in project {settings.project!r}; "
            "run hw5-pipeline first."
        )
    return max(controllers, key=lambda task: _as_time(task.get("created")))


def _group_of(tags: list[str]) -> str:
    groups = [tag.removeprefix("group:") for tag in tags or [] if tag.startswith("group:")]
    if not groups:
        raise MissingSource("the newest pipeline run has no group tag; run hw5-pipeline again.")
    return groups[0]


def _as_time(value) -> float:
    return value.timestamp() if isinstance(value, datetime) else 0.0


def _seconds(task: dict[str, Any]) -> float | None:
    started, ended = task.get("started"), task.get("completed")
    # a failed or stopped task has no completion time: it ended when its status changed
    if ended is None and str(task.get("status")) in ("failed", "stopped"):
        ended = task.get("status_changed")
    if isinstance(started, datetime) and isinstance(ended, datetime):
        return (ended - started).total_seconds()
    return None


def _winner(select_task_id: str) -> dict[str, Any] | None:
    from clearml import Task

    artifact = Task.get_task(task_id=select_task_id).artifacts.get("winner")
    if artifact is None:
        log.warning("select_best (task %s) has no winner artifact", select_task_id)
        return None
    winner = artifact.get()
    # the SDK hands back the downloaded file's path when it cannot read the content
    return winner if isinstance(winner, dict) else None


def pipeline_picture(settings: Settings) -> Figure:
    return pipeline_figure(find_pipeline_run(settings), settings.pipeline_name)


# where each step's box goes: three trainers in a column, then select_best, then notify
LAYOUT = {
    "train_logreg": (0.0, 2.0),
    "train_rf": (0.0, 1.0),
    "train_svc": (0.0, 0.0),
    "select_best": (1.0, 1.0),
    "notify": (2.0, 1.0),
}


def pipeline_figure(run: PipelineRun, name: str) -> Figure:
    figure, axes = plt.subplots(figsize=(11, 5.8))
    axes.set_xlim(-0.45, 2.45)
    axes.set_ylim(-0.9, 2.5)
    axes.axis("off")
    for step in TRAIN_STEPS:
        _arrow(axes, LAYOUT[step], LAYOUT["select_best"])
    _arrow(axes, LAYOUT["select_best"], LAYOUT["notify"])
    for step, (x, y) in LAYOUT.items():
        state = run.steps.get(step, StepState("not run", None))
        took = "" if state.seconds is None else f"\n{state.seconds:.1f} s"
        axes.text(
            x,
            y,
            f"{step}\n{state.status}{took}",
            ha="center",
            va="center",
            fontsize=10,
            bbox={"boxstyle": "round,pad=0.6", "fc": STATUS_COLORS.get(state.status, "#d5d8dc")},
        )
    axes.text(1.0, -0.7, _winner_line(run.winner), ha="center", fontsize=11, weight="bold")
    when = run.created.strftime("%Y-%m-%d %H:%M:%S %Z") if run.created else "unknown time"
    axes.set_title(
        f"Pipeline summary: {name} ({run.status})\ngroup {run.group}, started {when}",
        fontsize=12,
    )
    return figure


def _arrow(axes, start: tuple[float, float], end: tuple[float, float]) -> None:
    axes.annotate(
        "",
        xy=(end[0] - 0.22, end[1]),
        xytext=(start[0] + 0.22, start[1]),
        arrowprops={"arrowstyle": "->", "color": "#555555"},
    )


def _winner_line(winner: dict[str, Any] | None) -> str:
    if not winner:
        return "no winner: select_best did not complete"
    return (
        f"winner: {winner['winner']} (accuracy {float(winner['accuracy']):.4f}, "
        f"model {str(winner['model_id'])[:8]})"
    )
