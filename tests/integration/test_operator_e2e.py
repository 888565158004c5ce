"""The operator's caps end to end, in both languages: the webhook and the worker under the Lambda emulator, the
DynamoDB-compatible server, the fake Bot API. Quotas refuse politely and are counted, the budget pauses best
quality, waiting users see their place in the queue, and /stats answers administrators only.

The tables are this module's own: the day's budget is shared by everyone, and pausing it must not touch the
other modules' jobs.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from handler.adapters.dynamodb import DynamoDBStore
from handler.adapters.dynamodb_usage import DynamoDBUsage
from handler.core.job import JobStatus
from handler.core.quotas import QuotaKind, day_key, quota_text
from infra.local.dynamodb import create_tables
from infra.local.fake_bot_api import FakeBotApi
from infra.local.lambda_emulator import EmulatedFunction
from infra.local.lambda_service import LocalLambdaService
from tests.driver import Person
from tests.pipeline import Pipeline, own_style_options, running_pipeline, wait_finished

ADMIN = 5_550_001
QUICK_PER_DAY = 1
BUDGET_SECONDS = 1000
_ids = itertools.count(5_550_100)


class Operated:
    def __init__(self, env: dict[str, str], webhook: EmulatedFunction, client: Any, tables: dict[str, str]) -> None:
        self.env = env
        self.webhook = webhook
        self.usage = DynamoDBUsage(client, tables["StateTable"])
        self.store = DynamoDBStore(client, tables["StateTable"], claim_ttl_seconds=3600)
        self.tables = tables


@pytest.fixture(scope="module")
def operated(aws_clients: dict[str, Any], function_env: dict[str, str]) -> Iterator[Operated]:
    client = aws_clients["dynamodb"]
    tables = create_tables(client, prefix=f"op{uuid.uuid4().hex[:8]}-")
    env = {
        **function_env,
        "STATE_TABLE": tables["StateTable"],
        "QUOTA_QUICK_PER_DAY": str(QUICK_PER_DAY),
        "ADMIN_USER_IDS": f"{ADMIN},42",
        "DAILY_BUDGET_WORKER_SECONDS": str(BUDGET_SECONDS),
        "WORKER_CONCURRENCY": "1",
    }
    webhook = EmulatedFunction("WebhookFunction", env).start()
    try:
        yield Operated(env, webhook, client, tables)
    finally:
        webhook.stop()
        for table in tables.values():
            client.delete_table(TableName=table)


@pytest.fixture(scope="module")
def capped(
    operated: Operated, lambda_service: LocalLambdaService, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pipeline]:
    """The worker behind the Lambda service with a reserved concurrency of 1."""
    with running_pipeline(
        lambda_service,
        operated.env,
        operated.tables["IdempotencyTable"],
        tmp_path_factory.mktemp("weights"),
        concurrency=1,
    ) as running:
        yield running


def person(operated: Operated, telegram: FakeBotApi, language: str, user_id: int | None = None) -> Person:
    return Person(operated.webhook, telegram, user_id or next(_ids), language)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_user_at_the_quota_is_refused_politely_and_the_refusal_is_counted(
    operated: Operated, telegram: FakeBotApi, language: str
) -> None:
    # Given a user who already made today's one quick picture
    p = person(operated, telegram, language)
    assert operated.usage.take_quota(p.user_id, day_key(time.time()), QuotaKind.QUICK, QUICK_PER_DAY)
    refusals_before = operated.usage.day_summary(day_key(time.time())).refusals.get(QuotaKind.QUICK, 0)
    own_style_options(p)
    # When they tap Start on another
    before = time.time()
    p.tap(p.t("btn_start"))
    after = time.time()
    # Then no job starts, and they are told, in their language, the limit and when it resets (00:00 UTC)
    answer = p.last_text()
    assert answer in {quota_text(QuotaKind.QUICK, QUICK_PER_DAY, t, None, language) for t in (before, after)}
    assert "00:00 UTC" in answer
    assert operated.store.load(p.user_id).active_job is None
    # And the refusal is counted: in the day's counters (/stats) and as a metric
    assert operated.usage.day_summary(day_key(time.time())).refusals[QuotaKind.QUICK] == refusals_before + 1
    assert '"QuotaRefusals"' in operated.webhook.logs() and '"kind":"quick"' in operated.webhook.logs()


def test_an_administrator_is_exempt_from_the_quotas(
    operated: Operated, telegram: FakeBotApi, lambda_service: LocalLambdaService
) -> None:
    lambda_service.reset()
    admin = person(operated, telegram, "en", ADMIN)
    assert operated.usage.take_quota(ADMIN, day_key(time.time()), QuotaKind.QUICK, QUICK_PER_DAY)
    own_style_options(admin)
    admin.tap(admin.t("btn_start"))
    assert admin.last_text() == admin.t("job_queued")
    admin.send("/cancel")


@pytest.mark.parametrize("language", ["en", "ru"])
def test_stats_answers_an_administrator_and_no_one_else(
    operated: Operated, telegram: FakeBotApi, language: str
) -> None:
    # Given an administrator and another user
    admin, other = person(operated, telegram, language, ADMIN), person(operated, telegram, language)
    # When each sends /stats
    admin.send("/stats")
    other.send("/stats")
    # Then the administrator gets today's and the week's numbers, refusals and the estimated cost
    report = admin.last_text()
    assert report.startswith(admin.t("stats_today", day=day_key(time.time())))
    assert admin.t("stats_week", days=7) in report
    for key in ("stats_refusals", "stats_wait", "stats_budget", "stats_cost"):
        assert admin.t(key, values="", p50="", p95="", used="", budget="", share="", cost="", gb_seconds="",
                       price="").split(":")[0].split("—")[0].strip() in report  # fmt: skip
    # And anyone else gets the ordinary answer to an unknown command
    assert other.last_text() == other.t("unknown_command")


# Slow tier: three jobs in turn. The positions' rules: tests/unit/core/test_queue_positions.py; racing: test_counters.py
@pytest.mark.slow
def test_waiting_users_see_their_place_in_the_queue_and_it_goes_down_as_jobs_finish(
    operated: Operated, capped: Pipeline, telegram: FakeBotApi
) -> None:
    # Given the worker capped at 1 and three users at their options: A and B in English, C in Russian
    a, b, c = (person(operated, telegram, language) for language in ("en", "en", "ru"))
    for p in (a, b, c):
        own_style_options(p)
    # When A starts (its downloads slowed, so that its job holds the one worker a few seconds), then B, then C
    telegram.delay_next("getFile", 2.5, times=2)
    for p in (a, b, c):
        p.tap(p.t("btn_start"))
        p.last_job = operated.store.load(p.user_id).active_job
    # Then B sees one picture ahead of theirs, C two
    assert b.t("job_waiting", ahead="1 picture") in [m.text for m in b.shown()]
    assert c.last_text() == c.t("job_waiting", ahead="2 картинки")
    # And all three get their pictures, one after another
    for p in (a, b, c):
        assert wait_finished(p, operated.store) == JobStatus.DONE
    # And C's count went down to one as A finished, before C's job started
    shown = [m.text for m in c.shown()]
    two, one = shown.index(c.t("job_waiting", ahead="2 картинки")), shown.index(c.t("job_waiting", ahead="1 картинка"))
    started = next(i for i, t in enumerate(shown) if t and "%" in t)
    assert two < one < started
    # And A, who never waited, saw no queue line
    assert not [m for m in a.shown() if m.text and m.text.startswith("⏳")]


@pytest.mark.parametrize("language", ["en", "ru"])
def test_past_80_percent_of_the_budget_best_quality_is_paused_for_everyone(
    operated: Operated, capped: Pipeline, telegram: FakeBotApi, language: str
) -> None:
    # Given today's budget 85 % spent (run last in this module: the budget is everyone's)
    today = day_key(time.time())
    spent = operated.usage.day_summary(today).worker_seconds
    if spent < 0.85 * BUDGET_SECONDS:
        operated.usage.add_worker_seconds(today, 0.85 * BUDGET_SECONDS - spent, 0)
    # When a user (an administrator too: the budget binds everyone) reaches the own-style options
    for p in (person(operated, telegram, language), person(operated, telegram, language, ADMIN)):
        own_style_options(p)
        # Then best quality's button shows as unavailable, and one line says why
        assert p.t("opt_quality_paused") in [b["text"] for b in p.buttons()]
        reason = p.t("budget_best_paused", reset="00:00 UTC")
        assert p.last_text().endswith(reason)
        # And a tap on it leaves quick quality, saying why
        p.tap(p.t("opt_quality_paused"))
        assert p.answers()[-1].params.get("text") == reason
        p.tap(p.t("btn_start"))
        assert p.last_text() == p.t("job_queued")
        p.send("/cancel")
    capped.service.wait_idle(timeout=60)
