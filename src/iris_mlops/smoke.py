"""An end-to-end check of the ClearML backend: API, keys, task write and read, file server."""

import logging
import secrets
from dataclasses import dataclass

from iris_mlops import tracking
from iris_mlops.config import check_names
from iris_mlops.errors import BackendError, IrisMlopsError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    part: str
    detail: str


def run_smoke(project: str) -> list[Check]:
    """Each passed check in order; the first failure raises, naming the part and likely cause."""
    check_names({"project": project}, ("project",))
    backend = tracking.select_backend()
    checks = [Check("API server and keys", backend.describe())]
    if not backend.has_server:
        raise IrisMlopsError(
            "CLEARML_OFFLINE_MODE is set: there is no server to check. Unset it to check the "
            "local server or the configured one."
        )
    nonce = secrets.token_hex(8)
    task = tracking.start_task(project, "hw5-smoke", ["smoke"], {"nonce": nonce}, "testing")
    try:
        task.get_logger().report_scalar("smoke", "nonce_length", len(nonce), iteration=0)
        task.upload_artifact("smoke", artifact_object={"nonce": nonce}, wait_on_upload=True)
        task.flush(wait_for_uploads=True)
    except Exception as error:
        task.mark_failed(status_reason=str(error), force=True)
        raise BackendError(f"Writing to task {task.id} failed: {error}") from error
    task.close()
    checks.append(Check("task write", f"task {task.id}: scalar and artifact sent"))
    checks.extend(_read_back(task.id, nonce, backend))
    return checks


def _read_back(task_id: str, nonce: str, backend: tracking.Backend) -> list[Check]:
    from clearml import Task

    stored = Task.get_task(task_id=task_id)
    scalars = stored.get_last_scalar_metrics()
    value = scalars.get("smoke", {}).get("nonce_length", {}).get("last")
    if value != len(nonce):
        raise BackendError(f"The server did not keep the scalar of task {task_id} (read {value}).")
    artifact = stored.artifacts.get("smoke")
    try:
        content = artifact.get() if artifact else None
    except Exception as error:
        content = error
    if not isinstance(content, dict) or content.get("nonce") != nonce:
        url = artifact.url if artifact else "none"
        raise BackendError(
            f"The artifact of task {task_id} could not be read back from {url} ({content!r}). "
            f"Check that the file server at {backend.files_url} is running and that "
            "CLEARML_FILES_HOST is the same URL the server was given (localhost vs a host name)."
        )
    stored.set_archived(True)
    return [
        Check("task read", f"scalar read back from task {task_id}"),
        Check("file server", f"artifact round trip through {artifact.url}"),
        Check("clean-up", f"task {task_id} archived"),
    ]
