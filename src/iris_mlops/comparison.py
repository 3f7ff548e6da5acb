"""Ranking the experiments of a group by their metrics as the ClearML server reports them."""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from iris_mlops import tracking
from iris_mlops.errors import ConfigError, IrisMlopsError
from iris_mlops.evaluation import METRIC_NAMES
from iris_mlops.files import write_atomically
from iris_mlops.registry import check_top_k

log = logging.getLogger(__name__)

SUMMARY_COLUMNS = [
    "rank",
    "task_id",
    "task_name",
    "model",
    "seed",
    "test_size",
    *METRIC_NAMES,
    "status",
    "created",
    "link",
]
_FIELDS = ["id", "name", "status", "created", "last_metrics", "hyperparams.cfg"]


@dataclass(frozen=True)
class Ranking:
    """The ranked top-k of a group, and how many runs of the group were read."""

    table: pd.DataFrame
    runs_found: int
    runs_without_metrics: int


def check_ranking(top_k, metric: str, tiebreak: str) -> None:
    check_top_k(top_k)
    for key, value in (("metric", metric), ("tiebreak", tiebreak)):
        if value not in METRIC_NAMES:
            raise ConfigError(
                f"{key}={value!r} is not a metric; use one of {', '.join(METRIC_NAMES)}."
            )


def fetch_group_runs(project: str, group: str) -> list[dict]:
    """Every task of the project tagged with the group, all pages, with its metrics."""
    from clearml import Task

    tracking.require_server("hw5-compare")
    log.info("Reading the runs of group %r in project %r", group, project)
    # tags are compared literally by the server, unlike task names (regular expressions)
    return Task.query_tasks(
        project_name=project, tags=[f"group:{group}"], additional_return_fields=_FIELDS
    )


def rank_runs(runs: Iterable[dict], top_k: int, metric: str, tiebreak: str) -> Ranking:
    """The top-k runs by `metric`, ties broken by `tiebreak`, then by task name."""
    rows = [_summary_row(run) for run in runs]
    scored = [row for row in rows if row[metric] is not None]
    table = pd.DataFrame(scored, columns=SUMMARY_COLUMNS[1:])
    table = table.sort_values(
        [metric, tiebreak, "task_name"], ascending=[False, False, True], kind="stable"
    ).head(top_k)
    table.insert(0, "rank", range(1, len(table) + 1))
    return Ranking(table.reset_index(drop=True), len(rows), len(rows) - len(scored))


def _summary_row(run: dict) -> dict:
    metrics = _last_values(run.get("last_metrics") or {})
    # query_tasks keys each returned field by the path it was asked for
    cfg = _cfg_values(run.get("hyperparams.cfg") or {})
    return {
        "task_id": run["id"],
        "task_name": run.get("name"),
        "model": cfg.get("model/name"),
        "seed": cfg.get("seed"),
        "test_size": cfg.get("test_size"),
        **{name: metrics.get(name) for name in METRIC_NAMES},
        "status": run.get("status"),
        "created": run.get("created"),
        "link": tracking.task_url(run["id"]),
    }


def _last_values(last_metrics: dict) -> dict[str, float]:
    """{metric: value} from the server's `last_metrics`, keyed by hashes of metric and series."""
    values: dict[str, float] = {}
    for variants in last_metrics.values():
        for entry in variants.values():
            metric, variant = entry.get("metric"), entry.get("variant")
            # report_scalar(title=name, series="test"); a single value is (Summary, name)
            name = variant if metric == "Summary" else metric
            if name in METRIC_NAMES and entry.get("value") is not None:
                values.setdefault(name, float(entry["value"]))
    return values


def _cfg_values(section: dict) -> dict[str, str]:
    # the SDK hands hyperparameters over as its own objects, raw answers as dicts
    return {
        name: param.get("value") if isinstance(param, dict) else getattr(param, "value", None)
        for name, param in section.items()
    }


def write_summary(ranking: Ranking, csv_path: Path, chart_path: Path, metric: str) -> None:
    """The CSV and its chart, each written whole or not at all."""
    if ranking.table.empty:
        raise IrisMlopsError("No run has metrics to rank; nothing is written.")
    write_atomically(csv_path, lambda tmp: ranking.table.to_csv(tmp, index=False))
    figure = ranking_chart(ranking.table, metric)
    write_atomically(chart_path, lambda tmp: figure.savefig(tmp, dpi=120))
    plt.close(figure)
    log.info("Wrote %s and %s", csv_path, chart_path)


def ranking_chart(table: pd.DataFrame, metric: str, title: str | None = None):
    """Horizontal bars of a ranked table's `metric`, best on top."""
    figure, axes = plt.subplots(figsize=(8, 0.45 * len(table) + 1.5))
    labels = [f"{row.rank}. {row.task_name}" for row in table.itertuples()]
    bars = axes.barh(labels[::-1], table[metric][::-1], color="#4c72b0")
    axes.bar_label(bars, fmt="%.4f", padding=3)
    low = max(0.0, float(table[metric].min()) - 0.1)
    axes.set_xlim(low, 1.04)
    axes.set_xlabel(metric)
    axes.set_title(title or f"Top-{len(table)} experiments by {metric}")
    figure.tight_layout()
    return figure
