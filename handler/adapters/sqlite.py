"""The embedded state store for local mode: SQLite with the same claim semantics as the DynamoDB adapter."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path


class SQLiteStore:
    """Update ledger (and, later, per-user state) in one SQLite file; safe across threads and processes."""

    def __init__(self, path: Path, *, claim_ttl_seconds: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=10, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS items (pk TEXT PRIMARY KEY, body TEXT, expires_at INTEGER)")
        self._lock = threading.Lock()
        self._claim_ttl = claim_ttl_seconds

    def _purge_expired(self, now: int) -> None:
        self._db.execute("DELETE FROM items WHERE expires_at IS NOT NULL AND expires_at < ?", (now,))

    def claim_update(self, update_id: int) -> bool:
        now = int(time.time())
        with self._lock:
            self._purge_expired(now)
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO items (pk, body, expires_at) VALUES (?, '{}', ?)",
                (f"update#{update_id}", now + self._claim_ttl),
            )
            return cursor.rowcount == 1

    def release_update(self, update_id: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM items WHERE pk = ?", (f"update#{update_id}",))

    def close(self) -> None:
        self._db.close()
