"""The embedded state store for local mode: SQLite with the same semantics as the DynamoDB adapter."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from handler.core.job import ClaimState, Job, JobStatus
from handler.core.limits import CLAIM_STALE_SECONDS, JOB_TTL_SECONDS, STATE_TTL_SECONDS
from handler.core.ports import UpdateInProgress
from handler.core.state import UserState


class SQLiteStore:
    """Update ledger, per-user state and job items in one SQLite file; safe across threads and processes."""

    def __init__(self, path: Path, *, claim_ttl_seconds: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=10, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS items (pk TEXT, sk TEXT, version INTEGER, status TEXT, body TEXT,"
            " expires_at INTEGER, PRIMARY KEY (pk, sk))"
        )
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(items)")}
        if "beat_at" not in columns:  # a file made before jobs had heartbeats
            self._db.execute("ALTER TABLE items ADD COLUMN beat_at REAL")
        self._lock = threading.Lock()
        self._claim_ttl = claim_ttl_seconds

    def _execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        with self._lock:
            # Expired items are gone, as DynamoDB's TTL makes them (eventually) gone.
            self._db.execute("DELETE FROM items WHERE expires_at < ?", (int(time.time()),))
            return self._db.execute(sql, args)

    def claim_update(self, update_id: int, *, stale_after: float = CLAIM_STALE_SECONDS) -> bool:
        now = time.time()
        pk = f"update#{update_id}"
        cursor = self._execute(
            "INSERT INTO items (pk, sk, status, beat_at, expires_at) VALUES (?, 'update', ?, ?, ?)"
            " ON CONFLICT (pk, sk) DO UPDATE SET beat_at = excluded.beat_at"
            " WHERE items.status = ? AND items.beat_at < ?",
            pk,
            ClaimState.PROCESSING,
            now,
            int(now) + self._claim_ttl,
            ClaimState.PROCESSING,
            now - stale_after,
        )
        if cursor.rowcount == 1:
            return True
        row = self._execute("SELECT status FROM items WHERE pk = ? AND sk = 'update'", pk).fetchone()
        if row is not None and row[0] == ClaimState.PROCESSING:
            raise UpdateInProgress(str(update_id))
        return False

    def finish_update(self, update_id: int) -> None:
        self._execute(
            "UPDATE items SET status = ? WHERE pk = ? AND sk = 'update'", ClaimState.DONE, f"update#{update_id}"
        )

    def release_update(self, update_id: int) -> None:
        self._execute("DELETE FROM items WHERE pk = ? AND sk = 'update'", f"update#{update_id}")

    def load(self, user_id: int) -> UserState:
        row = self._execute(
            "SELECT version, body FROM items WHERE pk = ? AND sk = 'state'", f"user#{user_id}"
        ).fetchone()
        if row is None:
            return UserState(user_id=user_id)
        return UserState.from_body(user_id, int(row[0]), str(row[1]))

    def save(self, state: UserState) -> UserState | None:
        new_version = state.version + 1
        expires = int(time.time()) + STATE_TTL_SECONDS
        pk = f"user#{state.user_id}"
        if state.version == 0:
            cursor = self._execute(
                "INSERT OR IGNORE INTO items (pk, sk, version, body, expires_at) VALUES (?, 'state', ?, ?, ?)",
                pk,
                new_version,
                state.to_body(),
                expires,
            )
        else:
            cursor = self._execute(
                "UPDATE items SET version = ?, body = ?, expires_at = ? WHERE pk = ? AND sk = 'state' AND version = ?",
                new_version,
                state.to_body(),
                expires,
                pk,
                state.version,
            )
        return state.with_(version=new_version) if cursor.rowcount == 1 else None

    def put_job(self, job: Job, status: JobStatus) -> None:
        self._execute(
            "INSERT OR REPLACE INTO items (pk, sk, status, body, expires_at) VALUES (?, ?, ?, ?, ?)",
            f"user#{job.user_id}",
            f"job#{job.job_id}",
            status,
            job.to_json(),
            int(time.time()) + JOB_TTL_SECONDS,
        )

    def job_status(self, user_id: int, job_id: str) -> JobStatus | None:
        row = self._execute(
            "SELECT status FROM items WHERE pk = ? AND sk = ?", f"user#{user_id}", f"job#{job_id}"
        ).fetchone()
        return JobStatus(row[0]) if row else None

    def load_job(self, user_id: int, job_id: str) -> Job | None:
        row = self._execute(
            "SELECT body FROM items WHERE pk = ? AND sk = ? AND expires_at > ?",
            f"user#{user_id}",
            f"job#{job_id}",
            int(time.time()),
        ).fetchone()
        return Job.model_validate_json(row[0]) if row and row[0] else None

    def move_progress(self, user_id: int, job_id: str, message_id: int) -> None:
        """The job's body gets the message id, in one statement (the job's other fields are kept)."""
        self._execute(
            "UPDATE items SET body = json_set(body, '$.progress_message_id', ?) WHERE pk = ? AND sk = ?",
            message_id,
            f"user#{user_id}",
            f"job#{job_id}",
        )

    def beat(self, user_id: int, job_id: str, at: float) -> None:
        self._execute("UPDATE items SET beat_at = ? WHERE pk = ? AND sk = ?", at, f"user#{user_id}", f"job#{job_id}")

    def last_beat(self, user_id: int, job_id: str) -> float | None:
        row = self._execute(
            "SELECT beat_at FROM items WHERE pk = ? AND sk = ?", f"user#{user_id}", f"job#{job_id}"
        ).fetchone()
        return float(row[0]) if row and row[0] is not None else None

    def set_job_status(self, user_id: int, job_id: str, status: JobStatus, *, only_from: tuple[JobStatus, ...]) -> bool:
        marks = ", ".join("?" for _ in only_from)
        cursor = self._execute(
            f"UPDATE items SET status = ? WHERE pk = ? AND sk = ? AND status IN ({marks})",  # noqa: S608 (placeholders)
            status,
            f"user#{user_id}",
            f"job#{job_id}",
            *only_from,
        )
        return cursor.rowcount == 1

    def forget(self, user_id: int) -> int:
        return self._execute("DELETE FROM items WHERE pk = ?", f"user#{user_id}").rowcount

    def close(self) -> None:
        self._db.close()
