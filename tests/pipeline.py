"""The job pipeline as the end-to-end tests run it: the webhook's async invocations of the worker go through the
loopback Lambda service, with the retries and on-failure destination of template.yaml, to the worker and the
failure notifier under the Lambda emulator. Plus the steps and waits the tests share."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from handler.adapters.dynamodb import DynamoDBStore
from handler.core.job import JobStatus
from infra.local.fake_bot_api import Call, FakeBotApi
from infra.local.lambda_emulator import EmulatorPool
from infra.local.lambda_service import LocalLambdaService, Route
from infra.local.template import event_invoke_config
from tests.driver import Person, is_progress
from tests.ml_helpers import write_test_weights

FIXTURES = Path(__file__).parent / "fixtures" / "images"
CAT = (FIXTURES / "chelsea.png").read_bytes()  # 451 x 300
BRICK = (FIXTURES / "brick.png").read_bytes()


@dataclass
class Pipeline:
    workers: EmulatorPool
    failures: EmulatorPool
    service: LocalLambdaService


@contextmanager
def running_pipeline(
    service: LocalLambdaService,
    function_env: dict[str, str],
    idempotency_table: str,
    weights: Path,
    *,
    concurrency: int | None = None,
) -> Iterator[Pipeline]:
    """Route the worker's async invocations to emulated workers (environment `function_env`, test weights
    written into `weights`), as template.yaml's EventInvokeConfig says, at most `concurrency` at once (the
    worker's reserved concurrency; None: no cap); undone on exit."""
    manifest = write_test_weights(weights)
    worker_env = {
        **function_env,
        "IDEMPOTENCY_TABLE": idempotency_table,
        "STYLEBOT_WEIGHTS_DIR": str(weights),
        "STYLEBOT_MANIFEST": str(manifest),
    }
    # The template gives the worker 900 s; 300 s keeps a best-quality job within its budget on a loaded 2-core
    # machine (it stopped at 87 s with 120) while a hung worker still fails the test in minutes.
    workers = EmulatorPool("WorkerFunction", worker_env, timeout_seconds=300)
    retries, _, destination = event_invoke_config("WorkerFunction")
    assert destination == "FailureFunction"
    # A shorter wait for a dead worker's heartbeat than in production, so that the tests stay quick.
    failures = EmulatorPool(destination, {**function_env, "LOST_JOB_GRACE_SECONDS": "8"})
    service.route(
        "WorkerFunction",
        Route(
            workers.invoke, max_retries=retries, retry_delay=0.2, on_failure=failures.invoke, concurrency=concurrency
        ),
    )
    try:
        yield Pipeline(workers, failures, service)
    finally:
        service.route("WorkerFunction", Route())
        workers.stop()
        failures.stop()


def start_own_style(
    p: Person, *, quality: str = "quick", content: bytes = CAT, photo_message_id: int | None = None
) -> None:
    own_style_options(p, quality=quality, content=content, photo_message_id=photo_message_id)
    p.tap(p.t("btn_start"))


def own_style_options(
    p: Person, *, quality: str = "quick", content: bytes = CAT, photo_message_id: int | None = None
) -> None:
    """Own style up to the options, set to a small size (and best quality if asked), not started; the photo is
    the message `photo_message_id` if given."""
    p.send("/start")
    p.tap(p.t("btn_nst"))
    p.send_photo(content, message_id=photo_message_id)
    p.send_document(BRICK, "image/png", file_name="brick.png")
    p.tap("📐")  # 512 -> 1024
    p.tap("📐")  # 1024 -> 256: small, so that the tests stay quick
    if quality == "best":
        p.tap("⚡")


def wait_for_progress(telegram: FakeBotApi, p: Person) -> None:
    """Block until the person's job shows progress (the worker is running it)."""
    telegram.wait_for(
        lambda calls: any(
            c.method == "editMessageText" and "%" in (c.text or "") and c.chat_id == p.user_id for c in calls
        ),
        timeout=120,
    )


def results(p: Person) -> list[Call]:
    """Every attempt to send the person a result (answered or not); not the photos of a best job's progress."""
    return [c for c in p.calls() if c.method in ("sendPhoto", "sendDocument") and not is_progress(c)]


def wait_finished(p: Person, store: DynamoDBStore, timeout: float = 180.0) -> str:
    """Wait for the user's job to end; returns its final status."""
    job_id = store.load(p.user_id).active_job or p.last_job
    assert job_id is not None, "the person has no job"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = store.job_status(p.user_id, job_id)
        if (
            status in (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)
            and store.load(p.user_id).active_job is None
        ):
            return str(status)
        time.sleep(0.2)
    raise TimeoutError(f"job {job_id} still {store.job_status(p.user_id, job_id)}")
