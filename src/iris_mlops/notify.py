"""Notifications of pipeline runs: one line each in a log file that several runs may share."""

import logging
import os
from datetime import UTC, datetime
from pathlib import Path

from iris_mlops.errors import IrisMlopsError

log = logging.getLogger(__name__)

FIELDS = ("pipeline", "group", "status", "winner", "model_id", "accuracy")


def format_line(fields: dict[str, object], now: datetime | None = None) -> str:
    """`<UTC time> key=value ...` in a fixed key order; values never contain spaces."""
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    parts = [f"{key}={_clean(fields.get(key))}" for key in FIELDS]
    return f"{stamp} {' '.join(parts)}\n"


def _clean(value: object) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    return "_".join(str(value).split())


def append(path: Path, fields: dict[str, object]) -> str:
    """Append one line with a single write in append mode, so concurrent runs never interleave."""
    line = format_line(fields)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError as error:
        raise IrisMlopsError(
            f"Cannot write the notifications log {path}: {error.strerror}."
        ) from error
    try:
        # one short write to a file opened with O_APPEND lands whole at the end
        os.write(descriptor, line.encode())
    finally:
        os.close(descriptor)
    log.info("Notified %s: %s", path, line.strip())
    return line


def parse_line(line: str) -> dict[str, str]:
    """The fields of a notification line, with its time under `time`."""
    stamp, *pairs = line.split()
    return {"time": stamp, **dict(pair.split("=", 1) for pair in pairs)}
