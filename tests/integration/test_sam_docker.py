"""`sam build` and `sam local invoke` of the real image. Needs a Docker engine; skipped (saying so) without one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.local.lambda_emulator import ROOT
from tests.docker import docker_engine_available
from tests.factories import api_gateway_event, message_update

BIN = Path(sys.executable).parent


pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(
        not docker_engine_available(),
        reason="no Docker engine here: `sam build` and `sam local invoke` run the image in Docker "
        "(the same handler runs under the Lambda emulator in the other tests)",
    ),
]


def test_sam_build_and_local_invoke_refuse_a_call_without_the_secret(tmp_path: Path) -> None:
    # Given the image built by `sam build` from Dockerfile.lambda
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1"}
    build = subprocess.run([str(BIN / "sam"), "build"], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert build.returncode == 0, build.stderr[-4000:]
    # When the webhook is invoked with an event that lacks the secret header
    event = tmp_path / "event.json"
    event.write_text(json.dumps(api_gateway_event(message_update("/start"), secret=None)))
    # (A call without the header is refused before any secret is read, so no AWS account is needed.)
    invoke = subprocess.run(
        [str(BIN / "sam"), "local", "invoke", "WebhookFunction", "-e", str(event)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    # Then the container's handler answers 403
    assert invoke.returncode == 0, invoke.stderr[-4000:]
    assert json.loads(invoke.stdout.strip().splitlines()[-1])["statusCode"] == 403
