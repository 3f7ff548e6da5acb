"""The model registry: models registered with the report's metadata and tags, and queries."""

import json
import logging
from pathlib import Path
from typing import Any

import joblib

from iris_mlops import tracking
from iris_mlops.config import check_flag, check_text_list
from iris_mlops.errors import ConfigError

log = logging.getLogger(__name__)


def model_tags(model_name: str, group: str, extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Tags of a run and of its model: which estimator, which group, and any extra ones."""
    return [f"model:{model_name}", f"group:{group}", *extra]


def model_metadata(
    model_name: str, seed: int, test_size: float, metrics: dict[str, float]
) -> dict[str, dict[str, str]]:
    """The metadata keys of the report, in the SDK's `{key: {value, type}}` form."""
    return {
        "model_name": {"value": model_name, "type": "str"},
        "seed": {"value": str(seed), "type": "int"},
        "test_size": {"value": str(test_size), "type": "float"},
        "accuracy": {"value": repr(metrics["accuracy"]), "type": "float"},
        "metrics_json": {"value": json.dumps(metrics, sort_keys=True), "type": "str"},
    }


def register_model(
    task,
    estimator,
    name: str,
    tags: list[str],
    metadata: dict[str, dict[str, str]],
    weights_dir: Path,
):
    """Save the estimator, register it as the task's output model and attach its metadata."""
    from clearml import OutputModel

    weights_dir.mkdir(parents=True, exist_ok=True)
    weights = weights_dir / f"{task.id}.joblib"
    joblib.dump(estimator, weights)

    log.info("Registering model %r (tags %s)", name, ", ".join(tags))
    model = OutputModel(task=task, name=name, tags=tags, framework="ScikitLearn")
    # synchronous, so a step that runs next finds the weights already uploaded
    model.update_weights(weights_filename=str(weights), auto_delete_file=False, async_enable=False)
    model.set_all_metadata(metadata)
    return model


def metadata_values(model) -> dict[str, Any]:
    """A registered model's metadata as plain values, typed where the type is known."""
    casts = {"int": int, "float": float}
    values = {}
    for key, entry in (model.get_all_metadata() or {}).items():
        cast = casts.get(entry.get("type"), str)
        try:
            values[key] = cast(entry.get("value"))
        except (TypeError, ValueError):
            values[key] = entry.get("value")
    return values


REGISTRY_COLUMNS = [
    "rank",
    "model_id",
    "name",
    "tags",
    "model_name",
    "seed",
    "test_size",
    "accuracy",
    "metrics_json",
    "created",
    "url",
]


def query_registry(
    project: str, name: str, group: str | None, model: str | None, tags: list[str]
) -> list[dict[str, Any]]:
    """Registered models matching every given filter, one row each with its metadata."""
    from clearml import Model

    tracking.require_server("The model registry")
    wanted = [
        *tags,
        *([f"group:{group}"] if group else []),
        *([f"model:{model}"] if model else []),
    ]
    log.info("Querying models %r in project %r (tags: %s)", name, project, wanted or "any")
    # "__$all" makes the server require every tag instead of any of them
    models = Model.query_models(
        project_name=project, model_name=name, tags=["__$all", *wanted] if wanted else None
    )
    return [registry_row(found) for found in models]


def registry_row(model) -> dict[str, Any]:
    metadata = metadata_values(model)
    return {
        "model_id": model.id,
        "task_id": model.task,
        "name": model.name,
        "tags": ", ".join(model.tags),
        **{key: metadata.get(key) for key in REGISTRY_COLUMNS[4:9]},
        # the SDK's Model has no public property for its creation time
        "created": str(model._get_model_data().created or ""),
        "url": model.url,
    }


def check_top_k(top_k) -> None:
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise ConfigError(f"top_k={top_k!r} is not valid; use a whole number of 1 or more.")


def check_filters(group, estimator, tags, mark_best) -> None:
    """Each filter is either unset (null) or a non-empty name; tags a list; mark_best a switch."""
    for key, value in (("group", group), ("estimator", estimator)):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ConfigError(
                f"{key}={value!r} is not valid; use a non-empty name, or null for any."
            )
    check_text_list(tags, "tags")
    check_flag(mark_best, "mark_best")


def rank_models(rows: list[dict[str, Any]], top_k: int) -> list[dict[str, Any]]:
    """Models with an accuracy, best first; ties go to the higher f1_macro, then by name."""
    scored = [row for row in rows if isinstance(row.get("accuracy"), float)]
    ranked = sorted(scored, key=_rank_key)[:top_k]
    return [{"rank": index, **row} for index, row in enumerate(ranked, start=1)]


def _rank_key(row: dict[str, Any]) -> tuple:
    try:
        f1 = float(json.loads(row.get("metrics_json") or "{}").get("f1_macro", 0.0))
    except (ValueError, AttributeError):
        f1 = 0.0
    return (-row["accuracy"], -f1, str(row.get("model_name")), row["model_id"])


def mark_best(model_id: str, tag: str, rivals: list[dict[str, Any]]) -> None:
    """Give `tag` to one model only among `rivals`, then publish it."""
    from clearml import Model

    for row in rivals:
        if row["model_id"] != model_id and tag in row["tags"].split(", "):
            rival = Model(model_id=row["model_id"])
            rival.tags = [t for t in rival.tags if t != tag]
    best = Model(model_id=model_id)
    if tag not in best.tags:
        best.tags = [*best.tags, tag]
    if not best.published:
        best.publish()
    log.info("Tagged model %s %r and published it", model_id, tag)
