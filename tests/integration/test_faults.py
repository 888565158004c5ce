"""Faults: the state store going away for a moment, the Bot API failing or answering late, a frozen container
whose connections were closed meanwhile."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from handler.adapters.dynamodb import DynamoDBStore
from handler.core.job import JobStatus
from handler.core.state import Step
from handler.core.texts import help_text
from infra.local.dynamodb import LocalDynamoDB
from infra.local.fake_bot_api import Call, FakeBotApi
from infra.local.http_proxy import KeepAliveProxy
from infra.local.lambda_emulator import EmulatedFunction
from infra.local.lambda_service import LocalLambdaService, Route
from tests.conftest import WEBHOOK_SECRET
from tests.driver import Person
from tests.factories import api_gateway_event, message_update
from tests.pipeline import BRICK, CAT, Pipeline, results, start_own_style, wait_finished

MakePerson = Callable[..., Person]
# Longer than the Bot API client's read timeout (python-telegram-bot's default, 5 s): the call is carried out,
# but its caller stops waiting for the answer.
LATE = 6.0


def delivered(calls: list[Call]) -> list[Call]:
    """The calls the Bot API carried out (a scripted error answer carries nothing out)."""
    return [c for c in calls if c.result is not None]


# Slow tier: waits out the store's timeouts and a stale claim; the store's outage reported as such:
# tests/unit/test_state_store_contract.py
@pytest.mark.slow
def test_store_outage_makes_telegram_redeliver_and_the_update_is_processed_once(
    function_env: dict[str, str], telegram: FakeBotApi, dynamodb_server: LocalDynamoDB
) -> None:
    # Given a warm webhook (its secrets already read; claims left by a dead delivery go stale after 3 s rather
    # than 40 s, to keep the test short) and an update from a user
    webhook = EmulatedFunction("WebhookFunction", {**function_env, "UPDATE_CLAIM_STALE_SECONDS": "3"}).start()
    webhook.invoke(api_gateway_event(message_update("/help", user_id=991_001), secret=WEBHOOK_SECRET))
    event = api_gateway_event(message_update("/start", user_id=991_002), secret=WEBHOOK_SECRET)
    # When the DynamoDB endpoint stops answering while the update arrives
    dynamodb_server.pause()
    try:
        during = webhook.invoke(event, timeout=120)
    finally:
        dynamodb_server.resume()
    # Then the webhook answers non-2xx, so that Telegram delivers the update again, and the user got nothing yet
    assert during["statusCode"] >= 500
    assert telegram.calls_to("sendMessage", chat_id=991_002) == []
    # When Telegram redelivers it, twice, once the store is back (the write the outage held up may land late:
    # it leaves a claim nobody finishes, which goes stale)
    time.sleep(3.5)
    after = [webhook.invoke(event)["statusCode"] for _ in range(2)]
    webhook.stop()
    # Then it is processed exactly once
    assert after == [200, 200]
    assert len(telegram.calls_to("sendMessage", chat_id=991_002)) == 1


# --- the Bot API failing while the webhook answers ------------------------------------------------------------


def test_a_reply_telegram_refuses_with_a_5xx_is_sent_again_and_arrives_once(
    person: MakePerson, telegram: FakeBotApi, store: DynamoDBStore
) -> None:
    # Given a user in the own-style flow, about to send the photo
    p = person()
    p.send("/start")
    p.tap(p.t("btn_nst"))
    # When they send it and the Bot API answers the bot's reply with 502 Bad Gateway (it did not carry it out)
    telegram.fail_next("sendMessage", 502, "Bad Gateway")
    status = p.send_photo(CAT)
    # Then Telegram gets 200, and the user gets the reply asking for the style picture exactly once, no apology
    assert status == 200
    replies = [c.text for c in delivered(p.shown()) if c.method == "sendMessage"][-1:]
    assert replies == [p.t("ask_style")]
    assert p.t("error") not in [c.text for c in p.shown()]
    # And the conversation went on: a second photo is taken as the style picture, as the user means it
    assert store.load(p.user_id).step == Step.NST_STYLE


def test_a_reply_telegram_answers_too_late_is_not_sent_again(
    person: MakePerson, telegram: FakeBotApi, store: DynamoDBStore
) -> None:
    # Given a user in the own-style flow, about to send the photo
    p = person()
    p.send("/start")
    p.tap(p.t("btn_nst"))
    before = len(p.shown())
    # When the Bot API carries out the reply but answers after the bot stopped waiting
    telegram.delay_next("sendMessage", LATE)
    status = p.send_photo(CAT)
    # Then Telegram gets 200, and the user sees the reply once: neither repeated nor followed by an apology that
    # would ask them to send the photo again (it would be taken as the style picture)
    assert status == 200
    assert [c.text for c in p.shown()[before:]] == [p.t("ask_style")]
    assert store.load(p.user_id).step == Step.NST_STYLE
    # And the next message is answered normally
    p.send("/help")
    assert p.last_text() == help_text(p.language)


def test_a_reply_telegrams_gateway_timed_out_on_is_not_sent_again(person: MakePerson, telegram: FakeBotApi) -> None:
    # Given a user in the own-style flow, about to send the photo
    p = person()
    p.send("/start")
    p.tap(p.t("btn_nst"))
    before = len(p.shown())
    # When Telegram's front answers the bot's reply 504 Gateway Timeout (its back end may have sent it)
    telegram.fail_next("sendMessage", 504, "Gateway Timeout")
    status = p.send_photo(CAT)
    # Then Telegram gets 200 and the bot neither repeats the reply nor apologises
    assert status == 200
    assert [c.text for c in p.shown()[before:]] == [p.t("ask_style")]


def test_a_picture_check_that_gets_no_answer_is_apologised_for_and_changes_nothing(
    person: MakePerson, telegram: FakeBotApi, store: DynamoDBStore
) -> None:
    # Given a user in the own-style flow, about to send the photo as a file (the webhook downloads documents to
    # check them, before anything is decided)
    p = person()
    p.send("/start")
    p.tap(p.t("btn_nst"))
    # When the Bot API does not answer the bot's getFile in time
    telegram.delay_next("getFile", LATE)
    status = p.send_document(BRICK, "image/png", file_name="brick.png")
    # Then Telegram gets 200, the user is asked to try again, and the flow still waits for the photo
    assert status == 200
    assert p.last_text() == p.t("error")
    assert store.load(p.user_id).step == Step.NST_CONTENT
    # And sending it again is taken as the photo
    p.send_document(BRICK, "image/png", file_name="brick.png")
    assert p.last_text() == p.t("ask_style")


# --- Lambda refusing to queue the job ------------------------------------------------------------------------


@pytest.fixture
def lambda_refusing(lambdas: LocalLambdaService) -> Iterator[Route]:
    """The worker's Invoke API throttling every call (429) until the test sets `refuse` back to False."""
    saved = lambdas.routes.get("WorkerFunction", Route())
    refusing = Route(refuse=True)
    lambdas.route("WorkerFunction", refusing)
    yield refusing
    lambdas.route("WorkerFunction", saved)


