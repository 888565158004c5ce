"""`sam build` of Dockerfile.lambda and `sam local invoke` of each non-webhook function with the events in
tests/events/ (the webhook's own Docker test is tests/integration/test_sam_docker.py). Needs a Docker engine;
skipped, saying so, without one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.local.cloudformation import CloudFormationResponses
from infra.local.lambda_emulator import ROOT
from tests.docker import docker_engine_available
from tests.factories import EVENTS

BIN = Path(sys.executable).parent


pytestmark = [
    pytest.mark.docker,
    pytest.mark.slow,
    pytest.mark.skipif(
        not docker_engine_available(),
        reason="no Docker engine here: `sam build` builds Dockerfile.lambda and `sam local invoke` runs the image "
        "in Docker (the same handlers run under the Lambda emulator in tests/deploy/test_webhook_registration.py)",
    ),
]

SAM_ENV = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="module")
def built() -> Iterator[None]:
    result = subprocess.run(
        [str(BIN / "sam"), "build"], cwd=ROOT, env=SAM_ENV, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    yield


def sam_invoke(function: str, event: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "sam"), "local", "invoke", function, "-e", str(event), *extra],
        cwd=ROOT,
        env=SAM_ENV,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def last_json(stdout: str) -> object:
    return json.loads(stdout.strip().splitlines()[-1])


def test_worker_image_runs_its_command(built: None) -> None:
    # When the worker's command runs in the built image with the job event
    result = sam_invoke("WorkerFunction", EVENTS / "worker-job.json")
    # Then it answers (the placeholder ignores the job)
    assert result.returncode == 0, result.stderr[-3000:]
    assert last_json(result.stdout) == {"status": "ignored"}


def test_failure_destination_image_runs_its_command(built: None) -> None:
    result = sam_invoke("FailureFunction", EVENTS / "lambda-destination-failure.json")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "errorType" not in result.stdout
    assert "job failed for good" in result.stderr


def test_registration_in_the_image_answers_cloudformation_even_without_aws(built: None, tmp_path: Path) -> None:
    # Given CloudFormation's create request whose ResponseURL is a local server (host network), and no AWS
    # account behind the container: reading the token parameter fails
    responses = CloudFormationResponses().start()
    try:
        event = json.loads((EVENTS / "cfn-webhook-create.json").read_text())
        event["RequestId"] = str(uuid.uuid4())
        event["ResponseURL"] = responses.url(event["RequestId"])
        path = tmp_path / "create.json"
        path.write_text(json.dumps(event))
        # When the image's registration command handles it
        result = sam_invoke("WebhookRegistrationFunction", path, "--docker-network", "host")
        # Then CloudFormation still gets an answer: FAILED, with a reason
        assert result.returncode == 0, result.stderr[-3000:]
        answer = responses.wait_for(event["RequestId"], timeout=60)
        assert answer.body["Status"] == "FAILED" and answer.body["Reason"]
    finally:
        responses.stop()
