"""The pixi manifest, the pyproject and the ignore rules agree with what the project ships."""

import json
import re
import shlex
import tomllib

import pytest

from .paths import ROOT, SHARED_DIR

REPORT_TASKS = {
    "hw5-smoke",
    "hw5-train",
    "hw5-experiments",
    "hw5-compare",
    "hw5-list-models",
    "hw5-pipeline",
    "hw5-scheduler",
    "hw5-scheduler-hourly",
}


def pixi_manifest() -> dict:
    return tomllib.loads((ROOT / "pixi.toml").read_text())


def test_pixi_manifest_validates_against_the_schema():
    schema_file = SHARED_DIR / "schemas" / "pixi-manifest.schema.json"
    if not schema_file.is_file():
        pytest.skip(f"the pixi manifest schema is not here ({schema_file} is absent)")
    import jsonschema

    jsonschema.validate(pixi_manifest(), json.loads(schema_file.read_text()))


def test_pixi_has_every_task_of_the_report_and_each_script_exists():
    tasks = pixi_manifest()["tasks"]
    assert set(tasks) >= REPORT_TASKS
    for name, task in tasks.items():
        words = shlex.split(task["cmd"] if isinstance(task, dict) else task)
        scripts = [word for word in words if word.endswith(".py")]
        for script in scripts:
            assert (ROOT / script).is_file(), f"pixi task {name} runs a missing {script}"
    assert all(
        re.search(r"scripts/hw5_clearml_\w+\.py", tasks[name]["cmd"]) for name in REPORT_TASKS
    )


def test_pixi_installs_the_project_from_pyproject_not_a_second_list():
    manifest = pixi_manifest()
    assert set(manifest["pypi-dependencies"]) == {"iris-mlops"}
    assert manifest["pypi-dependencies"]["iris-mlops"]["editable"] is True
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert any(dep.startswith("clearml>=2.1.4") for dep in project["dependencies"])


def test_generated_outputs_and_local_data_are_ignored():
    ignored = (ROOT / ".gitignore").read_text().split()
    for entry in ("reports/hw5/", "clearml/.clearml-server/", ".clearml-local/", "outputs/"):
        assert entry in ignored
