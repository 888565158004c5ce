"""One contract for every state-store adapter: DynamoDB (on the local server) and the embedded SQLite one; and for
the in-memory fake the unit tests use, so that what they prove on it holds on the adapters."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from handler.adapters.dynamodb import DynamoDBStore
from handler.adapters.sqlite import SQLiteStore
from handler.core.job import Job, JobStatus, Kind, Language, Quality, Strength
from handler.core.ports import StateStore, StoreUnavailable, UpdateInProgress
from handler.core.state import Flow, Step, UserState
from tests.factories import next_update_id
from tests.fakes import MemoryStore


@pytest.fixture(params=["dynamodb", "sqlite", "memory"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    if request.param == "dynamodb":
        clients: dict[str, Any] = request.getfixturevalue("aws_clients")
        tables: dict[str, str] = request.getfixturevalue("tables")
        yield DynamoDBStore(clients["dynamodb"], tables["StateTable"], claim_ttl_seconds=3600)
    elif request.param == "memory":
        yield MemoryStore()
    else:
        store = SQLiteStore(tmp_path / "state.sqlite3", claim_ttl_seconds=3600)
        yield store
        store.close()


def test_a_finished_update_is_never_processed_again(ledger: StateStore) -> None:
    # Given an update that was claimed and processed
    update_id = next_update_id()
    assert ledger.claim_update(update_id)
    ledger.finish_update(update_id)
    # When it is delivered again, Then it is dropped
    assert [ledger.claim_update(update_id) for _ in range(2)] == [False, False]


def test_an_update_being_processed_is_not_taken_twice(ledger: StateStore) -> None:
    # Given an update another delivery is processing right now
    update_id = next_update_id()
    assert ledger.claim_update(update_id)
    # When a second delivery arrives, Then it is told to come back later
    with pytest.raises(UpdateInProgress):
        ledger.claim_update(update_id)


def test_a_claim_left_by_a_dead_delivery_is_taken_over(ledger: StateStore) -> None:
    # Given a claim whose delivery died before finishing (nobody marked it done)
    update_id = next_update_id()
    assert ledger.claim_update(update_id)
    time.sleep(0.3)
    # When the update is delivered again after the claim went stale, Then it is processed
    assert ledger.claim_update(update_id, stale_after=0.2)
    ledger.finish_update(update_id)
    assert not ledger.claim_update(update_id, stale_after=0.2)


def test_released_claim_can_be_taken_again(ledger: StateStore) -> None:
    # Given a claimed update whose processing failed and was released
    update_id = next_update_id()
    assert ledger.claim_update(update_id)
    ledger.release_update(update_id)
    # When Telegram redelivers it, Then the redelivery is processed
    assert ledger.claim_update(update_id)


def test_concurrent_claims_grant_exactly_one(ledger: StateStore) -> None:
    # Given eight deliveries racing for the same update
    update_id = next_update_id()
    results: list[str] = []
    barrier = threading.Barrier(8)

    def claim() -> None:
        barrier.wait()
        try:
            results.append("taken" if ledger.claim_update(update_id) else "dropped")
        except UpdateInProgress:
            results.append("later")

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then exactly one processes it and the others are told to come back later
    assert sorted(results) == ["later"] * 7 + ["taken"]


def test_dynamodb_claims_expire_through_ttl(aws_clients: dict[str, Any], tables: dict[str, str]) -> None:
    # Given a claim written by the DynamoDB adapter
    store = DynamoDBStore(aws_clients["dynamodb"], tables["StateTable"], claim_ttl_seconds=3600)
    update_id = next_update_id()
    store.claim_update(update_id)
    # Then the item carries the table's TTL attribute, about an hour ahead
    item = aws_clients["dynamodb"].get_item(
        TableName=tables["StateTable"], Key={"pk": {"S": f"update#{update_id}"}, "sk": {"S": "update"}}
    )
    ttl = aws_clients["dynamodb"].describe_time_to_live(TableName=tables["StateTable"])
    attribute = ttl["TimeToLiveDescription"]["AttributeName"]
    import time

    assert 3500 < int(item["Item"][attribute]["N"]) - time.time() <= 3600


def test_unreachable_dynamodb_is_reported_as_store_unavailable() -> None:
    # Given a DynamoDB endpoint where nothing listens
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "dynamodb",
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    store = DynamoDBStore(client, "StateTable", claim_ttl_seconds=60)
    # When a claim is attempted, Then the caller learns the store is unavailable (and can ask for redelivery)
    with pytest.raises(StoreUnavailable):
        store.claim_update(next_update_id())


_users = iter(range(800_000, 900_000))


def job(user_id: int, job_id: str) -> Job:
    return Job(
        job_id=job_id,
        user_id=user_id,
        chat_id=user_id,
        kind=Kind.NST,
        content_file_id="FILE1",
        style_file_id="FILE2",
        quality=Quality.QUICK,
        size=512,
        strength=Strength.HIGH,
        keep_colors=False,
        as_file=False,
        language=Language.EN,
    )


def test_a_new_user_has_a_fresh_state_and_saving_it_bumps_the_version(ledger: StateStore) -> None:
    user_id = next(_users)
    # Given nothing stored
    fresh = ledger.load(user_id)
    assert fresh == UserState(user_id=user_id)
    # When a state is saved on it
    saved = ledger.save(fresh.with_(step=Step.NST_CONTENT, flow=Flow(preset="monet")))
    # Then it reads back equal, at version 1
    assert saved is not None and saved.version == 1
    assert ledger.load(user_id) == saved


def test_a_save_on_a_stale_version_is_refused(ledger: StateStore) -> None:
    user_id = next(_users)
    base = ledger.save(ledger.load(user_id))
    assert base is not None
    # Given two writers who read the same version
    first = ledger.save(base.with_(step=Step.NST_CONTENT))
    # When the second saves on the version it read
    second = ledger.save(base.with_(step=Step.PRESET_PICK))
    # Then it is refused and the first write stands
    assert first is not None and second is None
    assert ledger.load(user_id).step == Step.NST_CONTENT


def test_two_new_users_states_racing_one_wins(ledger: StateStore) -> None:
    user_id = next(_users)
    fresh = ledger.load(user_id)
    assert ledger.save(fresh.with_(size=256)) is not None
    assert ledger.save(fresh.with_(size=1024)) is None
    assert ledger.load(user_id).size == 256


def test_job_status_moves_only_from_the_allowed_statuses(ledger: StateStore) -> None:
    user_id = next(_users)
    ledger.put_job(job(user_id, "jobone01"), JobStatus.QUEUED)
    assert ledger.job_status(user_id, "jobone01") == JobStatus.QUEUED
    assert ledger.set_job_status(user_id, "jobone01", JobStatus.RUNNING, only_from=(JobStatus.QUEUED,))
    assert not ledger.set_job_status(user_id, "jobone01", JobStatus.RUNNING, only_from=(JobStatus.QUEUED,))
    assert ledger.set_job_status(
        user_id, "jobone01", JobStatus.CANCELLED, only_from=(JobStatus.QUEUED, JobStatus.RUNNING)
    )
    assert not ledger.set_job_status(user_id, "jobone01", JobStatus.DONE, only_from=(JobStatus.RUNNING,))
    assert ledger.job_status(user_id, "jobone01") == JobStatus.CANCELLED
    assert ledger.job_status(user_id, "nope") is None


def test_forget_deletes_state_and_jobs_of_that_user_only(ledger: StateStore) -> None:
    user_id, other = next(_users), next(_users)
    for uid in (user_id, other):
        ledger.save(ledger.load(uid).with_(size=256))
        ledger.put_job(job(uid, "joba0001"), JobStatus.DONE)
        ledger.put_job(job(uid, "jobb0001"), JobStatus.QUEUED)
    # When one user is forgotten
    assert ledger.forget(user_id) == 3
    # Then nothing of theirs is left, and the other user is untouched
    assert ledger.load(user_id) == UserState(user_id=user_id)
    assert ledger.job_status(user_id, "joba0001") is None and ledger.job_status(user_id, "jobb0001") is None
    assert ledger.load(other).size == 256 and ledger.job_status(other, "jobb0001") == JobStatus.QUEUED


def test_concurrent_transitions_all_land_exactly_once(ledger: StateStore) -> None:
    """Eight writers each add one to the size index with re-read on conflict: all eight increments land."""
    user_id = next(_users)
    ledger.save(ledger.load(user_id).with_(recent_jobs=()))
    barrier = threading.Barrier(8)

    def add(n: int) -> None:
        barrier.wait()
        while True:
            state = ledger.load(user_id)
            if ledger.save(state.with_(recent_jobs=(*state.recent_jobs, str(n)))) is not None:
                return

    threads = [threading.Thread(target=add, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(ledger.load(user_id).recent_jobs) == [str(n) for n in range(8)]


def test_heartbeats_are_kept_and_never_recreate_an_erased_job(ledger: StateStore) -> None:
    user_id = next(_users)
    ledger.put_job(job(user_id, "jobh0001"), JobStatus.RUNNING)
    assert ledger.last_beat(user_id, "jobh0001") is None
    ledger.beat(user_id, "jobh0001", 1000.5)
    ledger.beat(user_id, "jobh0001", 1002.25)
    assert ledger.last_beat(user_id, "jobh0001") == 1002.25
    # Given the user erased everything, When a late heartbeat comes, Then nothing is stored again
    ledger.forget(user_id)
    ledger.beat(user_id, "jobh0001", 1004.0)
    assert ledger.last_beat(user_id, "jobh0001") is None and ledger.job_status(user_id, "jobh0001") is None


def test_a_progress_moved_to_a_photo_is_found_in_the_job_and_never_recreates_an_erased_one(ledger: StateStore) -> None:
    user_id = next(_users)
    made = job(user_id, "jobp0001")
    ledger.put_job(made, JobStatus.RUNNING)
    # When the job's progress moves to a photo message
    ledger.move_progress(user_id, "jobp0001", 4321)
    # Then the job item gives that message, and everything else as it was
    moved = ledger.load_job(user_id, "jobp0001")
    assert moved == made.model_copy(update={"progress_message_id": 4321})
    assert ledger.job_status(user_id, "jobp0001") == JobStatus.RUNNING
    # Given the user erased everything, When a late move comes, Then nothing is stored again
    ledger.forget(user_id)
    ledger.move_progress(user_id, "jobp0001", 4322)
    assert ledger.load_job(user_id, "jobp0001") is None and ledger.job_status(user_id, "jobp0001") is None
