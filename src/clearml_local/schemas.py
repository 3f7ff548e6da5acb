"""Request and response JSON schemas of each call, taken from the SDK's own service classes."""

from __future__ import annotations

import ast
import functools
import importlib.util
import threading
from pathlib import Path
from typing import Any

from clearml_local.errors import bad_request

SCHEMA_PACKAGE = "clearml.backend_api.services.v2_23"

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list, tuple),
    "object": (dict,),
}


_LOAD_LOCK = threading.Lock()


def sdk_schemas() -> dict[str, dict[str, dict[str, Any]]]:
    """Map `service.action` to {"request": schema, "response": schema} where the SDK has them.

    The schemas are read from the SDK's source as literals: importing the SDK takes seconds.
    """
    # ast.parse in two threads at once can fail in CPython 3.11 (python/cpython#106905)
    with _LOAD_LOCK:
        return _parse_schemas()


@functools.cache
def _parse_schemas() -> dict[str, dict[str, dict[str, Any]]]:
    spec = importlib.util.find_spec("clearml")
    if spec is None or spec.origin is None:
        raise RuntimeError("The clearml SDK is not installed; its schemas are the contract")
    folder = Path(spec.origin).parent.joinpath(*SCHEMA_PACKAGE.split(".")[1:])
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for source in sorted(folder.glob("*.py")):
        for node in ast.parse(source.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef):
                _add_class(found, node)
    return found


def _add_class(found: dict[str, dict[str, dict[str, Any]]], node: ast.ClassDef) -> None:
    attrs: dict[str, Any] = {}
    for item in node.body:
        if (
            isinstance(item, ast.Assign)
            and len(item.targets) == 1
            and isinstance(item.targets[0], ast.Name)
            and item.targets[0].id in ("_service", "_action", "_schema")
        ):
            attrs[item.targets[0].id] = ast.literal_eval(item.value)
    if {"_service", "_action", "_schema"} <= attrs.keys():
        kind = "request" if node.name.endswith("Request") else "response"
        found.setdefault(f"{attrs['_service']}.{attrs['_action']}", {})[kind] = attrs["_schema"]


def _type_ok(value: Any, declared: Any) -> bool:
    names = declared if isinstance(declared, list) else [declared]
    if value is None:
        return True
    for name in names:
        types = _JSON_TYPES.get(name)
        if types is None:
            return True
        # bool is an int in Python but not in JSON schema
        if isinstance(value, types) and not (isinstance(value, bool) and name != "boolean"):
            return True
    return False


def check_request(name: str, body: dict[str, Any]) -> None:
    """Reject missing required fields and top-level values of the wrong JSON type."""
    schema = sdk_schemas().get(name, {}).get("request")
    if not schema:
        return
    for field in schema.get("required", []):
        if body.get(field) is None:
            raise bad_request(f"Validation error: missing required field '{field}'", subcode=11)
    for field, spec in (schema.get("properties") or {}).items():
        if field in body and "type" in spec and not _type_ok(body[field], spec["type"]):
            raise bad_request(
                f"Validation error: field '{field}' must be of type {spec['type']}", subcode=12
            )
