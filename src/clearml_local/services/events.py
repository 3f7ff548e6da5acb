"""The events service: scalar, plot, image and log events and the task metric summaries."""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from typing import Any

from clearml_local.errors import bad_request
from clearml_local.query import as_list
from clearml_local.registry import CallContext, endpoint, require
from clearml_local.services.tasks import load_task, save_task

SCALAR = "training_stats_scalar"
SINGLE_VALUE_ITER = -(2**31)
EVENT_TYPES = (SCALAR, "training_stats_vector", "training_debug_image", "plot", "log")


def metric_hash(name: str) -> str:
    # the real server keys last_metrics by the md5 of the metric and variant names
    return hashlib.md5(name.encode("utf-8")).hexdigest()


def _normalize(raw: Any) -> tuple[str, str, str, str, int, int, dict[str, Any]]:
    if not isinstance(raw, dict):
        raise bad_request("Each event must be a JSON object", subcode=12)
    event = raw.get("event") if isinstance(raw.get("event"), dict) else raw
    kind, task = event.get("type"), event.get("task")
    if kind not in EVENT_TYPES or not isinstance(task, str) or not task:
        raise bad_request(f"Invalid event: type={kind!r} task={task!r}", subcode=12)
    iteration = event.get("iter")
    iteration = int(iteration) if isinstance(iteration, int | float) else 0
    stamp = event.get("timestamp")
    stamp = int(stamp) if isinstance(stamp, int | float) else int(time.time() * 1000)
    metric, variant = str(event.get("metric") or ""), str(event.get("variant") or "")
    if kind == SCALAR and not isinstance(event.get("value"), int | float):
        raise bad_request("A scalar event needs a numeric 'value'", subcode=12)
    stored = {**event, "iter": iteration, "timestamp": stamp, "metric": metric, "variant": variant}
    stored.pop("model_event", None)
    return task, kind, metric, variant, iteration, stamp, stored


def _update_last_metrics(task: dict[str, Any], event: dict[str, Any]) -> None:
    metric, variant, value = event["metric"], event["variant"], float(event["value"])
    iteration = event["iter"]
    variants = task.setdefault("last_metrics", {}).setdefault(metric_hash(metric), {})
    entry = variants.get(metric_hash(variant))
    if entry is None:
        entry = variants[metric_hash(variant)] = {
            "metric": metric,
            "variant": variant,
            "min_value": value,
            "min_value_iteration": iteration,
            "max_value": value,
            "max_value_iteration": iteration,
            "first_value": value,
            "first_value_iteration": iteration,
            "count": 0,
        }
    if value < entry["min_value"]:
        entry.update(min_value=value, min_value_iteration=iteration)
    if value > entry["max_value"]:
        entry.update(max_value=value, max_value_iteration=iteration)
    entry["count"] += 1
    # an older iteration arriving late does not replace the latest value
    if iteration >= entry.get("iter", iteration):
        entry.update(value=value, iter=iteration, timestamp=event["timestamp"])
    if iteration != SINGLE_VALUE_ITER:
        task["last_iteration"] = max(int(task.get("last_iteration") or 0), iteration)


