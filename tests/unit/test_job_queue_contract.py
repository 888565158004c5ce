"""One contract for every JobQueue adapter's position writes: DynamoDB (on the local server), local mode's SQLite,
and the in-memory fake the core's tests use (tests/unit/core/test_queue_positions.py), so that the protocol those
tests prove — the count a waiting user sees never goes up — holds on the adapters that run it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from handler.adapters.dynamodb import DynamoDBStore
from handler.adapters.dynamodb_usage import DynamoDBJobQueue
from handler.adapters.sqlite import SQLiteStore
from handler.adapters.sqlite_usage import SQLiteUsage
from handler.core.job import JobStatus
from handler.core.ports import JobQueue, PositionLease, StateStore
from tests.fakes import MemoryStore, MemoryUsage
from tests.unit.jobs.test_runner import make_job

NOW = 1_000_000.0
LEASE = 90.0


@pytest.fixture(params=["dynamodb", "sqlite", "memory"])
def adapters(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[StateStore, JobQueue]]:
    """The job queue with the state store whose job items it reads."""
    if request.param == "dynamodb":
        clients: dict[str, Any] = request.getfixturevalue("aws_clients")
        tables: dict[str, str] = request.getfixturevalue("tables")
        table = tables["StateTable"]
        yield (
            DynamoDBStore(clients["dynamodb"], table, claim_ttl_seconds=3600),
            DynamoDBJobQueue(clients["dynamodb"], table),
        )
    elif request.param == "memory":
        store = MemoryStore()
        yield store, MemoryUsage(store)
    else:
        path = tmp_path / "state.sqlite3"
        sqlite_store = SQLiteStore(path, claim_ttl_seconds=3600)
        counters = SQLiteUsage(path)
        yield sqlite_store, counters
        counters.close()
        sqlite_store.close()


@pytest.fixture
def job(adapters: tuple[StateStore, JobQueue]) -> tuple[int, str]:
    """A queued job's user and id."""
    store, _ = adapters
    user_id, job_id = 5000 + uuid.uuid4().int % 1000, uuid.uuid4().hex[:16]
    store.put_job(make_job(job_id=job_id, user_id=user_id, chat_id=user_id), JobStatus.QUEUED)
    return user_id, job_id


def test_the_wanted_count_only_goes_down_and_only_for_a_queued_job(
    adapters: tuple[StateStore, JobQueue], job: tuple[int, str]
) -> None:
    store, queue = adapters
    assert queue.want_position(*job, 5)
    assert not queue.want_position(*job, 5)
    assert not queue.want_position(*job, 6)
    assert queue.want_position(*job, 4)
    assert queue.take_refresh(*job, "a", now=NOW, until=NOW + LEASE) == PositionLease(4, None)
    # Once its worker started it, no count is wanted or shown any more
    store.set_job_status(*job, JobStatus.RUNNING, only_from=(JobStatus.QUEUED,))
    assert not queue.want_position(*job, 1)


def test_one_writer_at_a_time_holds_the_lease_until_it_lets_go_or_it_runs_out(
    adapters: tuple[StateStore, JobQueue], job: tuple[int, str]
) -> None:
    _, queue = adapters
    # Nothing wanted: nothing to take
    assert queue.take_refresh(*job, "a", now=NOW, until=NOW + LEASE) is None
    queue.want_position(*job, 3)
    assert queue.take_refresh(*job, "a", now=NOW, until=NOW + LEASE) == PositionLease(3, None)
    assert queue.take_refresh(*job, "b", now=NOW + LEASE - 1, until=NOW + 2 * LEASE) is None
    # A lease that ran out is taken over, and the writer that held it no longer ends or releases anything
    assert queue.take_refresh(*job, "b", now=NOW + LEASE + 1, until=NOW + 2 * LEASE) == PositionLease(3, None)
    assert queue.end_refresh(*job, "a", 3, until=NOW + 3 * LEASE) is None
    queue.release_refresh(*job, "a")
    assert queue.take_refresh(*job, "c", now=NOW + LEASE + 2, until=NOW + 2 * LEASE) is None
    # A released lease is free at once
    queue.release_refresh(*job, "b")
    assert queue.take_refresh(*job, "c", now=NOW + LEASE + 2, until=NOW + 2 * LEASE) == PositionLease(3, None)


def test_the_holder_lets_go_only_when_it_showed_the_lowest_count_wanted(
    adapters: tuple[StateStore, JobQueue], job: tuple[int, str]
) -> None:
    _, queue = adapters
    queue.want_position(*job, 5)
    assert queue.take_refresh(*job, "a", now=NOW, until=NOW + LEASE) == PositionLease(5, None)
    # A lower count wanted while the holder's edit of 5 was on its way: it keeps the lease and is told to show it
    assert queue.want_position(*job, 3)
    assert queue.end_refresh(*job, "a", 5, until=NOW + 10 + LEASE) == PositionLease(3, 5)
    assert queue.take_refresh(*job, "b", now=NOW + LEASE + 1, until=NOW + 2 * LEASE) is None  # kept, and extended
    # Having shown it, it lets go, and the next writer reads what the message shows
    assert queue.end_refresh(*job, "a", 3, until=NOW + 20 + LEASE) is None
    queue.want_position(*job, 2)
    assert queue.take_refresh(*job, "b", now=NOW + 30, until=NOW + 30 + LEASE) == PositionLease(2, 3)


def test_a_job_that_leaves_the_queue_while_its_count_is_edited_is_shown_no_further_count(
    adapters: tuple[StateStore, JobQueue], job: tuple[int, str]
) -> None:
    store, queue = adapters
    queue.want_position(*job, 4)
    assert queue.take_refresh(*job, "a", now=NOW, until=NOW + LEASE) is not None
    queue.want_position(*job, 2)
    store.set_job_status(*job, JobStatus.RUNNING, only_from=(JobStatus.QUEUED,))
    assert queue.end_refresh(*job, "a", 4, until=NOW + LEASE) is None
    assert queue.take_refresh(*job, "b", now=NOW + 1, until=NOW + LEASE) is None


def test_a_job_erased_by_forget_is_never_written_back(
    adapters: tuple[StateStore, JobQueue], job: tuple[int, str]
) -> None:
    store, queue = adapters
    queue.want_position(*job, 4)
    assert queue.take_refresh(*job, "a", now=NOW, until=NOW + LEASE) is not None
    store.forget(job[0])
    assert not queue.want_position(*job, 1)
    assert queue.end_refresh(*job, "a", 4, until=NOW + LEASE) is None
    queue.release_refresh(*job, "a")
    assert queue.take_refresh(*job, "b", now=NOW + LEASE + 1, until=NOW + 2 * LEASE) is None
    assert store.job_status(*job) is None and store.load_job(*job) is None
