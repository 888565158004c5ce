"""Load script (not a test): N simulated users, each running a whole flow through the webhook at once.

    .venv/bin/python -m infra.scripts.load --users 50 [--containers 8]

Everything runs on loopback: the fake Bot API, the DynamoDB-compatible server, the Lambda Invoke API, and the
webhook and worker under the Lambda emulator (a pool of containers each, as Lambda scales out). Each user sends
/start, picks own style, sends a photo and a style picture, starts a quick job and waits for the result. Prints
updates handled, lost and duplicated, webhook latency percentiles, and the webhook's own time per update (the
emulator's billed duration, i.e. the handler's run time).
"""

from __future__ import annotations

import argparse
import io
import os
import re
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
from PIL import Image

from infra.local.dynamodb import LocalDynamoDB, create_tables, local_aws_environment
from infra.local.fake_bot_api import FakeBotApi
from infra.local.lambda_emulator import EmulatorPool
from infra.local.lambda_service import LocalLambdaService, Route
from infra.local.template import event_invoke_config

TOKEN = "123456789:AAload-test-token-for-the-fake-api_0"


def picture(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), color).save(buffer, "JPEG")
    return buffer.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--containers", type=int, default=8, help="webhook containers at most (Lambda scaling)")
    args = parser.parse_args()

    from tests.driver import Person  # the same simulated person the end-to-end tests use

    secret = uuid.uuid4().hex
    telegram = FakeBotApi(TOKEN).start()
    dynamodb = LocalDynamoDB().start()
    lambdas = LocalLambdaService().start()
    env = local_aws_environment(dynamodb.url) | {
        "AWS_ENDPOINT_URL_SSM": dynamodb.url,
        "AWS_ENDPOINT_URL_LAMBDA": lambdas.url,
    }
    os.environ.update(env)
    tables = create_tables(boto3.client("dynamodb"), prefix=f"load{uuid.uuid4().hex[:6]}-")
    function_env = env | {
        "STATE_TABLE": tables["StateTable"],
        "WORKER_FUNCTION_NAME": "WorkerFunction",
        "IDEMPOTENCY_TABLE": tables["IdempotencyTable"],
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": secret,
        "TELEGRAM_API_BASE_URL": telegram.url,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "STYLEBOT_WEIGHTS_DIR": tempfile.mkdtemp(),
    }
    webhooks = EmulatorPool("WebhookFunction", function_env)
    workers = EmulatorPool("WorkerFunction", function_env, timeout_seconds=300)
    retries, _, destination = event_invoke_config("WorkerFunction")
    failures = EmulatorPool(destination or "FailureFunction", function_env)
    lambdas.route("WorkerFunction", Route(workers.invoke, max_retries=retries, on_failure=failures.invoke))

    latencies: list[float] = []

    class Timed:
        def invoke(self, event: dict[str, object]) -> object:
            started = time.perf_counter()
            result = webhooks.invoke(event)
            latencies.append(time.perf_counter() - started)
            return result

    photo, style = picture((200, 120, 40)), picture((20, 60, 200))

    def flow(user_id: int) -> Person:
        p = Person(Timed(), telegram, user_id, secret=secret)
        p.send("/start")
        p.tap(p.t("btn_nst"))
        p.send_photo(photo)
        p.send_document(style, "image/jpeg", file_name="style.jpg")
        p.tap("📐 1024")
        p.tap("📐 256")
        p.tap(p.t("btn_start"))
        return p

    print(f"# {args.users} users, up to {args.containers} webhook containers", file=sys.stderr)
    started = time.perf_counter()
    with ThreadPoolExecutor(args.containers) as pool:
        people = list(pool.map(flow, range(10_000_000, 10_000_000 + args.users)))
    lambdas.wait_idle(timeout=600)
    elapsed = time.perf_counter() - started

    sent_taps = 4  # per user: 3 messages (/start, photo, document), each answered by one message; 4 taps
    answers = [len([c for c in p.calls() if c.method == "sendMessage" and c.chat_id == p.user_id]) for p in people]
    taps = [len(p.answers()) for p in people]
    results = [len([c for c in p.calls() if c.method == "sendPhoto"]) for p in people]
    updates = sum(len(p.statuses) for p in people)
    lost = sum(max(0, 3 - a) for a in answers) + sum(max(0, sent_taps - t) for t in taps)
    duplicated = sum(max(0, a - 3) for a in answers) + sum(max(0, t - sent_taps) for t in taps)
    durations = [
        float(m)
        for log in Path(".local-state").glob("WebhookFunction-*.log")
        if log.stat().st_mtime >= time.time() - elapsed - 60
        for m in re.findall(r"REPORT RequestId: \S+\tDuration: ([\d.]+) ms", log.read_text(errors="replace"))
    ]
    cuts = statistics.quantiles(latencies, n=100)
    print(f"updates handled: {updates} (non-2xx: {sum(1 for p in people for s in p.statuses if s >= 300)})")
    print(f"updates lost: {lost}, duplicated: {duplicated}")
    print(f"jobs: {sum(1 for r in results if r == 1)} results delivered once, {sum(1 for r in results if r != 1)} not")
    print(f"webhook latency (client side): p50 {cuts[49] * 1000:.0f} ms, p99 {cuts[98] * 1000:.0f} ms")
    if durations:
        own, own99 = statistics.median(durations), statistics.quantiles(durations, n=100)[98]
        print(f"webhook's own run time per update: median {own:.1f} ms, p99 {own99:.1f} ms")
    print(f"wall time {elapsed:.1f} s; webhook containers started: {webhooks.started}, workers: {workers.started}")
    for pool_ in (webhooks, workers, failures):
        pool_.stop()
    lambdas.stop()
    dynamodb.stop()
    telegram.stop()
    return 0 if lost == 0 and duplicated == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