def test_a_job_lambda_refuses_to_queue_is_reported_and_leaves_the_user_on_its_options_to_start_again(
    person: MakePerson, store: DynamoDBStore, lambdas: LocalLambdaService, lambda_refusing: Route
) -> None:
    # Given a user on the options screen of their own style, while Lambda throttles the worker's invocation
    p = person()
    p.send("/start")
    p.tap(p.t("btn_nst"))
    p.send_photo(CAT)
    p.send_document(BRICK, "image/png", file_name="brick.png")
    p.tap("📐")  # 512 -> 1024: an option of theirs, to see it kept
    # When they tap Start
    assert p.tap(p.t("btn_start")) == 200
    # Then they are told the job could not start, the job is recorded as failed, and they are not left busy
    assert p.last_text().startswith(p.t("job_start_failed"))
    state = store.load(p.user_id)
    assert state.active_job is None
    attempts = lambdas.invocations_of("WorkerFunction")
    assert attempts and all(i.refused for i in attempts)
    refused = attempts[0].payload
    assert store.job_status(p.user_id, refused["job_id"]) == JobStatus.FAILED
    # And they are back on that job's options screen, photo, style and options kept, with ▶️ Start under it
    assert state.step == Step.NST_OPTIONS and state.flow.size == 1024
    assert p.t("btn_start") in [b["text"] for b in p.buttons()]
    # And when Lambda takes jobs again, tapping ▶️ Start there queues the job, once
    lambda_refusing.refuse = False
    lambdas.reset()
    p.tap(p.t("btn_start"))
    assert p.last_text() == p.t("job_queued")
    (queued,) = lambdas.invocations_of("WorkerFunction")
    assert not queued.refused and queued.payload["job_id"] != refused["job_id"]
    kept = ("content_file_id", "style_file_id", "size", "quality", "strength", "keep_colors")
    assert {k: queued.payload[k] for k in kept} == {k: refused[k] for k in kept}
    assert store.load(p.user_id).active_job == queued.payload["job_id"]


# --- the Bot API failing while the worker sends the result ----------------------------------------------------


def final_messages(p: Person) -> list[str]:
    """What the user is left with about their job: results that arrived, and apologies."""
    failures = [p.t("job_failed")]
    shown = [c.text or "" for c in delivered(p.shown())]
    return [c.method for c in delivered(results(p))] + [t for t in shown if t in failures]


