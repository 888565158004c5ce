"""What is stored, for how long, and that /forget erases it: every table of template.yaml, after whole flows.

The tables here are fresh ones of this module, so that "every item" means every item the bot wrote in these
flows (conversations, finished jobs, update claims, the worker's idempotency records) and nothing a test wrote.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from handler.adapters.dynamodb import DynamoDBStore
from handler.core.job import JobStatus
from handler.core.limits import (
    DAILY_COUNTER_TTL_SECONDS,
    IDEMPOTENCY_TTL_SECONDS,
    JOB_TTL_SECONDS,
    STATE_TTL_SECONDS,
)
from handler.settings import Settings
from infra.local.dynamodb import create_tables, table_definitions
from infra.local.fake_bot_api import FakeBotApi
from infra.local.lambda_emulator import EmulatedFunction
from infra.local.lambda_service import LocalLambdaService
from tests.driver import Person
from tests.pipeline import running_pipeline, start_own_style, wait_finished

# The longest each kind of item may live, as the code documents it.
BOUNDS = {
    "state": STATE_TTL_SECONDS,
    "job": JOB_TTL_SECONDS,
    "update claim": Settings().update_claim_ttl_seconds,
    "idempotency record": IDEMPOTENCY_TTL_SECONDS,
    "daily counter": DAILY_COUNTER_TTL_SECONDS,
    "job pace": DAILY_COUNTER_TTL_SECONDS,
}
# Telegram user ids of ten digits, which no timestamp, update id or job id in the tables can contain by chance.
ADA, BOB = 8_642_097_531, 8_642_097_532


@dataclass
class Lived:
    """Two users who chatted with the bot and got a result each, on tables of their own."""

    tables: dict[str, str]
    people: dict[int, Person]
    jobs: dict[int, str]
    client: Any

    def scan(self) -> dict[str, list[dict[str, Any]]]:
        """Every item of every table, by logical id."""
        found: dict[str, list[dict[str, Any]]] = {}
        for logical_id, table in self.tables.items():
            pages = self.client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
            found[logical_id] = [item for page in pages for item in page["Items"]]
        return found


def kind_of(logical_id: str, item: dict[str, Any]) -> str:
    if logical_id == "IdempotencyTable":
        return "idempotency record"
    pk, sk = item["pk"]["S"], item["sk"]["S"]
    if pk.startswith("update#") and sk == "update":
        return "update claim"
    if pk.startswith("user#") and sk == "state":
        return "state"
    if pk.startswith("user#") and sk.startswith("job#"):
        return "job"
    if pk.startswith("day#"):
        return "daily counter"
    if pk.startswith("pace#"):
        return "job pace"
    return f"undocumented item {pk}/{sk}"


@pytest.fixture(scope="module")
def lived(
    aws_clients: dict[str, Any],
    function_env: dict[str, str],
    lambda_service: LocalLambdaService,
    bot_api: FakeBotApi,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Lived]:
    client = aws_clients["dynamodb"]
    tables = create_tables(client, prefix=f"life{uuid.uuid4().hex[:8]}-")
    env = {**function_env, "STATE_TABLE": tables["StateTable"]}
    store = DynamoDBStore(client, tables["StateTable"], claim_ttl_seconds=3600)
    webhook = EmulatedFunction("WebhookFunction", env).start()
    try:
        with running_pipeline(
            lambda_service, env, tables["IdempotencyTable"], tmp_path_factory.mktemp("weights")
        ) as pipeline:
            people = {uid: Person(webhook, bot_api, uid) for uid in (ADA, BOB)}
            jobs = {}
            for uid, p in people.items():
                # A conversation: the menu, settings, own style with options, a quick job to the end
                p.send("/settings")
                start_own_style(p)
                jobs[uid] = p.last_job = store.load(uid).active_job
                assert wait_finished(p, store) == JobStatus.DONE
            pipeline.service.wait_idle(timeout=60)
            yield Lived(tables, people, jobs, client)
    finally:
        webhook.stop()
        for table in tables.values():
            client.delete_table(TableName=table)


def test_every_item_of_every_table_expires_within_its_documented_time(lived: Lived) -> None:
    # Given two users' conversations and finished jobs, on tables created from template.yaml
    now = time.time()
    # When every table is scanned
    found = lived.scan()
    # Then every item carries the TTL attribute its table declares, in the future and within the time the code
    # documents for its kind
    seen = set()
    for logical_id, items in found.items():
        ttl = table_definitions()[logical_id]["ttl"]
        assert ttl and ttl["Enabled"], f"{logical_id} has no TTL"
        for item in items:
            kind = kind_of(logical_id, item)
            assert kind in BOUNDS, kind
            seen.add(kind)
            assert ttl["AttributeName"] in item, f"{kind} without {ttl['AttributeName']}: {item}"
            expires = float(item[ttl["AttributeName"]]["N"])
            assert now < expires <= now + BOUNDS[kind], f"{kind} expires in {expires - now:.0f} s"
    # And every kind of item was there to check
    assert seen == set(BOUNDS)


def test_forget_erases_the_user_from_every_table(lived: Lived) -> None:
    # Given a user with a state, a finished job, update claims and an idempotency record of that job
    bob = lived.people[BOB]
    assert any(str(BOB) in json.dumps(item) for item in lived.scan()["StateTable"])
    # When they send /forget
    bob.send("/forget")
    # Then they are told, and no table holds anything that names them (their id is also their chat's id)
    assert bob.last_text() == bob.t("forgotten")
    found = lived.scan()
    assert [item for items in found.values() for item in items if str(BOB) in json.dumps(item)] == []
    # And nothing in the state table leads from the job's id, which the job's idempotency record holds, back
    # to them
    assert [item for item in found["StateTable"] if lived.jobs[BOB] in json.dumps(item)] == []
    # And the other user's items are untouched
    assert any(str(ADA) in json.dumps(item) for item in found["StateTable"])
