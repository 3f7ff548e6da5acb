"""A raw client of the ClearML REST API that logs in like the SDK, for tests and tools."""

from __future__ import annotations

import json
from typing import Any

import requests

API_VERSION = "2.23"


class ApiCallError(RuntimeError):
    """A call answered with an error envelope."""


class ApiClient:
    """Sends `<service>.<action>` calls with JSON bodies and a bearer token from the keys."""

    def __init__(self, api_url: str, access_key: str, secret_key: str, timeout: float = 300):
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        self.http = requests.Session()
        login = self.http.get(
            f"{self.api_url}/auth.login", auth=(access_key, secret_key), timeout=timeout
        )
        login.raise_for_status()
        self.token = login.json()["data"]["token"]
        self.http.headers["Authorization"] = f"Bearer {self.token}"

    def raw(self, name: str, body: Any = None, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        """The HTTP status and the whole envelope of one call."""
        data = json.dumps(body if body is not None else {})
        kwargs.setdefault("timeout", self.timeout)
        response = self.http.post(f"{self.api_url}/v{API_VERSION}/{name}", data=data, **kwargs)
        return response.status_code, response.json()

    def call(self, _call: str, **body: Any) -> dict[str, Any]:
        """The `data` of a successful call; an error envelope raises ApiCallError."""
        status, envelope = self.raw(_call, body)
        if status != 200:
            raise ApiCallError(f"{_call} answered {status}: {envelope['meta']}")
        return envelope["data"]

    def events(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        """Send events in one `events.add_batch`, as JSON lines like the SDK."""
        response = self.http.post(
            f"{self.api_url}/v{API_VERSION}/events.add_batch",
            data="\n".join(json.dumps(event) for event in events),
            headers={"Content-Type": "application/json-lines"},
            timeout=self.timeout,
        )
        if response.status_code != 200:
            raise ApiCallError(f"events.add_batch answered {response.status_code}")
        return response.json()["data"]

    def create_scored_task(
        self, project: str, name: str, tags: list[str], scores: dict[str, float]
    ) -> str:
        """A task with one scalar per metric (series `test`), as a finished run leaves it."""
        task = self.call("tasks.create", name=name, type="training", project=project, tags=tags)
        self.events(
            [
                {
                    "type": "training_stats_scalar",
                    "task": task["id"],
                    "metric": metric,
                    "variant": "test",
                    "value": value,
                    "iter": 0,
                }
                for metric, value in scores.items()
            ]
        )
        return task["id"]
