"""Local mode's daily counters and queue: the Usage and JobQueue ports on the SQLite file of the state store.

Counters are rows of their own table, changed by single UPDATE statements (atomic in SQLite), with the same
meaning and lifetime as on DynamoDB (`handler.adapters.dynamodb_usage`). The queue reads the state store's job
items (`items`, whose body is the job's JSON).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

from handler.core.job import Job, JobStatus
from handler.core.limits import DAILY_COUNTER_TTL_SECONDS
from handler.core.pace import RECENT_PACES
from handler.core.ports import ActiveJob, PositionLease
from handler.core.quotas import QuotaKind, user_key
from handler.core.stats import DaySummary, JobRecord

BUDGET = "budget"
REFUSALS = "refusals"
QUOTA_PREFIX = "quota#"


class SQLiteUsage:
    """Daily counters (`counters`: day, key, name -> value), job records (`job_records`) and paces (`paces`)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=10, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS counters (day TEXT, key TEXT, name TEXT, value REAL, expires_at INTEGER,"
            " PRIMARY KEY (day, key, name))"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS job_records (day TEXT, record_id TEXT, body TEXT, expires_at INTEGER,"
            " PRIMARY KEY (day, record_id))"
        )
        # A queued job's position: the count its message should show, the count it shows, and the refresh lease.
        self._db.execute("DROP TABLE IF EXISTS shown_positions")  # a file made before the lease (counts only)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS queue_positions (job_id TEXT PRIMARY KEY, wanted INTEGER, shown INTEGER,"
            " holder TEXT, lease_until REAL, expires_at INTEGER)"
        )
        self._db.execute("CREATE TABLE IF NOT EXISTS paces (key TEXT, at REAL, pace REAL, expires_at INTEGER)")
        self._lock = threading.Lock()

    def _execute(self, sql: str, *args: object) -> tuple[int, list[tuple[object, ...]]]:
        """Run one statement (atomic) and read its rows, under the lock: (rows changed, rows read)."""
        with self._lock:
            now = int(time.time())
            self._db.execute("DELETE FROM counters WHERE expires_at < ?", (now,))
            self._db.execute("DELETE FROM job_records WHERE expires_at < ?", (now,))
            self._db.execute("DELETE FROM queue_positions WHERE expires_at < ?", (now,))
            self._db.execute("DELETE FROM paces WHERE expires_at < ?", (now,))
            cursor = self._db.execute(sql, args)
            return cursor.rowcount, cursor.fetchall()

    def _add(self, day: str, key: str, name: str, value: float, limit: int | None = None) -> float | None:
        """Add `value` to a counter in one statement (atomic) if it is below `limit`; the new value, or None if
        the limit was reached."""
        expires = int(time.time()) + DAILY_COUNTER_TTL_SECONDS
        _, rows = self._execute(
            "INSERT INTO counters (day, key, name, value, expires_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (day, key, name) DO UPDATE SET value = value + excluded.value"
            " WHERE ? IS NULL OR counters.value < ? RETURNING value",
            day,
            key,
            name,
            value,
            expires,
            limit,
            limit,
        )
        return float(rows[0][0]) if rows else None  # type: ignore[arg-type]

    def _values(self, day: str, key: str) -> dict[str, float]:
        _, rows = self._execute("SELECT name, value FROM counters WHERE day = ? AND key = ?", day, key)
        return {str(name): float(value) for name, value in rows}  # type: ignore[arg-type]

    def todays_counts(self, user_id: int, day: str) -> tuple[dict[QuotaKind, int], float]:
        quota = self._values(day, QUOTA_PREFIX + user_key(user_id))
        return {k: int(quota.get(k, 0)) for k in QuotaKind}, self._values(day, BUDGET).get("seconds", 0.0)

    def take_quota(self, user_id: int, day: str, kind: QuotaKind, limit: int | None) -> bool:
        return self._add(day, QUOTA_PREFIX + user_key(user_id), kind, 1, limit) is not None

    def count_refusal(self, day: str, kind: QuotaKind) -> None:
        self._add(day, REFUSALS, kind, 1)

    def add_worker_seconds(self, day: str, seconds: float, gb_seconds: float) -> float:
        self._add(day, BUDGET, "gb_seconds", gb_seconds)
        total = self._add(day, BUDGET, "seconds", seconds)
        assert total is not None  # no limit
        return total

    def record_job(self, day: str, record: JobRecord) -> None:
        body = json.dumps(
            {
                "kind": record.kind,
                "size": record.size,
                "status": record.status,
                "seconds": record.seconds,
                "wait_seconds": record.wait_seconds,
            }
        )
        self._execute(
            "INSERT OR REPLACE INTO job_records (day, record_id, body, expires_at) VALUES (?, ?, ?, ?)",
            day,
            record.record_id,
            body,
            int(time.time()) + DAILY_COUNTER_TTL_SECONDS,
        )

    def recent_paces(self, key: str) -> list[float]:
        _, rows = self._execute(
            "SELECT pace FROM paces WHERE key = ? ORDER BY at DESC, rowid DESC LIMIT ?", key, RECENT_PACES
        )
        return [float(pace) for (pace,) in rows]  # type: ignore[arg-type]

    def add_pace(self, key: str, pace: float, at: float) -> None:
        self._execute(
            "INSERT INTO paces (key, at, pace, expires_at) VALUES (?, ?, ?, ?)",
            key,
            at,
            pace,
            int(time.time()) + DAILY_COUNTER_TTL_SECONDS,
        )

    def day_summary(self, day: str) -> DaySummary:
        _, rows = self._execute("SELECT record_id, body FROM job_records WHERE day = ?", day)
        jobs = []
        for record_id, body in rows:
            data = json.loads(str(body))
            jobs.append(
                JobRecord(
                    record_id=str(record_id),
                    kind=QuotaKind(data["kind"]),
                    size=int(data["size"]),
                    status=JobStatus(data["status"]),
                    seconds=float(data["seconds"]),
                    wait_seconds=data["wait_seconds"],
                )
            )
        refusals = self._values(day, REFUSALS)
        budget = self._values(day, BUDGET)
        return DaySummary(
            day=day,
            jobs=tuple(jobs),
            refusals={k: int(refusals.get(k, 0)) for k in QuotaKind},
            worker_seconds=budget.get("seconds", 0.0),
            gb_seconds=budget.get("gb_seconds", 0.0),
        )

    # The JobQueue port's position writes: each one statement (atomic), and each (but a lease's end) only while the
    # job's item in the state store is queued (`EXISTS (... status = ?)`, with the values of `_job`).
    @staticmethod
    def _job(user_id: int, job_id: str) -> tuple[str, str, JobStatus]:
        """The values of the condition that the job's item is queued."""
        return f"user#{user_id}", f"job#{job_id}", JobStatus.QUEUED

    @staticmethod
    def _lease(rows: list[tuple[object, ...]]) -> PositionLease | None:
        if not rows:
            return None
        wanted, shown = rows[0]
        return PositionLease(int(wanted), None if shown is None else int(shown))  # type: ignore[call-overload]

    def want_position(self, user_id: int, job_id: str, ahead: int) -> bool:
        changed, _ = self._execute(
            "INSERT INTO queue_positions (job_id, wanted, expires_at) SELECT ?, ?, ?"
            " WHERE EXISTS (SELECT 1 FROM items WHERE pk = ? AND sk = ? AND status = ?)"
            " ON CONFLICT (job_id) DO UPDATE SET wanted = excluded.wanted"
            " WHERE queue_positions.wanted IS NULL OR queue_positions.wanted > excluded.wanted",
            job_id,
            ahead,
            int(time.time()) + DAILY_COUNTER_TTL_SECONDS,
            *self._job(user_id, job_id),
        )
        return changed == 1

    def take_refresh(self, user_id: int, job_id: str, holder: str, *, now: float, until: float) -> PositionLease | None:
        _, rows = self._execute(
            "UPDATE queue_positions SET holder = ?, lease_until = ? WHERE job_id = ? AND wanted IS NOT NULL"
            " AND (lease_until IS NULL OR lease_until < ?)"
            " AND EXISTS (SELECT 1 FROM items WHERE pk = ? AND sk = ? AND status = ?) RETURNING wanted, shown",
            holder,
            until,
            job_id,
            now,
            *self._job(user_id, job_id),
        )
        return self._lease(rows)

    def end_refresh(self, user_id: int, job_id: str, holder: str, shown: int, *, until: float) -> PositionLease | None:
        released, _ = self._execute(
            "UPDATE queue_positions SET shown = ?, holder = NULL, lease_until = NULL"
            " WHERE job_id = ? AND holder = ?"
            " AND (wanted = ? OR NOT EXISTS (SELECT 1 FROM items WHERE pk = ? AND sk = ? AND status = ?))",
            shown,
            job_id,
            holder,
            shown,
            *self._job(user_id, job_id),
        )
        if released == 1:
            return None
        # Not released: a lower count is wanted (keep the lease and show it), or the lease is no longer ours.
        _, rows = self._execute(
            "UPDATE queue_positions SET shown = ?, lease_until = ?"
            " WHERE job_id = ? AND holder = ?"
            " AND EXISTS (SELECT 1 FROM items WHERE pk = ? AND sk = ? AND status = ?) RETURNING wanted, shown",
            shown,
            until,
            job_id,
            holder,
            *self._job(user_id, job_id),
        )
        return self._lease(rows)

    def release_refresh(self, user_id: int, job_id: str, holder: str) -> None:
        self._execute(
            "UPDATE queue_positions SET holder = NULL, lease_until = NULL WHERE job_id = ? AND holder = ?",
            job_id,
            holder,
        )

    def active_jobs(self, since: float) -> list[ActiveJob]:
        """The JobQueue port: queued and running job items of the state store, oldest Start first."""
        _, rows = self._execute(
            "SELECT status, body FROM items WHERE sk LIKE 'job#%' AND status IN (?, ?)",
            JobStatus.QUEUED,
            JobStatus.RUNNING,
        )
        found = []
        for status, body in rows:
            job = Job.model_validate_json(str(body))
            if job.enqueued_at is not None and job.enqueued_at >= since:
                found.append(ActiveJob(job, JobStatus(str(status)), job.enqueued_at))
        return sorted(found, key=lambda a: (a.enqueued_at, a.job.job_id))

    def close(self) -> None:
        self._db.close()
