"""get_all semantics: filters, tags operators, patterns, ordering, paging and projections."""

from __future__ import annotations

import pytest


@pytest.fixture
def project(api, unique):
    project_id = api.call("projects.create", name=f"{unique}/sub")["id"]
    specs = [
        ("alpha", ["red", "big"], "training", 0.5),
        ("alpha #2", ["red"], "testing", 0.9),
        ("beta", ["blue", "big"], "training", 0.7),
        ("alphabet", [], "training", 0.1),
    ]
    ids = {}
    for name, tags, kind, accuracy in specs:
        task = api.call("tasks.create", name=name, type=kind, project=project_id, tags=tags)["id"]
        api.events([_scalar(task, "acc", "val", accuracy, 1)])
        ids[name] = task
    return project_id, ids


def _scalar(task, metric, variant, value, iteration):
    return {
        "type": "training_stats_scalar",
        "task": task,
        "metric": metric,
        "variant": variant,
        "value": value,
        "iter": iteration,
    }


def _names(api, project_id, **query):
    tasks = api.call("tasks.get_all", project=[project_id], only_fields=["name"], **query)
    return [t["name"] for t in tasks["tasks"]]


def test_projects_are_created_with_their_parents(api, unique, project):
    found = api.call("projects.get_all", name=f"^{unique}")["projects"]

    assert sorted(p["name"] for p in found) == [unique, f"{unique}/sub"]
    child = next(p for p in found if p["name"].endswith("/sub"))
    parent = next(p for p in found if p["name"] == unique)
    assert child["parent"] == parent["id"] and child["basename"] == "sub"


def test_name_is_a_regular_expression(api, project):
    project_id, _ = project

    assert sorted(_names(api, project_id, name=r"^alpha(| #\d+)$")) == ["alpha", "alpha #2"]
    assert sorted(_names(api, project_id, name="ALPHA")) == ["alpha", "alpha #2", "alphabet"]


def test_tags_any_match_exclusion_and_operators(api, project):
    project_id, _ = project

    assert sorted(_names(api, project_id, tags=["red", "blue"])) == ["alpha", "alpha #2", "beta"]
    assert sorted(_names(api, project_id, tags=["-red"])) == ["alphabet", "beta"]
    assert _names(api, project_id, tags=["__$all", "red", "big"]) == ["alpha"]
    assert sorted(_names(api, project_id, tags=["__$not", "big"])) == ["alpha #2", "alphabet"]
    assert _names(api, project_id, tags=["big", "-blue"]) == ["alpha"]


def test_status_type_id_and_parent_filters(api, project):
    project_id, ids = project
    api.call("tasks.started", task=ids["beta"])
    api.call("tasks.edit", task=ids["alphabet"], parent=ids["beta"])

    assert _names(api, project_id, status=["in_progress"]) == ["beta"]
    assert _names(api, project_id, type=["testing"]) == ["alpha #2"]
    assert _names(api, project_id, id=[ids["alpha"]]) == ["alpha"]
    assert _names(api, project_id, parent=ids["beta"]) == ["alphabet"]


def test_all_pattern_matches_only_tasks_whose_fields_all_match(api, project):
    project_id, ids = project
    api.call("tasks.edit", task=ids["alpha"], runtime={"job_hash": "abc123"})
    api.call("tasks.edit", task=ids["beta"], runtime={"job_hash": "abc1234"})
    query = {"_all_": {"pattern": "^abc123$", "fields": ["runtime.job_hash"]}}

    assert _names(api, project_id, **query) == ["alpha"]
    assert _names(api, project_id, _all_={"pattern": "^zzz$", "fields": ["runtime.x"]}) == []


def test_order_by_fields_metrics_and_descending(api, project):
    project_id, _ = project
    metric_field = "last_metrics.{}.{}.value".format(*_hashes("acc", "val"))

    assert _names(api, project_id) == ["alpha", "alpha #2", "beta", "alphabet"]
    assert _names(api, project_id, order_by=["name"]) == ["alpha", "alpha #2", "alphabet", "beta"]
    assert _names(api, project_id, order_by=["-name"])[0] == "beta"
    assert _names(api, project_id, order_by=[f"-{metric_field}"]) == [
        "alpha #2",
        "beta",
        "alpha",
        "alphabet",
    ]
    assert _names(api, project_id, order_by=["created"])[0] == "alpha"
    assert _names(api, project_id, order_by=["type", "-name"]) == [
        "alpha #2",
        "beta",
        "alphabet",
        "alpha",
    ]


def _hashes(metric, variant):
    import hashlib

    return [hashlib.md5(name.encode()).hexdigest() for name in (metric, variant)]


def test_paging_returns_consecutive_pages_until_a_short_one(api, project):
    project_id, _ = project
    pages = [
        _names(api, project_id, order_by=["name"], page=number, page_size=3) for number in range(3)
    ]

    assert pages == [["alpha", "alpha #2", "alphabet"], ["beta"], []]


def test_only_fields_with_dotted_names(api, project):
    _, ids = project
    api.call("tasks.edit", task=ids["alpha"], script={"entry_point": "train.py", "branch": "x"})
    task = api.call("tasks.get_all", id=[ids["alpha"]], only_fields=["script.entry_point"])

    assert task["tasks"] == [{"id": ids["alpha"], "script": {"entry_point": "train.py"}}]


def test_hidden_tasks_and_projects_need_search_hidden(api, unique):
    hidden_project = api.call("projects.create", name=f"{unique}/.pipelines/p")["id"]
    api.call("tasks.create", name="h", type="controller", project=hidden_project)
    hidden_task = api.call(
        "tasks.create", name="h2", type="training", project=hidden_project, system_tags=["hidden"]
    )["id"]

    visible = api.call("projects.get_all", name=f"^{unique}/")["projects"]
    everything = api.call("projects.get_all", name=f"^{unique}/", search_hidden=True)["projects"]
    tasks = api.call("tasks.get_all", project=[hidden_project])["tasks"]
    all_tasks = api.call("tasks.get_all", project=[hidden_project], search_hidden=True)["tasks"]

    assert visible == []
    assert {p["name"] for p in everything} == {f"{unique}/.pipelines", f"{unique}/.pipelines/p"}
    assert [t["name"] for t in tasks] == ["h"]
    assert hidden_task in [t["id"] for t in all_tasks]


def test_models_filter_by_metadata_tags_and_order_newest_first(api, unique):
    project_id = api.call("projects.create", name=unique)["id"]
    first = api.call("models.create", name="m", uri="file:///a", project=project_id, tags=["x"])
    second = api.call("models.create", name="m", uri="file:///b", project=project_id, tags=["y"])
    api.call(
        "models.add_or_update_metadata",
        model=first["id"],
        metadata=[{"key": "accuracy", "type": "float", "value": "0.9"}],
    )

    newest_first = api.call("models.get_all", project=[project_id], only_fields=["id"])
    by_metadata = api.call(
        "models.get_all", project=[project_id], **{"metadata.accuracy.value": "0.9"}
    )
    by_tag = api.call("models.get_all", project=[project_id], tags=["-x"])

    assert [m["id"] for m in newest_first["models"]] == [second["id"], first["id"]]
    assert [m["id"] for m in by_metadata["models"]] == [first["id"]]
    assert by_metadata["models"][0]["metadata"]["accuracy"]["value"] == "0.9"
    assert [m["id"] for m in by_tag["models"]] == [second["id"]]
