"""The job pipeline end to end: webhook -> Lambda Invoke API (async) -> worker under the emulator -> result.

The worker's async invocations go through the loopback Lambda service with the retries and on-failure
destination that template.yaml configures, to the worker and the failure notifier under the Lambda emulator.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable

import pytest
from PIL import Image

from handler.adapters.dynamodb import DynamoDBStore
from handler.core.job import JobStatus
from infra.local.fake_bot_api import FakeBotApi
from infra.local.lambda_emulator import EmulatorPool
from tests.driver import Person
from tests.pipeline import BRICK, CAT, Pipeline, results, start_own_style, wait_finished, wait_for_progress

MakePerson = Callable[..., Person]
# Long enough for a second delivery to arrive, be refused and reach the failure destination while the first
# delivery still runs its job (the failure destination watches a job for 8 s before taking it for dead).
SLOW_UPLOAD_SECONDS = 5.0


def test_quick_job_delivers_a_photo_with_progress_and_frees_the_user(
    pipeline: Pipeline, person: MakePerson, store: DynamoDBStore
) -> None:
    # Given a user who starts a quick own-style job at 256 px, their photo being their message 4711
    p = person()
    start_own_style(p, photo_message_id=4711)
    p.last_job = store.load(p.user_id).active_job
    # When the worker has run it
    assert wait_finished(p, store) == JobStatus.DONE
    # Then one photo arrived, 256 px on the long side with the photo's aspect ratio, with the result's buttons
    (result,) = results(p)
    assert result.method == "sendPhoto"
    image = Image.open(io.BytesIO(result.files["photo"]))
    assert image.format == "JPEG" and max(image.size) == 256
    assert abs(image.size[0] / image.size[1] - 451 / 300) < 0.02
    assert [b["text"] for row in (result.reply_markup or {})["inline_keyboard"] for b in row] == [
        p.t("btn_again_style"),
        p.t("btn_again_options"),
    ]
    # And the job's message showed progress, then became the one summary line of what was made; the caption
    # under the picture does not say it twice: it names the style only
    assert result.params.get("caption") == p.t("style_yours").capitalize()
    edits = [c for c in p.calls() if c.method == "editMessageText"]
    assert any("%" in (c.text or "") for c in edits)
    summary = edits[-1].text or ""
    assert summary.startswith("✅ Done in ") and ": your style, quick, 256 px" in summary
    # And the picture is a reply to the user's photo, sent all the same should they have deleted it
    assert json.loads(result.params["reply_parameters"]) == {"message_id": 4711, "allow_sending_without_reply": True}
    # And the user is free for the next job
    assert store.load(p.user_id).active_job is None


def test_preset_job_returns_a_photo_of_the_photos_own_size(
    pipeline: Pipeline, person: MakePerson, store: DynamoDBStore
) -> None:
    # Given a user who sends a 451 x 300 photo to the Monet preset
    p = person()
    p.send("/styles")
    p.tap("Monet")
    p.send_photo(CAT)
    p.tap(p.t("btn_start"))
    p.last_job = store.load(p.user_id).active_job
    # When the job is done
    assert wait_finished(p, store) == JobStatus.DONE
    # Then the result has the photo's own size
    (result,) = results(p)
    assert Image.open(io.BytesIO(result.files["photo"])).size == (451, 300)
    # And its caption names the preset alone; the summary line names the size it has, not the 512 px of the settings
    assert result.params.get("caption") == "Monet"
    assert ": Monet, 451 px," in ([c.text for c in p.calls() if c.method == "editMessageText"][-1] or "")


def test_result_as_a_full_resolution_file_has_the_jobs_size_and_says_so(
    pipeline: Pipeline, person: MakePerson, store: DynamoDBStore
) -> None:
    # Given a user whose settings say "as file", who starts a quick own-style job at the size shown, 512 px
    p = person()
    p.send("/settings")
    p.tap(p.t("set_output", output=p.t("output_photo")))
    p.send("/start")
    p.tap(p.t("btn_nst"))
    p.send_photo(CAT)
    p.send_document(BRICK, "image/png", file_name="brick.png")
    assert "📐 Size: 512 ▸" in [b["text"] for b in p.buttons()]
    p.tap(p.t("btn_start"))
    p.last_job = store.load(p.user_id).active_job
    assert wait_finished(p, store) == JobStatus.DONE
    # Then the result is a PNG document 512 px on its long side, the photo's aspect ratio kept
    (result,) = results(p)
    assert result.method == "sendDocument"
    image = Image.open(io.BytesIO(result.files["document"]))
    assert image.format == "PNG" and image.size == (512, 341)
    # And the job's summary line names the file's pixel size, once: the caption does not say it again
    named = p.t("result_file", width=512, height=341)
    assert named not in (result.params.get("caption") or "")
    assert named in p.last_text() and p.last_text().startswith("✅")


def test_another_user_is_answered_quickly_while_a_long_job_runs(
    pipeline: Pipeline, person: MakePerson, store: DynamoDBStore, telegram: FakeBotApi
) -> None:
    # Given user A whose best-quality job is running
    a, b = person(), person()
    start_own_style(a, quality="best")
    a.last_job = store.load(a.user_id).active_job
    wait_for_progress(telegram, a)
    # When user B sends /start
    started = time.perf_counter()
    b.send("/start")
    latency = time.perf_counter() - started
    # Then B is answered within a second
    print(f"user B's /start answered in {latency * 1000:.0f} ms while A's job ran")
    assert b.last_text().startswith("Hi")
    assert latency < 1.0
    a.send("/cancel")
    wait_finished(a, store)


def test_cancel_stops_a_running_job_within_seconds_and_no_result_follows(
    pipeline: Pipeline, person: MakePerson, store: DynamoDBStore, telegram: FakeBotApi
) -> None:
    # Given a best-quality job that is running (its progress shows)
    p = person()
    start_own_style(p, quality="best")
    job_id = p.last_job = store.load(p.user_id).active_job
    wait_for_progress(telegram, p)
    # When the user taps Cancel on the job's message
    p.tap(p.t("btn_cancel_job"))
    cancelled_at = time.monotonic()
    # Then the job is cancelled and the worker lets go within a few seconds
    assert p.last_text() == p.t("job_cancelled")
    pipeline.service.wait_idle(timeout=60)
    stopped_after = time.monotonic() - cancelled_at
    print(f"worker stopped {stopped_after:.1f} s after the cancel")
    assert stopped_after < 10
    assert store.job_status(p.user_id, job_id) == JobStatus.CANCELLED
    # And no result was sent
    time.sleep(1)
    assert results(p) == []


@pytest.mark.slow  # a best job's pyramid under the emulator; on a fake clock: tests/unit/jobs/test_progress_previews.py
def test_a_best_job_shows_the_picture_forming_with_cancel_under_it(
    pipeline: Pipeline, person: MakePerson, store: DynamoDBStore, telegram: FakeBotApi
) -> None:
    # Given a best-quality job at 256 px (three pyramid levels, a preview at the end of each)
    p = person()
    start_own_style(p, quality="best")
    p.last_job = store.load(p.user_id).active_job
    assert p.last_job is not None
    job = store.load_job(p.user_id, p.last_job)
    assert job is not None
    # When its levels end, the worker swaps the new picture into the progress message (or the job ends without)
    telegram.wait_for(lambda calls: any(c.method == "editMessageMedia" for c in p.calls()) or results(p), timeout=240)
    # Then the progress became one photo with the bar in its caption (the text message it started as is gone) ...
    (photo,) = [c for c in p.progress_photos() if c.method == "sendPhoto"]
    (deleted,) = [c for c in p.calls() if c.method == "deleteMessage"]
    assert int(deleted.params["message_id"]) == job.progress_message_id
    # ... and the picture was swapped in with editMessageMedia: a small JPEG, with the bar, and Cancel under it
    swap = next(c for c in p.progress_photos() if c.method == "editMessageMedia")
    assert int(swap.params["message_id"]) == photo.result["message_id"]
    (picture,) = swap.files.values()
    image = Image.open(io.BytesIO(picture))
    assert image.format == "JPEG" and max(image.size) <= 512
    assert "%" in (swap.caption or "")
    assert [b["text"] for row in (swap.reply_markup or {})["inline_keyboard"] for b in row] == [p.t("btn_cancel_job")]
    # When the user taps Cancel under the picture
    p.tap(p.t("btn_cancel_job"))
    # Then the job stops, no result follows, and the photo keeps its picture with "cancelled" and no button
    assert wait_finished(p, store) == JobStatus.CANCELLED
    pipeline.service.wait_idle(timeout=60)
    last = [c for c in p.calls() if c.method == "editMessageCaption"][-1]
    assert (last.caption, last.reply_markup) == (p.t("job_cancelled"), None)
    assert results(p) == []


@pytest.mark.slow  # the duplicate's rules (dead vs. alive) on fakes: tests/unit/jobs/test_runner.py
def test_same_async_event_delivered_twice_yields_one_result(
    pipeline: Pipeline, person: MakePerson, store: DynamoDBStore, telegram: FakeBotApi
) -> None:
    # Given a job the webhook handed to the worker, which is running it (its upload of the result is slow, so
    # that it is still running a few seconds from now)
    telegram.delay_next("sendPhoto", SLOW_UPLOAD_SECONDS)
    p = person()
    start_own_style(p)
    p.last_job = store.load(p.user_id).active_job
    (invocation,) = pipeline.service.invocations_of("WorkerFunction")[-1:]
    wait_for_progress(telegram, p)
    assert store.job_status(p.user_id, p.last_job or "") == JobStatus.RUNNING
    # When Lambda's at-least-once queue delivers the same event again meanwhile (it is refused while the first
    # runs, retried, and handed to the failure destination, which must see that the job is alive)
    import json

    import boto3

    boto3.client("lambda").invoke(
        FunctionName="WorkerFunction", InvocationType="Event", Payload=json.dumps(invocation.payload)
    )
    pipeline.service.wait_idle(timeout=180)
    # Then the user got one result and no failure message
    assert wait_finished(p, store) == JobStatus.DONE
    assert len(results(p)) == 1
    assert [c for c in p.shown() if c.text == p.t("job_failed")] == []
    assert [i.payload for i in pipeline.service.invocations_of("WorkerFunction")].count(invocation.payload) == 2


@pytest.mark.slow  # a best job killed; the failure destination on fakes: tests/unit/jobs/test_runner.py
def test_a_worker_killed_mid_job_yields_one_failure_message_and_a_free_user(
    pipeline: Pipeline, person: MakePerson, store: DynamoDBStore, telegram: FakeBotApi
) -> None:
    # Given a best-quality job that is running
    p = person()
    start_own_style(p, quality="best")
    job_id = p.last_job = store.load(p.user_id).active_job
    wait_for_progress(telegram, p)
    # When its execution environment is killed (as on out-of-memory or timeout)
    assert pipeline.workers.kill_busy() == 1
    pipeline.service.wait_idle(timeout=120)
    # Then the retry does not run it twice, the failure destination tells the user once, and the user is free
    assert store.job_status(p.user_id, job_id) == JobStatus.FAILED
    failures = [c for c in p.shown() if c.text == p.t("job_failed")]
    assert len(failures) == 1
    assert results(p) == []
    assert store.load(p.user_id).active_job is None
    p.send("/start")
    assert p.last_text().startswith("Hi")


def test_telegram_429_during_progress_does_not_fail_the_job(
    pipeline: Pipeline, person: MakePerson, store: DynamoDBStore, telegram: FakeBotApi
) -> None:
    # Given Telegram answering the progress edits with 429 Too Many Requests
    telegram.fail_next("editMessageText", 429, "Too Many Requests: retry after 1", retry_after=1, times=3)
    p = person()
    # When a job runs
    start_own_style(p)
    p.last_job = store.load(p.user_id).active_job
    # Then it still delivers its result
    assert wait_finished(p, store) == JobStatus.DONE
    assert len(results(p)) == 1


def test_an_unreadable_picture_fails_the_job_with_a_clear_message(
    pipeline: Pipeline, person: MakePerson, store: DynamoDBStore
) -> None:
    # Given a "photo" whose bytes are not an image (Telegram would never send one, but a worker must cope)
    p = person()
    start_own_style(p, content=b"\x00not an image at all")
    p.last_job = store.load(p.user_id).active_job
    # Then the job fails with a message saying what is wrong, and the user is free
    assert wait_finished(p, store) == JobStatus.FAILED
    assert p.last_text().startswith(p.t("job_failed_photo", reason="").split(":")[0] + ":")
    assert results(p) == []


@pytest.mark.slow  # two jobs at once; one user's job stays in the fast tier above
def test_jobs_of_two_users_run_side_by_side(
    pipeline: Pipeline, person: MakePerson, store: DynamoDBStore, function_env: dict[str, str]
) -> None:
    # Given two users who start jobs at the same time (the webhook scaling out to two containers)
    webhooks = EmulatorPool("WebhookFunction", function_env)
    people = [person(), person()]
    for p in people:
        p.webhook = webhooks
    threads = [threading.Thread(target=start_own_style, args=(p,)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    webhooks.stop()
    # (each job's id from its dispatch: a quick job may already be over when the other user's flow ends)
    dispatched = {i.payload["user_id"]: i.payload["job_id"] for i in pipeline.service.invocations_of("WorkerFunction")}
    for p in people:
        p.last_job = dispatched.get(p.user_id)
        assert p.last_job is not None
    # Then both get their result
    for p in people:
        assert wait_finished(p, store) == JobStatus.DONE
        assert len(results(p)) == 1