@endpoint("events.add_batch")
def add_batch(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    rows = [_normalize(raw) for raw in as_list(body.get("requests"))]
    touched: dict[str, dict[str, Any]] = {}
    for task_id, kind, *_rest, stored in rows:
        if task_id not in touched:
            touched[task_id] = load_task(ctx, task_id)
        if kind == SCALAR:
            _update_last_metrics(touched[task_id], stored)
    ctx.store.add_events(rows)
    for task in touched.values():
        save_task(ctx, task, touch_change=False)
    return {"added": len(rows), "errors": 0, "errors_info": {}}


@endpoint("events.add")
def add(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    add_batch(ctx, {"requests": [body]})
    return {}


def _scalars(ctx: CallContext, task_id: str) -> list[dict[str, Any]]:
    return [e for e in ctx.store.events(task_id, [SCALAR]) if e["iter"] != SINGLE_VALUE_ITER]


@endpoint("events.scalar_metrics_iter_histogram")
def scalar_metrics_iter_histogram(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    task = load_task(ctx, body.get("task"))
    key = body.get("key") or "iter"
    if key not in ("iter", "timestamp", "iso_time"):
        raise bad_request("key must be one of iter, timestamp, iso_time", subcode=12)
    wanted = {m.get("metric") for m in as_list(body.get("metrics")) if isinstance(m, dict)}
    series: dict[str, dict[str, dict[str, list[Any]]]] = defaultdict(dict)
    for event in _scalars(ctx, task["id"]):
        if wanted and event["metric"] not in wanted:
            continue
        points = series[event["metric"]].setdefault(
            event["variant"], {"name": event["variant"], "x": [], "y": []}
        )
        points["x"].append(event["timestamp"] if key != "iter" else event["iter"])
        points["y"].append(event["value"])
    return dict(series)


def _single_values(ctx: CallContext, task_id: str) -> list[dict[str, Any]]:
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for event in ctx.store.events(task_id, [SCALAR]):
        if event["iter"] == SINGLE_VALUE_ITER:
            latest[(event["metric"], event["variant"])] = event
    return [
        {k: e[k] for k in ("metric", "variant", "value", "timestamp")} for e in latest.values()
    ]


@endpoint("events.get_task_single_value_metrics")
def get_task_single_value_metrics(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    tasks = [load_task(ctx, t)["id"] for t in as_list(require(body, "tasks", list))]
    return {"tasks": [{"task": t, "values": _single_values(ctx, t)} for t in tasks]}


def _scroll_window(body: dict[str, Any], events: list[Any], default_size: int) -> dict[str, Any]:
    """Cut a window out of events; the scroll id is the offset of the next window."""
    try:
        offset = int(str(body.get("scroll_id") or "0"))
        size = int(body.get("batch_size") or default_size)
    except ValueError as exc:
        raise bad_request("Invalid scroll_id or batch_size", subcode=12) from exc
    window = events[offset : offset + size]
    return {
        "events": window,
        "returned": len(window),
        "total": len(events),
        "scroll_id": str(offset + len(window)),
    }


@endpoint("events.get_task_events")
def get_task_events(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    task = load_task(ctx, body.get("task"))
    kinds = as_list(body.get("event_type")) or list(EVENT_TYPES)
    events = list(ctx.store.events(task["id"], kinds))
    if body.get("order") == "desc":
        events.reverse()
    return _scroll_window(body, events, 500)


@endpoint("events.get_scalar_metric_data")
def get_scalar_metric_data(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    task = load_task(ctx, body.get("task"))
    metric = body.get("metric")
    events = [e for e in _scalars(ctx, task["id"]) if not metric or e["metric"] == metric]
    return _scroll_window(body, events, 10000)


@endpoint("events.get_task_plots")
def get_task_plots(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    task = load_task(ctx, body.get("task"))
    iters = int(body.get("iters") or 1)
    by_series: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for event in ctx.store.events(task["id"], ["plot"]):
        by_series[(event["metric"], event["variant"])].append(event)
    plots = []
    for events in by_series.values():
        keep = sorted({e["iter"] for e in events})[-iters:]
        plots.extend(e for e in events if e["iter"] in keep)
    return {"plots": plots, "returned": len(plots), "total": len(plots), "scroll_id": None}


@endpoint("events.get_task_log")
def get_task_log(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    task = load_task(ctx, body.get("task"))
    size = int(body.get("batch_size") or 500)
    events = list(ctx.store.events(task["id"], ["log"]))
    window = events[-size:] if body.get("navigate_earlier", True) else events[:size]
    if body.get("order") == "desc":
        window.reverse()
    return {"events": window, "returned": len(window), "total": len(events)}


@endpoint("events.get_task_metrics")
def get_task_metrics(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    kinds = as_list(body.get("event_type")) or list(EVENT_TYPES)
    result = []
    for task_id in as_list(require(body, "tasks", list)):
        names = sorted(
            {e["metric"] for e in ctx.store.events(load_task(ctx, task_id)["id"], kinds)}
        )
        result.append({"task": task_id, "metrics": names})
    return {"metrics": result}


@endpoint("events.get_task_latest_scalar_values")
def get_task_latest_scalar_values(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    task = load_task(ctx, body.get("task"))
    metrics: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for variants in (task.get("last_metrics") or {}).values():
        for entry in variants.values():
            metrics[entry["metric"]].append(
                {"name": entry["variant"], "last_value": entry["value"]}
            )
    return {"metrics": [{"name": name, "variants": v} for name, v in sorted(metrics.items())]}


@endpoint("events.get_scalar_metrics_and_variants")
def get_scalar_metrics_and_variants(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    task = load_task(ctx, body.get("task"))
    metrics: dict[str, dict[str, Any]] = defaultdict(dict)
    for event in _scalars(ctx, task["id"]):
        metrics[event["metric"]][event["variant"]] = {"name": event["variant"]}
    return {"metrics": dict(metrics)}


@endpoint("events.debug_images")
def debug_images(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    result = []
    for request in as_list(require(body, "metrics", list)):
        if not isinstance(request, dict):
            raise bad_request("Each metrics item must be an object", subcode=12)
        task = load_task(ctx, request.get("task"))
        # everything is sent in the first answer; a follow-up with a scroll id gets nothing
        iterations: list[dict[str, Any]] = []
        if not body.get("scroll_id"):
            iterations = _image_iterations(ctx, task["id"], request, int(body.get("iters") or 1))
        result.append({"task": task["id"], "iterations": iterations})
    return {"metrics": result, "scroll_id": "done"}


def _image_iterations(
    ctx: CallContext, task_id: str, request: dict[str, Any], iters: int
) -> list[dict[str, Any]]:
    variants = set(as_list(request.get("variants")))
    by_iter: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for event in ctx.store.events(task_id, ["training_debug_image"], request.get("metric")):
        if not variants or event["variant"] in variants:
            by_iter[event["iter"]].append(event)
    latest = sorted(by_iter, reverse=True)[:iters]
    return [{"iter": it, "events": by_iter[it]} for it in latest]


@endpoint("events.delete_for_task")
def delete_for_task(ctx: CallContext, body: dict[str, Any]) -> dict[str, Any]:
    task = load_task(ctx, body.get("task"))
    ctx.store.delete_events(task["id"])
    task["last_metrics"], task["last_iteration"] = {}, 0
    save_task(ctx, task)
    return {"deleted": True}
