"""Transport, authentication, error envelopes and the file server, over plain HTTP."""

from __future__ import annotations

import requests

from clearml_local import ServerInfo


def test_login_issues_a_token_with_the_claims_the_sdk_reads(local_server: ServerInfo):
    import jwt

    response = requests.get(
        f"{local_server.api_url}/auth.login",
        auth=(local_server.access_key, local_server.secret_key),
        timeout=10,
    )

    assert response.status_code == 200
    claims = jwt.decode(response.json()["data"]["token"], options={"verify_signature": False})
    assert claims["api_version"] == "2.23"
    assert claims["feature_set"] == "basic"
    assert claims["exp"] > claims["iat"]
    assert claims["identity"]["user"]


def test_wrong_keys_get_401_in_the_error_envelope(local_server: ServerInfo):
    response = requests.get(
        f"{local_server.api_url}/auth.login", auth=(local_server.access_key, "wrong"), timeout=10
    )

    assert response.status_code == 401
    meta = response.json()["meta"]
    assert meta["result_code"] == 401
    assert "Invalid access key" in meta["result_msg"]
    assert meta["endpoint"]["name"] == "auth.login"


def test_calls_need_a_valid_bearer_token_except_ping(local_server: ServerInfo):
    url = f"{local_server.api_url}/v2.23/tasks.get_all"
    missing = requests.post(url, json={}, timeout=10)
    forged = requests.post(url, json={}, headers={"Authorization": "Bearer x.y.z"}, timeout=10)
    ping = requests.get(f"{local_server.api_url}/debug.ping", timeout=10)

    assert (missing.status_code, forged.status_code, ping.status_code) == (401, 401, 200)
    assert missing.json()["meta"]["result_code"] == 401


def test_success_envelope_mirrors_the_real_server(api):
    status, envelope = api.raw("projects.get_all", {"method": "get", "unknown_field": 1})

    assert status == 200
    meta = envelope["meta"]
    assert meta["result_code"] == 200 and meta["result_subcode"] == 0
    assert meta["endpoint"] == {
        "name": "projects.get_all",
        "requested_version": "2.23",
        "actual_version": "2.23",
    }
    assert meta["error_stack"] is None and meta["alarms"] == {}
    assert meta["id"] == meta["trx"]
    assert isinstance(envelope["data"]["projects"], list)


def test_unversioned_path_and_get_method_work(api):
    response = api.http.get(f"{api.info.api_url}/projects.get_all", data="{}")

    assert response.status_code == 200
    assert response.json()["meta"]["endpoint"]["name"] == "projects.get_all"


def test_bad_requests_get_4xx_envelopes_never_500(api):
    cases = {
        "malformed json": api.http.post(f"{api.info.api_url}/v2.23/tasks.get_all", data="{nope"),
        "not an object": api.http.post(f"{api.info.api_url}/v2.23/tasks.get_all", data="3"),
        "unknown call": api.http.post(f"{api.info.api_url}/v2.23/tasks.fly", data="{}"),
        "not a call": api.http.post(f"{api.info.api_url}/hello", data="{}"),
        "missing field": api.http.post(f"{api.info.api_url}/v2.23/tasks.create", json={}),
        "wrong type": api.http.post(
            f"{api.info.api_url}/v2.23/tasks.create", json={"name": 5, "type": "training"}
        ),
        "bad enum": api.http.post(
            f"{api.info.api_url}/v2.23/tasks.create", json={"name": "x", "type": "nope"}
        ),
        "missing task": api.http.post(
            f"{api.info.api_url}/v2.23/tasks.get_by_id", json={"task": "does-not-exist"}
        ),
        "bad regex": api.http.post(f"{api.info.api_url}/v2.23/tasks.get_all", json={"name": "("}),
        "nested junk": api.http.post(
            f"{api.info.api_url}/v2.23/tasks.get_hyper_params", json={"tasks": [[1]]}
        ),
        "bad event": api.http.post(
            f"{api.info.api_url}/v2.23/events.add_batch",
            data='{"type": "training_stats_scalar"}',
            headers={"Content-Type": "application/json-lines"},
        ),
    }

    for case, response in cases.items():
        assert 400 <= response.status_code < 500, case
        meta = response.json()["meta"]
        assert meta["result_code"] >= 400 and meta["result_msg"], case
    assert cases["unknown call"].status_code == 404
    assert "Unknown call" in cases["unknown call"].json()["meta"]["result_msg"]


def test_upload_and_download_round_trip_with_auth(api, unique):
    files_url = api.info.files_url
    path = f"{unique}/task.abc/artifacts/data/data.bin"

    uploaded = api.http.post(f"{files_url}/", files={f"/{path}": ("data.bin", b"\x00\x01abc")})
    downloaded = api.http.get(f"{files_url}/{path}")
    anonymous = requests.get(f"{files_url}/{path}", timeout=10)

    assert uploaded.status_code == 200
    assert downloaded.status_code == 200 and downloaded.content == b"\x00\x01abc"
    assert anonymous.status_code == 401
    assert (api.info.data_dir / "files" / path).read_bytes() == b"\x00\x01abc"


def test_uploads_cannot_leave_the_files_folder(api):
    files_url = api.info.files_url
    escapes = ["../escape.txt", "a/../../escape.txt", "C:/escape.txt", "a/%2e%2e/%2e%2e/x"]

    for name in escapes:
        response = api.http.post(f"{files_url}/", files={name: ("x", b"evil")})
        assert response.status_code == 400, name
    traversal = api.http.get(f"{files_url}/..%2Fcredentials.json")

    assert traversal.status_code in (400, 404)
    assert not (api.info.data_dir / "escape.txt").exists()
    assert not (api.info.data_dir.parent / "escape.txt").exists()


def test_missing_file_is_404(api):
    assert api.http.get(f"{api.info.files_url}/no/such/file.bin").status_code == 404


JUNK_BODIES = [
    {},
    {"task": 5, "tasks": "x", "model": [], "project": {"a": 1}, "name": None},
    {"task": "missing", "tasks": ["missing"], "model": "missing", "queue": "missing"},
    {"hyperparams": [None], "configuration": [1], "artifacts": "x", "metadata": [{"x": 1}]},
    {"order_by": ["-" * 3], "only_fields": [""], "page": -1, "page_size": 0},
]


def test_every_call_answers_junk_with_4xx_or_200_never_500(api):
    from clearml_local.api import IMPLEMENTED

    for name in IMPLEMENTED:
        for body in JUNK_BODIES:
            status, envelope = api.raw(name, body)
            assert status < 500, (name, body, envelope["meta"])
            assert envelope["meta"]["result_code"] == (200 if status == 200 else status)
