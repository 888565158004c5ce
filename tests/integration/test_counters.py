"""The daily counters are exact under concurrency: many threads race the same counters on the real
DynamoDB-compatible server (and on local mode's SQLite file), as concurrent webhooks and workers do."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from handler.adapters.dynamodb import DynamoDBStore
from handler.adapters.dynamodb_usage import DynamoDBJobQueue, DynamoDBUsage
from handler.adapters.sqlite import SQLiteStore
from handler.adapters.sqlite_usage import SQLiteUsage
from handler.core.job import JobStatus
from handler.core.ports import JobQueue, PositionLease, StateStore, Usage
from handler.core.quotas import QuotaKind
from handler.core.stats import JobRecord
from tests.unit.jobs.test_runner import make_job

RACERS = 16
TRIES = 40


@pytest.fixture(params=["dynamodb", "sqlite"])
def usage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Usage]:
    if request.param == "dynamodb":
        clients: dict[str, Any] = request.getfixturevalue("aws_clients")
        tables: dict[str, str] = request.getfixturevalue("tables")
        yield DynamoDBUsage(clients["dynamodb"], tables["StateTable"])
        return
    path = tmp_path / "state.sqlite3"
    store = SQLiteStore(path, claim_ttl_seconds=3600)
    counters = SQLiteUsage(path)
    yield counters
    counters.close()
    store.close()


def race(work: Any, times: int = TRIES) -> list[Any]:
    with ThreadPoolExecutor(RACERS) as pool:
        return list(pool.map(lambda _: work(), range(times)))


def test_a_quota_raced_by_many_starts_lets_exactly_its_limit_through(usage: Usage) -> None:
    # Given a fresh day and a user with a limit of 7 best-quality jobs
    day = f"race-{uuid.uuid4().hex[:8]}"
    # When 40 Starts race for it at once
    taken = race(lambda: usage.take_quota(42, day, QuotaKind.BEST, 7))
    # Then exactly 7 got through, and the count says 7
    assert taken.count(True) == 7
    used, _ = usage.todays_counts(42, day)
    assert used[QuotaKind.BEST] == 7 and used[QuotaKind.QUICK] == 0
    # And another user's quota is their own
    assert usage.take_quota(43, day, QuotaKind.BEST, 7)


def test_the_budget_and_the_refusals_lose_no_update_under_concurrency(usage: Usage) -> None:
    # Given 40 workers finishing at once, each 1.5 s at 10 GB, and 40 refusals counted at once
    day = f"race-{uuid.uuid4().hex[:8]}"
    totals = race(lambda: usage.add_worker_seconds(day, 1.5, 15.0))
    race(lambda: usage.count_refusal(day, QuotaKind.PRESET))
    # Then every second and every refusal is counted
    summary = usage.day_summary(day)
    assert summary.worker_seconds == pytest.approx(60.0)
    assert summary.gb_seconds == pytest.approx(600.0)
    assert summary.refusals[QuotaKind.PRESET] == TRIES
    # And each worker saw a different running total (each add is one atomic update)
    assert sorted(totals) == pytest.approx([1.5 * (i + 1) for i in range(TRIES)])
    assert usage.todays_counts(1, day)[1] == pytest.approx(60.0)


def test_job_records_come_back_for_stats(usage: Usage) -> None:
    day = f"race-{uuid.uuid4().hex[:8]}"
    records = [JobRecord(f"job{i:013d}", QuotaKind.QUICK, 512, JobStatus.DONE, 0.5 + i, 2.0) for i in range(3)]
    for record in records:
        usage.record_job(day, record)
    assert sorted(usage.day_summary(day).jobs, key=lambda r: r.record_id) == records


@pytest.fixture(params=["dynamodb", "sqlite"])
def queue(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[StateStore, JobQueue]]:
    """The job queue with the state store whose job items it reads."""
    if request.param == "dynamodb":
        clients: dict[str, Any] = request.getfixturevalue("aws_clients")
        tables: dict[str, str] = request.getfixturevalue("tables")
        table = tables["StateTable"]
        yield (
            DynamoDBStore(clients["dynamodb"], table, claim_ttl_seconds=3600),
            DynamoDBJobQueue(clients["dynamodb"], table),
        )
        return
    path = tmp_path / "state.sqlite3"
    store = SQLiteStore(path, claim_ttl_seconds=3600)
    counters = SQLiteUsage(path)
    yield store, counters
    counters.close()
    store.close()


def test_a_waiting_position_is_lowered_once_per_step_down_and_edited_by_one_writer_at_a_time(
    queue: tuple[StateStore, JobQueue],
) -> None:
    # Given a queued job
    store, jobs = queue
    user_id = 4242
    job = make_job(job_id=uuid.uuid4().hex[:16], user_id=user_id, chat_id=user_id)
    store.put_job(job, JobStatus.QUEUED)
    # When 40 finishing workers race to lower its count to three pictures ahead
    lowered = race(lambda: jobs.want_position(user_id, job.job_id, 3))
    # Then exactly one lowers it
    assert lowered.count(True) == 1
    # And when 40 race for the lease to edit its message, exactly one gets it
    holders = race(lambda: jobs.take_refresh(user_id, job.job_id, uuid.uuid4().hex, now=1.0, until=100.0))
    assert [h for h in holders if h is not None] == [PositionLease(3, None)]
    # And a higher count is never wanted after it, a lower one is, once
    assert not jobs.want_position(user_id, job.job_id, 4)
    assert jobs.want_position(user_id, job.job_id, 2)
    assert not jobs.want_position(user_id, job.job_id, 2)
    # And once its worker has started it, no position is wanted any more
    store.set_job_status(user_id, job.job_id, JobStatus.RUNNING, only_from=(JobStatus.QUEUED,))
    assert not jobs.want_position(user_id, job.job_id, 1)
