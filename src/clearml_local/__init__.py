"""A small ClearML-compatible API and file server that runs from Python, without Docker."""

from clearml_local.launcher import ServerInfo, ensure_running, stop_server
from clearml_local.serving import PortInUseError, serve

__all__ = ["PortInUseError", "ServerInfo", "ensure_running", "serve", "stop_server"]
