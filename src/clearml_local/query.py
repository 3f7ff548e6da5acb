"""Filtering, ordering, paging and field projection of get_all style queries."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from clearml_local.errors import bad_request

_MISSING = object()
Predicate = Callable[[dict[str, Any]], bool]


def dotted_get(doc: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(doc, dict) or part not in doc:
            return _MISSING
        doc = doc[part]
    return doc


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def compile_regex(pattern: Any) -> re.Pattern[str]:
    try:
        return re.compile(str(pattern), re.IGNORECASE)
    except re.error as exc:
        raise bad_request(f"Invalid regular expression {pattern!r}: {exc}") from exc


def tags_predicate(field: str, values: Any) -> Predicate:
    """Any-match on plain values; `-x` and `__$not x` exclude; `__$all` requires every value."""
    any_of: list[str] = []
    all_of: list[str] = []
    none_of: list[str] = []
    mode_all = False
    negate_next = False
    for value in as_list(values):
        value = str(value)
        if value in ("__$all", "__$and"):
            mode_all = True
        elif value in ("__$any", "__$or"):
            mode_all = False
        elif value == "__$not":
            negate_next = True
        elif negate_next or (value.startswith("-") and len(value) > 1):
            none_of.append(value if negate_next else value[1:])
            negate_next = False
        else:
            (all_of if mode_all else any_of).append(value)

    def match(doc: dict[str, Any]) -> bool:
        present = set(doc.get(field) or ())
        if any_of and present.isdisjoint(any_of):
            return False
        return all(tag in present for tag in all_of) and present.isdisjoint(none_of)

    return match


def in_predicate(field: str, values: Any) -> Predicate:
    """Membership on a field; values starting with `-` exclude instead."""
    wanted = {v for v in as_list(values) if not (isinstance(v, str) and v.startswith("-"))}
    unwanted = {v[1:] for v in as_list(values) if isinstance(v, str) and v.startswith("-")}

    def match(doc: dict[str, Any]) -> bool:
        value = doc.get(field)
        if wanted and value not in wanted:
            return False
        return value not in unwanted

    return match


def pattern_predicate(spec: Any, require_all: bool) -> Predicate:
    if not isinstance(spec, dict):
        raise bad_request("_all_/_any_ must be an object with 'pattern' and 'fields'")
    regex = compile_regex(spec.get("pattern", ""))
    fields = as_list(spec.get("fields"))

    def field_matches(doc: dict[str, Any], field: str) -> bool:
        value = dotted_get(doc, field)
        if value is _MISSING or value is None:
            return False
        values = value if isinstance(value, list) else [value]
        return any(regex.search(str(v)) for v in values)

    def match(doc: dict[str, Any]) -> bool:
        if not fields:
            return True
        results = (field_matches(doc, field) for field in fields)
        return all(results) if require_all else any(results)

    return match


def build_predicates(
    body: dict[str, Any], in_fields: Iterable[str], regex_fields: Iterable[str] = ("name",)
) -> list[Predicate]:
    predicates: list[Predicate] = []
    for field in in_fields:
        if body.get(field) is not None and body.get(field) != []:
            predicates.append(in_predicate(field, body[field]))
    for field in regex_fields:
        if body.get(field):
            regex = compile_regex(body[field])
            predicates.append(lambda doc, f=field, r=regex: bool(r.search(str(doc.get(f) or ""))))
    for field in ("tags", "system_tags"):
        if body.get(field):
            predicates.append(tags_predicate(field, body[field]))
    if body.get("_all_"):
        predicates.append(pattern_predicate(body["_all_"], require_all=True))
    if body.get("_any_"):
        predicates.append(pattern_predicate(body["_any_"], require_all=False))
    return predicates


def _sort_key(value: Any) -> tuple[int, Any]:
    # None and missing values sort first ascending, like MongoDB; mixed types sort by kind
    if value is _MISSING or value is None:
        return (0, 0)
    if isinstance(value, bool | int | float):
        return (1, value)
    return (2, str(value))


def order(docs: list[dict[str, Any]], order_by: Any) -> list[dict[str, Any]]:
    for key in reversed(as_list(order_by)):
        if not isinstance(key, str) or not key.strip("-"):
            continue
        descending = key.startswith("-")
        field = key.lstrip("-")
        docs.sort(key=lambda d, f=field: _sort_key(dotted_get(d, f)), reverse=descending)
    return docs


def page(docs: list[dict[str, Any]], body: dict[str, Any]) -> list[dict[str, Any]]:
    size = body.get("page_size")
    number = body.get("page")
    if size is None and number is None:
        return docs
    try:
        size = int(size) if size is not None else 500
        number = int(number) if number is not None else 0
    except (TypeError, ValueError) as exc:
        raise bad_request("page and page_size must be integers") from exc
    if size < 1 or number < 0:
        raise bad_request("page must be >= 0 and page_size >= 1")
    return docs[number * size : (number + 1) * size]


def project(doc: dict[str, Any], only_fields: Any) -> dict[str, Any]:
    """Copy of doc holding only the given (possibly dotted) fields, plus id."""
    fields = as_list(only_fields)
    if not fields:
        return _deep_copy(doc)
    result: dict[str, Any] = {"id": doc.get("id")}
    for field in fields:
        value = dotted_get(doc, str(field))
        if value is _MISSING:
            continue
        target = result
        parts = str(field).split(".")
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = _deep_copy(value)
    return result


def _deep_copy(value: Any) -> Any:
    # faster than copy.deepcopy for JSON-shaped data, which is all the store holds
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def run_query(
    docs: Iterable[dict[str, Any]],
    body: dict[str, Any],
    predicates: list[Predicate],
    default_order: Any = None,
) -> list[dict[str, Any]]:
    selected = [doc for doc in docs if all(p(doc) for p in predicates)]
    order(selected, body.get("order_by") or default_order)
    selected = page(selected, body)
    return [project(doc, body.get("only_fields")) for doc in selected]
