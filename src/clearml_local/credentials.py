"""Per-data-folder access keys and token secret, kept in credentials.json (mode 0600)."""

from __future__ import annotations

import json
import logging
import os
import secrets
import string
from pathlib import Path

from clearml_local.services.auth import Credentials

log = logging.getLogger(__name__)

CREDENTIALS_FILE = "credentials.json"


def _random_key(length: int) -> str:
    alphabet = string.ascii_uppercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def load_or_create(
    data_dir: Path, access_key: str | None = None, secret_key: str | None = None
) -> Credentials:
    """Read the folder's credentials, creating them on first use; given keys override."""
    path = data_dir / CREDENTIALS_FILE
    stored: dict[str, str] = {}
    if path.is_file():
        stored = json.loads(path.read_text(encoding="utf-8"))
    wanted = {
        "access_key": access_key or stored.get("access_key") or _random_key(24),
        "secret_key": secret_key or stored.get("secret_key") or secrets.token_urlsafe(36),
        "token_secret": stored.get("token_secret") or secrets.token_hex(32),
    }
    if wanted != stored:
        data_dir.mkdir(parents=True, exist_ok=True)
        # created with 0600 from the start so the secret is never world-readable
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(wanted, out, indent=2)
        os.chmod(path, 0o600)
        log.info("Wrote credentials to %s", path)
    return Credentials(**wanted)
