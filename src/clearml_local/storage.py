"""SQLite-backed document and event store of the local ClearML-compatible server."""

from __future__ import annotations

import copy
import json
import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

KINDS = ("tasks", "models", "projects", "queues")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    task TEXT NOT NULL,
    type TEXT NOT NULL,
    metric TEXT NOT NULL,
    variant TEXT NOT NULL,
    iter INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_task ON events (task, type, metric, variant, iter);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class Store:
    """Documents are cached in memory and written through to SQLite.

    One server process owns a data folder, so the cache never goes stale; every write is
    committed at once so a killed server loses nothing that was acknowledged.
    """

    def __init__(self, db_path: Path) -> None:
        self.lock = threading.RLock()
        self._conn = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA busy_timeout=10000")
        self._conn.executescript(_SCHEMA)
        self._docs: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in KINDS}
        for kind, doc_id, body in self._conn.execute("SELECT kind, id, body FROM documents"):
            self._docs.setdefault(kind, {})[doc_id] = json.loads(body)
        log.info("Opened store %s (%d tasks)", db_path, len(self._docs["tasks"]))

    def close(self) -> None:
        with self.lock:
            self._conn.close()

    # documents

    def get(self, kind: str, doc_id: str) -> dict[str, Any] | None:
        doc = self._docs[kind].get(doc_id)
        return copy.deepcopy(doc) if doc is not None else None

    def peek(self, kind: str, doc_id: str) -> dict[str, Any] | None:
        """Return the cached document itself; callers must not modify it."""
        return self._docs[kind].get(doc_id)

    def all(self, kind: str) -> Iterable[dict[str, Any]]:
        """Yield cached documents without copying; callers must not modify them."""
        return self._docs[kind].values()

    def put(self, kind: str, doc: dict[str, Any]) -> None:
        with self.lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO documents (kind, id, body) VALUES (?, ?, ?)",
                (kind, doc["id"], json.dumps(doc)),
            )
            self._docs[kind][doc["id"]] = copy.deepcopy(doc)

    def delete(self, kind: str, doc_id: str) -> bool:
        with self.lock:
            self._conn.execute("DELETE FROM documents WHERE kind = ? AND id = ?", (kind, doc_id))
            return self._docs[kind].pop(doc_id, None) is not None

    # settings

    def get_setting(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_setting(self, key: str, value: str) -> None:
        with self.lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", (key, value)
            )

    # events

    def add_events(self, rows: list[tuple[str, str, str, str, int, int, dict[str, Any]]]) -> None:
        with self.lock:
            self._conn.execute("BEGIN")
            self._conn.executemany(
                "INSERT INTO events (task, type, metric, variant, iter, timestamp, body) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(*row[:6], json.dumps(row[6])) for row in rows],
            )
            self._conn.execute("COMMIT")

    def events(
        self,
        task: str,
        types: Iterable[str],
        metric: str | None = None,
        descending: bool = False,
    ) -> Iterator[dict[str, Any]]:
        type_list = list(types)
        sql = "SELECT body FROM events WHERE task = ? AND type IN ({})".format(
            ",".join("?" * len(type_list))
        )
        params: list[Any] = [task, *type_list]
        if metric is not None:
            sql += " AND metric = ?"
            params.append(metric)
        sql += " ORDER BY seq DESC" if descending else " ORDER BY seq"
        for (body,) in self._conn.execute(sql, params):
            yield json.loads(body)

    def delete_events(self, task: str) -> int:
        with self.lock:
            cursor = self._conn.execute("DELETE FROM events WHERE task = ?", (task,))
            return cursor.rowcount
