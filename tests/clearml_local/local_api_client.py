"""The raw API client for tests, made from a running server's info."""

from __future__ import annotations

from typing import Any

from clearml_local import ServerInfo
from clearml_local.client import ApiClient


class Api(ApiClient):
    """An ApiClient logged in to `info`'s server, keeping `info` at hand."""

    def __init__(self, info: ServerInfo | Any) -> None:
        super().__init__(info.api_url, info.access_key, info.secret_key, timeout=60)
        self.info = info
