"""The webhook's cold start: no torch and no model code (its time is a benchmark's: `python -m ml.bench
cold-start` prints it first)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from infra.local.lambda_emulator import ROOT

PROBE = """
import json, sys
import handler.webhook
# the catalogues, what they read, and the picture limits the webhook checks on arrival
torch_free = {"ml.registry", "ml.paintings", "ml.manifest", "ml.paths", "ml.errors", "ml.image_limits"}
models = sorted(m for m in sys.modules if m.startswith("ml.") and m not in torch_free)
print(json.dumps({"torch": "torch" in sys.modules, "ml": models}))
"""


def test_webhook_import_never_loads_torch_or_model_code() -> None:
    # Given a fresh interpreter with the webhook's settings, as in a cold Lambda container
    env = {
        **os.environ,
        "STATE_TABLE": "state",
        "WORKER_FUNCTION_NAME": "worker",
        "TELEGRAM_BOT_TOKEN_PARAMETER": "/stylebot/bot-token",
        "TELEGRAM_WEBHOOK_SECRET_PARAMETER": "/stylebot/webhook-secret",
    }
    # When the webhook module is imported
    run = json.loads(
        subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, check=True).stdout
    )
    # Then neither torch nor any model code is loaded (only the torch-free catalogues and picture limits)
    assert not run["torch"] and not run["ml"]


def test_processing_an_update_never_loads_torch(function_env: dict[str, str], bot_api: object) -> None:
    # Given the webhook handler driven in-process through a whole update
    probe = """
import json, os, sys
from tests.factories import api_gateway_event, message_update
import handler.webhook as webhook

class Context:
    function_name = "WebhookFunction"; memory_limit_in_mb = 512; aws_request_id = "req-1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:WebhookFunction"
    def get_remaining_time_in_millis(self): return 30000

event = api_gateway_event(message_update("/start"), secret=os.environ["PROBE_SECRET"])
response = webhook.lambda_handler(event, Context())
print(json.dumps({"status": response["statusCode"], "torch": "torch" in sys.modules}))
"""
    from tests import conftest

    env = {**os.environ, **function_env, "PYTHONPATH": str(ROOT), "PROBE_SECRET": conftest.WEBHOOK_SECRET}
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, check=False)
    assert out.returncode == 0, out.stderr.decode()[-2000:]
    result = json.loads(out.stdout.decode().strip().splitlines()[-1])
    # Then the update was processed and torch was never imported
    assert result == {"status": 200, "torch": False}
    assert time.perf_counter() - started < 60
