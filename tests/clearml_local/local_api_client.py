"""A raw HTTP client of the local server's API for tests, authenticating like the SDK."""

from __future__ import annotations

import json
from typing import Any

import requests

from clearml_local import ServerInfo


class Api:
    """Calls the API the way the SDK does and returns (HTTP status, envelope)."""

    def __init__(self, info: ServerInfo) -> None:
        self.info = info
        self.http = requests.Session()
        login = self.http.get(
            f"{info.api_url}/auth.login", auth=(info.access_key, info.secret_key), timeout=10
        )
        login.raise_for_status()
        self.token = login.json()["data"]["token"]
        self.http.headers["Authorization"] = f"Bearer {self.token}"

    def raw(self, name: str, body: Any = None, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        data = json.dumps(body if body is not None else {})
        response = self.http.post(f"{self.info.api_url}/v2.23/{name}", data=data, **kwargs)
        return response.status_code, response.json()

    def call(self, _call: str, **body: Any) -> dict[str, Any]:
        status, envelope = self.raw(_call, body)
        assert status == 200, envelope["meta"]
        return envelope["data"]

    def events(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        lines = "\n".join(json.dumps(e) for e in events)
        response = self.http.post(
            f"{self.info.api_url}/v2.23/events.add_batch",
            data=lines,
            headers={"Content-Type": "application/json-lines"},
        )
        assert response.status_code == 200, response.text
        return response.json()["data"]
