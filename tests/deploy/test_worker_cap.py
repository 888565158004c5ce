"""The stack caps its worker as far as the account allows: the WorkerCap resource's function under the Lambda
emulator, with CloudFormation's request shapes (tests/events/cfn-workercap-*.json), the local Lambda control
plane standing in for accounts of different concurrency limits, and the local stand-in for the pre-signed URL
CloudFormation waits on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from infra.local.cloudformation import CloudFormationResponses
from infra.local.lambda_emulator import EmulatedFunction
from infra.local.lambda_service import LocalLambdaService
from tests.deploy.conftest import registration_env
from tests.factories import cfn_event

WORKER = "stylebot-WorkerFunction-Ab12Cd34Ef56"  # the stored events' FunctionName


@pytest.fixture(scope="module")
def worker_cap(aws_env: dict[str, str], bot_api: Any) -> Iterator[EmulatedFunction]:
    """WorkerCapFunction of template.yaml in one emulated execution environment (only the Globals' variables)."""
    function = EmulatedFunction(
        "WorkerCapFunction", registration_env(aws_env, bot_api.url), timeout_seconds=60, memory_mb=256
    ).start()
    yield function
    function.stop()


@pytest.fixture
def account(lambda_service: LocalLambdaService) -> Iterator[LocalLambdaService]:
    """The local Lambda control plane, reset for this test; `account(limit)` sets the account's limit."""
    lambda_service.account(1000)
    yield lambda_service
    lambda_service.account(1000)


def test_an_account_with_room_gets_the_requested_cap(
    worker_cap: EmulatedFunction, account: LocalLambdaService, cfn_responses: CloudFormationResponses
) -> None:
    # Given an account at the standard limit of 1000
    account.account(1000)
    event = cfn_event("create", cfn_responses, resource="workercap")
    # When the stack creates the WorkerCap resource (ReservedConcurrency 4)
    worker_cap.invoke(event)
    # Then the worker has 4 reserved, and CloudFormation is told SUCCESS with Applied 4 for the stack's output
    assert account.reserved == {WORKER: 4}
    answer = cfn_responses.wait_for(event["RequestId"])
    assert answer.body["Status"] == "SUCCESS", answer.body["Reason"]
    assert answer.body["PhysicalResourceId"] == "stylebot-WorkerCap"
    assert answer.body["Data"] == {"Applied": "4", "Requested": "4", "Capped": "true"}


def test_a_new_account_deploys_with_the_worker_unreserved_and_says_so(
    worker_cap: EmulatedFunction, account: LocalLambdaService, cfn_responses: CloudFormationResponses
) -> None:
    # Given a brand-new account, whose concurrency limit of 10 leaves nothing to reserve beyond Lambda's 100
    account.account(10)
    event = cfn_event("create", cfn_responses, resource="workercap")
    # When the stack creates the WorkerCap resource with the default request of 4
    worker_cap.invoke(event)
    # Then the deploy goes on: SUCCESS, the worker left unreserved, and the answer says it is not capped
    answer = cfn_responses.wait_for(event["RequestId"])
    assert answer.body["Status"] == "SUCCESS", answer.body["Reason"]
    assert account.reserved == {}
    assert ("PUT", f"/2017-10-31/functions/{WORKER}/concurrency") not in account.control_calls
    assert answer.body["Data"] == {"Applied": "0", "Requested": "4", "Capped": "false"}
    assert "NOT capped" in answer.body["Reason"] and "10" in answer.body["Reason"]
    # And the log has a WARNING saying so
    warnings = [line for line in worker_cap.logs().splitlines() if '"level":"WARNING"' in line.replace(" ", "")]
    assert any("NOT capped" in line for line in warnings), warnings


def test_an_account_with_a_little_room_gets_what_it_allows(
    worker_cap: EmulatedFunction, account: LocalLambdaService, cfn_responses: CloudFormationResponses
) -> None:
    # Given an account whose limit leaves 2 above the 100 Lambda keeps unreserved
    account.account(102)
    event = cfn_event("create", cfn_responses, resource="workercap")
    # When the stack creates the WorkerCap resource (4 requested)
    worker_cap.invoke(event)
    # Then the worker is capped at 2, and the answer says 2 of 4
    answer = cfn_responses.wait_for(event["RequestId"])
    assert answer.body["Status"] == "SUCCESS", answer.body["Reason"]
    assert account.reserved == {WORKER: 2}
    assert answer.body["Data"] == {"Applied": "2", "Requested": "4", "Capped": "true"}


def test_update_changes_the_cap_counting_the_workers_own_reservation(
    worker_cap: EmulatedFunction, account: LocalLambdaService, cfn_responses: CloudFormationResponses
) -> None:
    # Given an account of 108 whose worker was capped at 4 on create (104 left unreserved)
    account.account(108)
    worker_cap.invoke(cfn_event("create", cfn_responses, resource="workercap"))
    assert account.reserved == {WORKER: 4}
    # When an update asks for 8 (the stored update event): the worker's own 4 are free to move
    event = cfn_event("update", cfn_responses, resource="workercap")
    worker_cap.invoke(event)
    # Then the worker is capped at 8 (108 - 100), with the same physical id
    answer = cfn_responses.wait_for(event["RequestId"])
    assert answer.body["Status"] == "SUCCESS", answer.body["Reason"]
    assert account.reserved == {WORKER: 8}
    assert answer.body["Data"]["Applied"] == "8"
    assert answer.body["PhysicalResourceId"] == event["PhysicalResourceId"]
    # When the operator sets 0 (no cap)
    uncap = cfn_event("update", cfn_responses, resource="workercap", ReservedConcurrency="0")
    worker_cap.invoke(uncap)
    # Then the reservation is removed
    answer = cfn_responses.wait_for(uncap["RequestId"])
    assert answer.body["Status"] == "SUCCESS" and answer.body["Data"]["Applied"] == "0"
    assert account.reserved == {}


def test_delete_removes_the_reservation(
    worker_cap: EmulatedFunction, account: LocalLambdaService, cfn_responses: CloudFormationResponses
) -> None:
    # Given a capped worker
    worker_cap.invoke(cfn_event("create", cfn_responses, resource="workercap"))
    assert account.reserved == {WORKER: 4}
    # When the resource is deleted
    event = cfn_event("delete", cfn_responses, resource="workercap")
    worker_cap.invoke(event)
    # Then the reservation is gone and CloudFormation got SUCCESS
    assert account.reserved == {}
    assert cfn_responses.wait_for(event["RequestId"]).body["Status"] == "SUCCESS"


def test_delete_succeeds_even_when_the_lambda_api_is_down(
    worker_cap: EmulatedFunction, account: LocalLambdaService, cfn_responses: CloudFormationResponses
) -> None:
    # Given a Lambda control plane that answers every call with 503
    account.control_plane_down = True
    event = cfn_event("delete", cfn_responses, resource="workercap")
    # When the stack is deleted
    worker_cap.invoke(event)
    # Then the teardown is not blocked: SUCCESS, naming the call that failed
    answer = cfn_responses.wait_for(event["RequestId"])
    assert answer.body["Status"] == "SUCCESS"
    assert "DeleteFunctionConcurrency" in answer.body["Reason"]


def test_create_fails_with_a_reason_when_the_lambda_api_is_down(
    worker_cap: EmulatedFunction, account: LocalLambdaService, cfn_responses: CloudFormationResponses
) -> None:
    # Given a Lambda control plane that answers every call with 503
    account.control_plane_down = True
    event = cfn_event("create", cfn_responses, resource="workercap")
    # When the stack creates the resource
    worker_cap.invoke(event)
    # Then CloudFormation is told FAILED, naming the call (the cap is never silently skipped)
    answer = cfn_responses.wait_for(event["RequestId"])
    assert answer.body["Status"] == "FAILED"
    assert "GetAccountSettings" in answer.body["Reason"]
