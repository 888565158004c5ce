"""One contract for every update-ledger adapter: DynamoDB (on the local server) and the embedded SQLite one."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from handler.adapters.dynamodb import DynamoDBStore
from handler.adapters.sqlite import SQLiteStore
from handler.core.ports import StoreUnavailable, UpdateLedger
from tests.factories import next_update_id


@pytest.fixture(params=["dynamodb", "sqlite"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[UpdateLedger]:
    if request.param == "dynamodb":
        clients: dict[str, Any] = request.getfixturevalue("aws_clients")
        tables: dict[str, str] = request.getfixturevalue("tables")
        yield DynamoDBStore(clients["dynamodb"], tables["StateTable"], claim_ttl_seconds=3600)
    else:
        store = SQLiteStore(tmp_path / "state.sqlite3", claim_ttl_seconds=3600)
        yield store
        store.close()


def test_first_claim_wins_and_repeats_lose(ledger: UpdateLedger) -> None:
    # Given an update never seen
    update_id = next_update_id()
    # When it is claimed three times
    results = [ledger.claim_update(update_id) for _ in range(3)]
    # Then only the first claim is granted
    assert results == [True, False, False]


def test_released_claim_can_be_taken_again(ledger: UpdateLedger) -> None:
    # Given a claimed update whose processing failed and was released
    update_id = next_update_id()
    assert ledger.claim_update(update_id)
    ledger.release_update(update_id)
    # When Telegram redelivers it
    # Then the redelivery is processed
    assert ledger.claim_update(update_id)


def test_concurrent_claims_grant_exactly_one(ledger: UpdateLedger) -> None:
    # Given eight workers racing for the same update
    update_id = next_update_id()
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def claim() -> None:
        barrier.wait()
        results.append(ledger.claim_update(update_id))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then exactly one wins
    assert sorted(results) == [False] * 7 + [True]


def test_dynamodb_claims_expire_through_ttl(aws_clients: dict[str, Any], tables: dict[str, str]) -> None:
    # Given a claim written by the DynamoDB adapter
    store = DynamoDBStore(aws_clients["dynamodb"], tables["StateTable"], claim_ttl_seconds=3600)
    update_id = next_update_id()
    store.claim_update(update_id)
    # Then the item carries the table's TTL attribute, about an hour ahead
    item = aws_clients["dynamodb"].get_item(TableName=tables["StateTable"], Key={"pk": {"S": f"update#{update_id}"}})
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
