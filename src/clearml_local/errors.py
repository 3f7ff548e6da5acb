"""Errors that the API answers with a ClearML error envelope."""

from __future__ import annotations


class ApiError(Exception):
    """A failed call: HTTP status, ClearML result code and subcode, and a message."""

    def __init__(self, status: int, message: str, code: int | None = None, subcode: int = 0):
        super().__init__(message)
        self.status = status
        self.code = code if code is not None else status
        self.subcode = subcode
        self.message = message


def bad_request(message: str, subcode: int = 0) -> ApiError:
    return ApiError(400, message, 400, subcode)


def not_found(kind: str, doc_id: str) -> ApiError:
    # the real server answers a missing object with 400 and a kind-specific subcode
    subcodes = {"task": 101, "model": 201, "project": 401, "queue": 701}
    return ApiError(400, f"Invalid {kind} id: id={doc_id}", 400, subcodes.get(kind, 0))


def unauthorized(message: str) -> ApiError:
    return ApiError(401, message, 401, 0)
