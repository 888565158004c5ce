"""The worker's books and the queue on in-memory fakes: the budget, the records /stats reads, the metrics, the
positions waiting users see, and jobs that waited past the async event age."""

from __future__ import annotations

import json
import threading

import pytest

from handler.core.job import JobStatus, Language
from handler.core.keyboards import Keyboard, progress_keyboard
from handler.core.limits import ASYNC_EVENT_MAX_AGE_SECONDS
from handler.core.metric_names import Metric
from handler.core.quotas import QuotaKind, day_key
from handler.core.texts import pictures, text
from handler.jobs.accounting import Accounting
from handler.jobs.invocation import notify_lost_job, run_job
from tests.fakes import FakeMessenger, MemoryUsage, Sent
from tests.unit.jobs.test_runner import JOB_ID, USER, World, make_job, world


def books(w: World, *, budget: float = 100.0, concurrency: int = 1) -> tuple[Accounting, MemoryUsage]:
    usage = MemoryUsage(w.store)
    accounting = Accounting(usage, usage, w.store, w.messenger, budget, concurrency, wall=w.clock)
    w.runner.on_claim = accounting.claimed
    return accounting, usage


def emitted(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    """The EMF documents printed so far (what CloudWatch turns into metrics)."""
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]


def names(documents: list[dict[str, object]]) -> list[str]:
    return [m["Name"] for d in documents for m in d["_aws"]["CloudWatchMetrics"][0]["Metrics"]]  # type: ignore[index]


def test_a_finished_job_is_booked_against_the_budget_recorded_and_measured(capsys: pytest.CaptureFixture[str]) -> None:
    # Given a job that waited 30 s in the queue, and a budget of 100 worker-seconds
    w = world(job=None)
    w.job = make_job(enqueued_at=w.clock() - 30)
    accounting, usage = books(w)
    w.queue()
    # When the worker runs it (a 10 GB worker)
    result = run_job(w.runner, accounting, w.job, 60, memory_mb=10240)
    # Then its run time is in today's budget, in GB-seconds too, and a record says what it was
    assert result["status"] == JobStatus.DONE
    day = day_key(w.clock())
    (record,) = usage.records[day]
    assert (record.kind, record.size, record.status) == (QuotaKind.QUICK, 512, JobStatus.DONE)
    assert record.wait_seconds == pytest.approx(30)
    assert usage.seconds[day] == pytest.approx(record.seconds) and record.seconds > 0
    assert usage.gb_seconds[day] == pytest.approx(record.seconds * 10)
    # And the metrics the dashboard shows were published, each with its own dimensions
    documents = emitted(capsys)
    assert names(documents) == [Metric.JOBS_STARTED, Metric.QUEUE_WAIT, Metric.BUDGET_USED, Metric.JOBS_DONE,
                                Metric.JOB_SECONDS]  # fmt: skip
    seconds = next(d for d in documents if Metric.JOB_SECONDS in d)
    assert (seconds["kind"], seconds["size"]) == ("quick", "512")


def test_a_job_cancelled_before_its_claim_costs_its_seconds_but_is_not_a_run() -> None:
    w = world()
    accounting, usage = books(w)
    w.queue()
    w.store.set_job_status(USER, JOB_ID, JobStatus.CANCELLED, only_from=(JobStatus.QUEUED,))
    run_job(w.runner, accounting, w.job, 60, memory_mb=10240)
    assert usage.records == {} and day_key(w.clock()) in usage.seconds