# Slow tier: a job to its end; the gateway's 5xx policy: tests/unit/test_telegram_gateway.py
@pytest.mark.slow
def test_a_result_telegram_refuses_once_with_a_5xx_arrives_once(
    pipeline: Pipeline, person: MakePerson, store: DynamoDBStore, telegram: FakeBotApi
) -> None:
    # Given the Bot API answering the first upload of a result with 502 Bad Gateway
    telegram.fail_next("sendPhoto", 502, "Bad Gateway")
    p = person()
    # When a job runs
    start_own_style(p)
    p.last_job = store.load(p.user_id).active_job
    # Then the job is done, the user got the picture once and nothing else, and they are free
    assert wait_finished(p, store) == JobStatus.DONE
    assert final_messages(p) == ["sendPhoto"]
    assert store.load(p.user_id).active_job is None


# Slow tier: a job to its end; a refused result on fakes: tests/unit/jobs/test_runner.py
@pytest.mark.slow
def test_a_result_that_cannot_be_delivered_ends_in_one_apology(
    pipeline: Pipeline, person: MakePerson, store: DynamoDBStore, telegram: FakeBotApi
) -> None:
    # Given the Bot API answering every upload of a result with 502 Bad Gateway for a while
    telegram.fail_next("sendPhoto", 502, "Bad Gateway", times=10)
    p = person()
    # When a job runs
    start_own_style(p)
    job_id = p.last_job = store.load(p.user_id).active_job
    # Then the job fails and the user is told once, instead of a "Done!" with no picture
    assert wait_finished(p, store) == JobStatus.FAILED
    pipeline.service.wait_idle(timeout=60)
    assert final_messages(p) == [p.t("job_failed")]
    assert p.last_text() == p.t("job_failed")
    assert store.job_status(p.user_id, job_id) == JobStatus.FAILED
    # And they are free to start again
    p.send("/start")
    assert p.last_text().startswith("Hi")


# Slow tier: a job to its end and a 6 s late answer; on fakes: tests/unit/jobs/test_runner.py, test_telegram_gateway.py
@pytest.mark.slow
def test_a_result_telegram_answers_too_late_is_not_sent_again_and_the_job_ends(
    pipeline: Pipeline, person: MakePerson, store: DynamoDBStore, telegram: FakeBotApi
) -> None:
    # Given the Bot API carrying out the upload of a result but answering after the worker stopped waiting
    telegram.delay_next("sendPhoto", LATE)
    p = person()
    # When a job runs
    start_own_style(p)
    job_id = p.last_job = store.load(p.user_id).active_job
    # Then the picture is not uploaded twice (it may well have arrived), no apology follows, the job ends done
    # (not left "sending", not retried by Lambda) and the user is free
    assert wait_finished(p, store) == JobStatus.DONE
    pipeline.service.wait_idle(timeout=60)
    assert len(results(p)) == 1
    assert final_messages(p) == ["sendPhoto"]
    assert store.job_status(p.user_id, job_id) == JobStatus.DONE
    assert store.load(p.user_id).active_job is None


# --- a frozen container whose connections were closed -----------------------------------------------------------


@pytest.fixture
def store_front(dynamodb_server: LocalDynamoDB) -> Iterator[KeepAliveProxy]:
    """A keep-alive front of the DynamoDB-compatible server (as DynamoDB's endpoint is) that can drop every
    connection."""
    proxy = KeepAliveProxy(("127.0.0.1", dynamodb_server.port)).start()
    yield proxy
    proxy.stop()


def test_a_thawed_container_replaces_connections_closed_while_it_was_frozen(
    function_env: dict[str, str], telegram: FakeBotApi, store_front: KeepAliveProxy
) -> None:
    # Given a warm webhook that reached DynamoDB (and SSM) and the Bot API, keeping both
    # connections alive
    env = {
        **function_env,
        "AWS_ENDPOINT_URL_DYNAMODB": store_front.url,
        "AWS_ENDPOINT_URL_SSM": store_front.url,
    }
    webhook = EmulatedFunction("WebhookFunction", env).start()
    try:
        first = webhook.invoke(api_gateway_event(message_update("/start", user_id=992_001), secret=WEBHOOK_SECRET))
        assert first["statusCode"] == 200
        store_connections, bot_api_connections = store_front.connections_opened, telegram.connections_opened
        # When Lambda freezes the environment and, meanwhile, both servers close every idle connection
        webhook.freeze()
        assert store_front.drop_connections() >= 1
        assert telegram.drop_connections() >= 1
        webhook.thaw()
        # Then the next update, once the environment is thawed, is processed normally: 200 and one reply
        started = time.monotonic()
        after = webhook.invoke(api_gateway_event(message_update("/help", user_id=992_001), secret=WEBHOOK_SECRET))
        took = time.monotonic() - started
    finally:
        webhook.stop()
    print(f"first update after the thaw took {took * 1000:.0f} ms")
    assert after["statusCode"] == 200
    replies = telegram.calls_to("sendMessage", chat_id=992_001)
    assert [c.text for c in replies][1:] == [help_text("en")]
    # And the closed connections were replaced by new ones, on both sides
    assert store_front.connections_opened > store_connections
    assert telegram.connections_opened > bot_api_connections
