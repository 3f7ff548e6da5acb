"""API call handlers, one module per ClearML service; importing this registers them all."""

from clearml_local.services import (
    auth,
    events,
    models,
    projects,
    queues,
    server,
    task_parameters,
    tasks,
)

__all__ = [
    "auth",
    "events",
    "models",
    "projects",
    "queues",
    "server",
    "task_parameters",
    "tasks",
]