def test_waiting_users_see_how_many_pictures_are_ahead_and_it_goes_down_as_jobs_finish() -> None:
    # Given a worker cap of 1 and three jobs started one after another: A (running), B, then C in Russian
    w = world()
    accounting, _ = books(w, concurrency=1)
    jobs = [
        make_job(job_id=f"job{i:013d}", user_id=100 + i, chat_id=100 + i, progress_message_id=10 + i,
                 enqueued_at=w.clock() + i, language=language)
        for i, language in enumerate((Language.EN, Language.EN, Language.RU))
    ]  # fmt: skip
    for job in jobs:
        w.store.put_job(job, JobStatus.QUEUED)
    w.store.set_job_status(100, jobs[0].job_id, JobStatus.RUNNING, only_from=(JobStatus.QUEUED,))
    # When the queue's positions are shown
    accounting.refresh_queue()
    # Then B sees one picture ahead, C two, each with a live Cancel
    shown = {s.chat_id: s for s in w.messenger.of_kind("edit")}
    assert shown[101].text == text("job_waiting", "en", ahead="1 picture")
    assert shown[102].text == text("job_waiting", "ru", ahead="2 картинки")
    assert shown[102].keyboard == progress_keyboard("ru")
    # When A finishes
    w.messenger.sent.clear()
    w.store.set_job_status(100, jobs[0].job_id, JobStatus.DONE, only_from=(JobStatus.RUNNING,))
    accounting.refresh_queue(finished=jobs[0].job_id)
    # Then B is next (nothing to show: its worker starts it) and C's count went down to one
    assert [(s.chat_id, s.text) for s in w.messenger.of_kind("edit")] == [
        (102, text("job_waiting", "ru", ahead="1 картинка"))
    ]


def test_positions_count_against_the_cap_the_stack_applied_as_the_finished_job_brings_it() -> None:
    # Given a worker configured with the cap asked for (4), on an account that allowed only 1: jobs X and Y run,
    # B and C wait behind them
    w = world()
    accounting, _ = books(w, concurrency=4)
    jobs = [
        make_job(job_id=f"job{i:013d}", user_id=100 + i, chat_id=100 + i, progress_message_id=10 + i,
                 enqueued_at=w.clock() + i, worker_cap=1)
        for i in range(4)
    ]  # fmt: skip
    for i, job in enumerate(jobs):
        w.store.put_job(job, JobStatus.QUEUED)
        if i < 2:
            w.store.set_job_status(job.user_id, job.job_id, JobStatus.RUNNING, only_from=(JobStatus.QUEUED,))
    # When X ends, its job carrying the cap the webhook knows was applied
    w.store.set_job_status(100, jobs[0].job_id, JobStatus.DONE, only_from=(JobStatus.RUNNING,))
    accounting.finished(jobs[0], JobStatus.DONE, 1.0, 1024)
    # Then B and C are shown their places behind Y, as with a cap of 1 (with 4, nobody would be waiting)
    assert [(s.chat_id, s.text) for s in w.messenger.of_kind("edit")] == [
        (102, text("job_waiting", "en", ahead="1 picture")),
        (103, text("job_waiting", "en", ahead="2 pictures")),
    ]


def test_a_refresh_from_an_older_reading_of_the_queue_never_shows_a_higher_count() -> None:
    # Given a worker cap of 1: A running, B and C waiting, and C shown two pictures ahead
    w = world()
    accounting, _ = books(w, concurrency=1)
    jobs = [
        make_job(job_id=f"job{i:013d}", user_id=100 + i, chat_id=100 + i, progress_message_id=10 + i,
                 enqueued_at=w.clock() + i)
        for i in range(3)
    ]  # fmt: skip
    for job in jobs:
        w.store.put_job(job, JobStatus.QUEUED)
    w.store.set_job_status(100, jobs[0].job_id, JobStatus.RUNNING, only_from=(JobStatus.QUEUED,))
    accounting.refresh_queue()
    # When one worker, finishing A, shows C one picture ahead, and a second worker that read the queue before A
    # ended (A still running) refreshes after it
    w.store.set_job_status(100, jobs[0].job_id, JobStatus.DONE, only_from=(JobStatus.RUNNING,))
    accounting.refresh_queue(finished=jobs[0].job_id)
    w.messenger.sent.clear()
    w.store.set_job_status(100, jobs[0].job_id, JobStatus.RUNNING, only_from=(JobStatus.DONE,))  # the old reading
    accounting.refresh_queue()
    # Then C's message is not edited back up to two
    assert [(s.chat_id, s.text) for s in w.messenger.of_kind("edit")] == []


