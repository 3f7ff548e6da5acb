"""Bad input to every script: named in one message, a non-zero exit, nothing stored changed."""

import pytest

from .clearml_local.local_api_client import Api
from .scripts_runner import output, run_script

# (script, overrides, the text the message must hold); cases of other test modules are left out
BAD_OVERRIDES = [
    ("train", ["seed=-1"], "seed=-1 is not valid"),
    ("train", ["seed=1.5"], "seed=1.5 is not valid"),
    ("train", ["test_size=abc"], "test_size='abc' is not a number"),
    ("train", ["model=xgb"], "xgb"),
    ("train", ["experiment=nope"], "nope"),
    ("train", ["model.C=abc"], "Got 'abc'"),
    ("train", ["model=rf", "model.n_estimators=0"], "'n_estimators' parameter"),
    ("train", ["+model.foo=1"], "model.foo is not a parameter of LogisticRegression"),
    ("train", ["clearml.project="], "clearml.project='' must be a non-empty name"),
    ("train", ["clearml.group=null"], "clearml.group=None must be a non-empty name"),
    ("train", ["clearml.tags=notalist"], "clearml.tags='notalist' is not a list"),
    ("experiments", ["parallel=0"], "parallel=0 is not valid"),
    ("experiments", ["parallel=abc"], "parallel='abc' is not valid"),
    ("experiments", ["runs=[]"], "runs=[] is empty"),
    ("experiments", ["runs=notalist"], "runs='notalist' is not a list"),
    ("experiments", ["group="], "clearml.group='' must be a non-empty name"),
    ("experiments", ["overrides=notalist"], "overrides='notalist' is not a list"),
    ("compare", ["top_k=abc"], "top_k='abc' is not valid"),
    ("compare", ["tiebreak=auc"], "tiebreak='auc' is not a metric"),
    ("compare", ["mark_best=maybe"], "mark_best='maybe' is not a switch"),
    ("list_models", ["top_k=-1"], "top_k=-1 is not valid"),
    ("list_models", ["tags=notalist"], "tags='notalist' is not a list"),
    ("list_models", ["group="], "group='' is not valid"),
    ("list_models", ["estimator="], "estimator='' is not valid"),
    ("list_models", ["mark_best=maybe"], "mark_best='maybe' is not a switch"),
    ("pipeline", ["pipeline.execution=remote"], "pipeline.execution='remote' is not known"),
    ("pipeline", ["pipeline.poll_seconds=-1"], "pipeline.poll_seconds=-1 is not valid"),
    ("pipeline", ["pipeline.poll_seconds=abc"], "pipeline.poll_seconds='abc' is not valid"),
    ("pipeline", ["pipeline.name="], "pipeline.name='' must be a non-empty name"),
    ("pipeline", ["pipeline.group_prefix="], "pipeline.group_prefix=''"),
    ("pipeline", ["seed=-1"], "seed=-1 is not valid"),
    ("pipeline", ["test_size=5"], "test_size=5 is out of range"),
    ("pipeline", ["step_overrides.rf=notalist"], "step_overrides.rf='notalist' is not a list"),
    ("pipeline", ['step_overrides.rf=["bogus=1"]'], "bogus"),
    ("scheduler", ["minute=abc"], "minute='abc' is not a minute"),
    ("scheduler", ["demo_timeout_s=-5"], "demo_timeout_s=-5 is not valid"),
    ("scheduler", ["demo_timeout_s=abc"], "demo_timeout_s='abc' is not valid"),
    ("scheduler", ["pipeline_overrides=notalist"], "pipeline_overrides='notalist' is not a"),
    ("smoke", ["clearml.project="], "clearml.project='' must be a non-empty name"),
    ("smoke", ["nonsense=1"], "nonsense"),
]

# (variable, value, the text the message must hold); applied over the test server's variables
BAD_ENVIRONMENT = [
    ("CLEARML_API_HOST", "ftp://x", "CLEARML_API_HOST='ftp://x' is not an http(s) URL"),
    ("CLEARML_API_HOST", "http://", "CLEARML_API_HOST='http://' is not an http(s) URL"),
    ("CLEARML_API_ACCESS_KEY", "", "its API keys are missing"),
    ("CLEARML_API_SECRET_KEY", "", "its API keys are missing"),
]


@pytest.fixture(scope="module")
def api(local_server) -> Api:
    return Api(local_server)


def stored(api: Api) -> tuple:
    """What the server holds: every task and model with its status, tags and last change."""
    tasks = api.call(
        "tasks.get_all",
        search_hidden=True,
        only_fields=["id", "status", "tags", "last_update"],
        page=0,
        page_size=100_000,
    )["tasks"]
    models = api.call(
        "models.get_all", only_fields=["id", "tags", "ready"], page=0, page_size=100_000
    )["models"]
    return sorted(map(repr, tasks)), sorted(map(repr, models))


def assert_refused(done, named: str) -> None:
    text = output(done)
    assert done.returncode == 1, text
    assert named in text
    assert "Traceback" not in text


@pytest.mark.parametrize(
    ("script", "overrides", "named"),
    BAD_OVERRIDES,
    ids=[f"{case[0]}-{'-'.join(case[1])}" for case in BAD_OVERRIDES],
)
def test_bad_override_is_named_and_changes_nothing(
    clearml_env, api, tmp_path, script, overrides, named
):
    before = stored(api)
    done = run_script(script, *overrides, env=clearml_env, cwd=tmp_path)
    assert_refused(done, named)
    assert stored(api) == before
    assert not (tmp_path / "reports").exists()


@pytest.mark.parametrize(("variable", "value", "named"), BAD_ENVIRONMENT)
@pytest.mark.parametrize("script", ["train", "list_models"])
def test_bad_environment_is_named_and_changes_nothing(
    clearml_env, api, tmp_path, script, variable, value, named
):
    before = stored(api)
    done = run_script(script, env={**clearml_env, variable: value}, cwd=tmp_path, timeout=60)
    assert_refused(done, named)
    assert stored(api) == before
