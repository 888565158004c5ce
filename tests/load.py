"""Load script (not a test): N simulated users, each running a whole flow through the webhook at once.

    .venv/bin/python -m tests.load --users 50 [--containers 8] [--cap 4]

Everything runs on loopback: the fake Bot API, the DynamoDB-compatible server, the Lambda Invoke API, and the
webhook and worker under the Lambda emulator (a pool of containers each, as Lambda scales out). All N users are
active at once; each sends /start, picks own style, sends a photo and a style picture, changes the size twice,
starts a quick job and gets the result. Webhook containers are capped at ``--containers`` (an update waits for
a free one, as a throttled one waits for Telegram's redelivery) and jobs at ``--cap`` (the worker's reserved
concurrency, given to the functions as WORKER_CONCURRENCY; further jobs wait in the async queue, as Lambda holds
them, and their users are shown their place in it).

Prints updates handled, lost and duplicated, the webhook latency seen by the sender (p50/p99, including the wait
for a free container) and the handler's run time (the emulator's billed duration), and the webhook's own CPU
time per update: the CPU the warm webhook processes used during the run divided by the updates they handled
(containers are warmed first, so imports and cold starts are not in it). Then the queue: the wait from Start to
the worker's claim (p50/p95, as the worker measured it for /stats) and the positions users were shown.
"""

from __future__ import annotations

import argparse
import io
import itertools
import re
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
from PIL import Image

from infra.local.lambda_emulator import EmulatorPool
from infra.local.lambda_service import Route
from infra.local.stack import start_local_stack
from infra.local.template import event_invoke_config

TOKEN = "123456789:AAload-test-token-for-the-fake-api_0"


def picture(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), color).save(buffer, "JPEG")
    return buffer.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument(
        "--containers", type=int, default=8, help="updates in flight at once (max_connections), a container each"
    )
    parser.add_argument("--cap", type=int, default=4, help="jobs at once (the worker's reserved concurrency)")
    args = parser.parse_args()

    from tests.driver import Person  # the same simulated person the end-to-end tests use (after the environment)

    stack = start_local_stack(TOKEN, "load")
    telegram, lambdas, secret = stack.telegram, stack.lambdas, stack.secret
    function_env = stack.function_env | {
        "STYLEBOT_WEIGHTS_DIR": tempfile.mkdtemp(),
        "WORKER_CONCURRENCY": str(args.cap),
    }
    webhooks = EmulatorPool("WebhookFunction", function_env)
    # In AWS the workers run on CPUs of their own; here they share two cores with everything else, so they run at
    # the lowest priority, one thread each, to leave the webhook's CPU (what this script measures) alone.
    workers = EmulatorPool("WorkerFunction", function_env | {"STYLEBOT_THREADS": "1"}, timeout_seconds=300, niceness=19)
    retries, _, destination = event_invoke_config("WorkerFunction")
    failures = EmulatorPool(destination or "FailureFunction", function_env)
    lambdas.route(
        "WorkerFunction",
        Route(workers.invoke, max_retries=retries, on_failure=failures.invoke, concurrency=args.cap),
    )

    latencies: list[float] = []  # from Telegram sending the update to the webhook's answer
    waits: list[float] = []  # the update waiting for one of Telegram's connections (max_connections)
    free_containers = threading.Semaphore(args.containers)

    class Timed:
        def invoke(self, event: dict[str, object]) -> object:
            queued = time.perf_counter()
            with free_containers:
                started = time.perf_counter()
                result = webhooks.invoke(event)
                latencies.append(time.perf_counter() - started)
            waits.append(started - queued)
            return result

    photo, style = picture((200, 120, 40)), picture((20, 60, 200))

    def flow(user_id: int) -> Person:
        p = Person(Timed(), telegram, user_id, secret=secret)
        p.send("/start")
        p.tap(p.t("btn_nst"))
        p.send_photo(photo)
        p.send_document(style, "image/jpeg", file_name="style.jpg")
        p.tap("📐")  # 512 -> 1024
        p.tap("📐")  # 1024 -> 256
        p.tap(p.t("btn_start"))
        return p

    print(f"# {args.users} users, up to {args.containers} webhook containers, worker cap {args.cap}", file=sys.stderr)
    # Warm every webhook container first (each answers one /help), so that cold starts are not in the figures.
    with ThreadPoolExecutor(args.containers) as pool:
        list(pool.map(lambda i: Person(webhooks, telegram, 9_000_000 + i, secret=secret).send("/help"),
                      range(args.containers)))  # fmt: skip
    warm_started = webhooks.started
    cpu_before = sum(f.runtime_cpu_seconds() for f in webhooks.environments())
    started = time.perf_counter()
    with ThreadPoolExecutor(args.users) as pool:
        people = list(pool.map(flow, range(10_000_000, 10_000_000 + args.users)))
    webhook_seconds = time.perf_counter() - started
    cpu_used = sum(f.runtime_cpu_seconds() for f in webhooks.environments()) - cpu_before
    lambdas.wait_idle(timeout=600)
    elapsed = time.perf_counter() - started

    sent_taps = 4  # per user: 3 messages (/start, photo, document), each answered by one message; 4 taps
    answers = [len([c for c in p.calls() if c.method == "sendMessage" and c.chat_id == p.user_id]) for p in people]
    taps = [len(p.answers()) for p in people]
    results = [len([c for c in p.calls() if c.method == "sendPhoto"]) for p in people]
    updates = sum(len(p.statuses) for p in people)
    lost = sum(max(0, 3 - a) for a in answers) + sum(max(0, sent_taps - t) for t in taps)
    duplicated = sum(max(0, a - 3) for a in answers) + sum(max(0, t - sent_taps) for t in taps)
    durations = [  # the emulator's REPORT lines, without each container's first (the warm-up's) invocation
        float(m)
        for function in webhooks.environments()
        for m in re.findall(r"REPORT RequestId: \S+\tDuration: ([\d.]+) ms", function.logs())[1:]
    ]
    cuts = statistics.quantiles(latencies, n=100)
    print(f"updates handled: {updates} (non-2xx: {sum(1 for p in people for s in p.statuses if s >= 300)})")
    print(f"updates lost: {lost}, duplicated: {duplicated}")
    print(f"jobs: {sum(1 for r in results if r == 1)} results delivered once, {sum(1 for r in results if r != 1)} not")
    wait_cuts = statistics.quantiles(waits, n=100)
    print(f"webhook latency (request to answer): p50 {cuts[49] * 1000:.0f} ms, p99 {cuts[98] * 1000:.0f} ms")
    print(f"waiting for a connection first (backlog at Telegram): p50 {wait_cuts[49] * 1000:.0f} ms, "
          f"p99 {wait_cuts[98] * 1000:.0f} ms")  # fmt: skip
    if durations:
        own, own99 = statistics.median(durations), statistics.quantiles(durations, n=100)[98]
        print(f"webhook handler run time per update: median {own:.1f} ms, p99 {own99:.1f} ms")
    print(f"webhook CPU per update: {cpu_used / updates * 1000:.1f} ms ({cpu_used:.1f} s CPU for {updates} updates, "
          f"{webhooks.started - warm_started} cold starts during the run)")  # fmt: skip
    print(f"throughput: {updates / webhook_seconds:.0f} updates/s over {webhook_seconds:.1f} s; all jobs done after "
          f"{elapsed:.1f} s; webhook containers: {webhooks.started}, worker containers: {workers.started}")  # fmt: skip
    report_queue(people, stack.tables["StateTable"])
    for pool_ in (webhooks, workers, failures):
        pool_.stop()
    stack.stop()
    return 0 if lost == 0 and duplicated == 0 else 1