class SlowRoad(FakeMessenger):
    """A worker's road to Telegram on which the first edit of one chat is slow: it reaches Telegram (the shared
    `sent` list, in the order Telegram applies edits) only when the test opens the gate."""

    def __init__(self, sent: list[Sent], slow_chat: int) -> None:
        super().__init__(sent=sent)
        self.slow_chat = slow_chat
        self.on_the_way = threading.Event()
        self.gate = threading.Event()

    def edit_text(
        self, chat_id: int, message_id: int, text: str, keyboard: Keyboard | None = None, generation: int = 0
    ) -> bool:
        if chat_id == self.slow_chat and not self.on_the_way.is_set():
            self.on_the_way.set()
            assert self.gate.wait(10)
        return super().edit_text(chat_id, message_id, text, keyboard, generation)


def test_two_workers_finishing_at_once_never_show_a_waiting_user_a_higher_count_than_before() -> None:
    # Given a worker cap of 1: P running, Q and C waiting (C two pictures ahead), never shown a position yet
    w = world()
    usage = MemoryUsage(w.store)
    slow = SlowRoad(w.messenger.sent, slow_chat=102)
    first = Accounting(usage, usage, w.store, slow, 100.0, 1, wall=w.clock)
    second = Accounting(usage, usage, w.store, w.messenger, 100.0, 1, wall=w.clock)
    jobs = [
        make_job(job_id=f"job{i:013d}", user_id=100 + i, chat_id=100 + i, progress_message_id=10 + i,
                 enqueued_at=w.clock() + i)
        for i in range(3)
    ]  # fmt: skip
    for job in jobs:
        w.store.put_job(job, JobStatus.QUEUED)
    w.store.set_job_status(100, jobs[0].job_id, JobStatus.RUNNING, only_from=(JobStatus.QUEUED,))
    # When one worker reads the queue and edits C's message to "2", and that edit is slow on its way
    reading = threading.Thread(target=first.refresh_queue)
    reading.start()
    assert slow.on_the_way.wait(10)
    # And meanwhile P ends, Q starts, and a second worker shows C its new place
    w.store.set_job_status(100, jobs[0].job_id, JobStatus.DONE, only_from=(JobStatus.RUNNING,))
    w.store.set_job_status(101, jobs[1].job_id, JobStatus.RUNNING, only_from=(JobStatus.QUEUED,))
    second.refresh_queue(finished=jobs[0].job_id)
    # And only then the slow edit reaches Telegram
    slow.gate.set()
    reading.join(10)
    # Then C's message never counted up, and it ends showing one picture ahead
    counts = {text("job_waiting", "en", ahead=pictures(n, "en")): n for n in range(4)}
    seen = [counts[s.text] for s in w.messenger.of_kind("edit") if s.chat_id == 102]
    assert seen == sorted(seen, reverse=True), f"C saw {seen}"
    assert seen[-1] == 1


@pytest.mark.parametrize("language", list(Language))
def test_a_job_that_waited_past_the_event_age_is_not_run_and_its_user_is_told_and_freed(language: Language) -> None:
    # Given a job delivered after waiting longer than Lambda's async event age
    w = world()
    w.job = make_job(enqueued_at=w.clock() - ASYNC_EVENT_MAX_AGE_SECONDS - 1, language=language)
    w.queue()
    # When the worker gets it
    assert w.runner.run(w.job, 60) == JobStatus.FAILED
    # Then it did not run, and the user is told why and freed
    assert w.engine.runs == []
    assert w.texts() == [text("job_expired", language, minutes=30)]
    assert w.store.load(USER).active_job is None


def test_the_failure_destination_tells_the_user_of_a_job_lambda_dropped_for_its_age() -> None:
    w = world()
    w.queue()
    record = {
        "requestContext": {"condition": "EventAgeExceeded", "approximateInvokeCount": 0},
        "requestPayload": json.loads(w.job.to_json()),
        "responsePayload": None,
    }
    assert notify_lost_job(w.runner, record)["status"] == JobStatus.FAILED
    assert w.texts() == [text("job_expired", "en", minutes=30)]
    assert w.store.load(USER).active_job is None
