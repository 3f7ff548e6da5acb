"""The auth service: access/secret key check and signed, expiring bearer tokens."""

from __future__ import annotations

import base64
import binascii
import hmac
import time
from dataclasses import dataclass
from typing import Any

import jwt

from clearml_local.errors import unauthorized
from clearml_local.services.server import API_VERSION, SERVER_VERSION

DEFAULT_EXPIRATION_SEC = 30 * 24 * 3600


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str
    token_secret: str

    def identity(self) -> dict[str, Any]:
        # one local user per data folder; ids are stable so task.user survives restarts
        return {
            "user": "local-" + self.access_key[:12].lower(),
            "company": "local",
            "role": "user",
            "user_name": "local user",
            "company_name": "local",
        }


def issue_token(creds: Credentials, expiration_sec: int | None = None) -> str:
    now = int(time.time())
    claims = {
        "identity": creds.identity(),
        "api_version": API_VERSION,
        "server_version": SERVER_VERSION,
        "feature_set": "basic",
        "env": "local",
        "auth_type": "Bearer",
        "iat": now,
        "exp": now + int(expiration_sec or DEFAULT_EXPIRATION_SEC),
    }
    return jwt.encode(claims, creds.token_secret, algorithm="HS256")


def check_basic(creds: Credentials, header: str) -> None:
    try:
        decoded = base64.b64decode(header.split(" ", 1)[1], validate=True).decode("utf-8")
    except (IndexError, ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise unauthorized("Invalid basic authorization header") from exc
    access_key, _, secret_key = decoded.partition(":")
    good_access = hmac.compare_digest(access_key.encode(), creds.access_key.encode())
    good_secret = hmac.compare_digest(secret_key.encode(), creds.secret_key.encode())
    if not (good_access and good_secret):
        raise unauthorized("Invalid access key or secret key")


def check_bearer(creds: Credentials, header: str) -> dict[str, Any]:
    token = header.split(" ", 1)[1].strip() if " " in header else ""
    try:
        return jwt.decode(token, creds.token_secret, algorithms=["HS256"])
    except jwt.ExpiredSignatureError as exc:
        raise unauthorized("Token expired") from exc
    except jwt.InvalidTokenError as exc:
        raise unauthorized("Invalid token") from exc


def authenticate(creds: Credentials, header: str | None) -> dict[str, Any]:
    """Return the token claims for a bearer header, or raise 401."""
    if not header:
        raise unauthorized("Unauthorized (missing credentials)")
    scheme = header.split(" ", 1)[0].lower()
    if scheme == "bearer":
        return check_bearer(creds, header)
    if scheme == "basic":
        check_basic(creds, header)
        return {"identity": creds.identity()}
    raise unauthorized("Unsupported authorization scheme")