def report_queue(people: list[object], table: str) -> None:
    """The queue as users saw it: the worker's measured waits, and the positions shown in each chat."""
    from handler.adapters.dynamodb_usage import DynamoDBUsage
    from handler.core.queue import waiting_text
    from handler.core.quotas import day_key
    from tests.driver import Person

    summary = DynamoDBUsage(boto3.client("dynamodb"), table).day_summary(day_key(time.time()))
    waits = sorted(j.wait_seconds for j in summary.jobs if j.wait_seconds is not None)
    if len(waits) >= 2:
        cuts = statistics.quantiles(waits, n=100, method="inclusive")
        print(f"queue wait (Start to the worker's claim): p50 {cuts[49]:.1f} s, p95 {cuts[94]:.1f} s, "
              f"max {waits[-1]:.1f} s over {len(waits)} jobs")  # fmt: skip
    shown: list[list[int]] = []
    for p in people:
        assert isinstance(p, Person)
        texts = {waiting_text(n, p.language): n for n in range(len(people) + 1)}
        seen = [texts[c.text] for c in p.shown() if c.text in texts]
        if seen:
            shown.append(seen)
    rises = [b - a for s in shown for a, b in itertools.pairwise(s) if b > a]
    firsts = sorted(s[0] for s in shown)
    print(f"positions shown: {len(shown)} of {len(people)} users waited; first position shown "
          f"{firsts[0] if firsts else '-'}..{firsts[-1] if firsts else '-'}; {sum(map(len, shown))} position messages; "
          f"a position shown above the one before it: {len(rises)} times (by at most {max(rises, default=0)}), "
          f"by {sum(1 for s in shown if any(b > a for a, b in itertools.pairwise(s)))} users")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
