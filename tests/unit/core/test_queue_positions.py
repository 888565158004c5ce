"""The "N pictures ahead of yours" count as the user sees it, when several writers (the webhook after Start, every
worker that finishes a job) compute it at once from readings of the queue taken at different moments, and each
edit takes a while to reach Telegram: `handler.core.queue.positions_to_show` on the in-memory fakes (which pass
the adapters' contract, tests/unit/test_job_queue_contract.py)."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Generator
from contextlib import closing
from dataclasses import dataclass, field

import pytest

from handler.core.job import JobStatus
from handler.core.limits import POSITION_LEASE_SECONDS
from handler.core.ports import ActiveJob, PositionLease
from handler.core.queue import positions_to_show
from tests.fakes import ManualClock, MemoryStore, MemoryUsage
from tests.unit.jobs.test_runner import make_job

USER = 7
JOB = "job0000000000007"


@dataclass
class Chat:
    """The job's message as Telegram shows it: every count, in the order the edits reached Telegram."""

    seen: list[int] = field(default_factory=list)


@dataclass
class Writer:
    """One writer with the count it computed. A step either starts it (it asks what to show) or delivers the edit
    it has on the way and asks for the next; it is done when there is nothing more to show."""

    count: int
    counts: Generator[int, None, None] | None = None
    on_the_way: int | None = None
    done: bool = False

    def step(self, queue: MemoryUsage, clock: ManualClock, chat: Chat) -> None:
        if self.counts is None:
            self.counts = positions_to_show(queue, USER, JOB, self.count, clock)
        elif self.on_the_way is not None:
            chat.seen.append(self.on_the_way)
        self.on_the_way = next(self.counts, None)
        self.done = self.on_the_way is None


def queued_job() -> tuple[MemoryStore, MemoryUsage, ManualClock]:
    clock = ManualClock()
    store = MemoryStore(clock)
    store.put_job(make_job(job_id=JOB, user_id=USER, chat_id=USER), JobStatus.QUEUED)
    return store, MemoryUsage(store), clock


class Turns:
    """Runs writers one step at a time, in an order drawn from `seed`: a step ends at each call of the job queue
    and each edit the writer sends, so any interleaving of their atomic writes and of their edits' delivery can
    come out. An edit reaches Telegram at its writer's next step."""

    def __init__(self, seed: int) -> None:
        self._draw = random.Random(seed)
        self._turn = threading.Condition()
        self._waiting: set[int] = set()
        self._finished: set[int] = set()
        self._running: int | None = None
        self._me = threading.local()

    def wait(self) -> None:
        """The calling writer's step ends here; it goes on when its next turn comes."""
        me: int = self._me.index
        with self._turn:
            self._waiting.add(me)
            self._running = None
            self._turn.notify_all()
            assert self._turn.wait_for(lambda: self._running == me, timeout=10)

    def writer(self, index: int, work: Callable[[], None]) -> threading.Thread:
        def run() -> None:
            self._me.index = index
            try:
                self.wait()
                work()
            finally:
                with self._turn:
                    self._finished.add(index)
                    self._running = None
                    self._turn.notify_all()

        return threading.Thread(target=run)

    def run(self, writers: list[threading.Thread]) -> None:
        for writer in writers:
            writer.start()
        with self._turn:
            while len(self._finished) < len(writers):
                settled = lambda: self._running is None and len(self._waiting | self._finished) == len(writers)  # noqa: E731
                assert self._turn.wait_for(settled, timeout=10)
                if self._waiting:
                    self._running = self._draw.choice(sorted(self._waiting))
                    self._waiting.remove(self._running)
                    self._turn.notify_all()
        for writer in writers:
            writer.join(10)


@dataclass
class TakingTurns:
    """The job queue, each call of which ends the calling writer's step."""

    queue: MemoryUsage
    turns: Turns

    def active_jobs(self, since: float) -> list[ActiveJob]:
        return self.queue.active_jobs(since)

    def want_position(self, user_id: int, job_id: str, ahead: int) -> bool:
        self.turns.wait()
        return self.queue.want_position(user_id, job_id, ahead)

    def take_refresh(self, user_id: int, job_id: str, holder: str, *, now: float, until: float) -> PositionLease | None:
        self.turns.wait()
        return self.queue.take_refresh(user_id, job_id, holder, now=now, until=until)

    def end_refresh(self, user_id: int, job_id: str, holder: str, shown: int, *, until: float) -> PositionLease | None:
        self.turns.wait()
        return self.queue.end_refresh(user_id, job_id, holder, shown, until=until)

    def release_refresh(self, user_id: int, job_id: str, holder: str) -> None:
        self.turns.wait()
        self.queue.release_refresh(user_id, job_id, holder)


@pytest.mark.parametrize("seed", range(200))
def test_however_writers_interleave_the_count_a_user_sees_never_goes_up_and_ends_at_the_lowest(seed: int) -> None:
    # Given a queued job, and six writers that computed its position from different readings of the queue
    _, queue, clock = queued_job()
    turns = Turns(seed)
    counts = random.Random(seed).choices(range(10), k=6)
    chat = Chat()

    def write(count: int) -> None:
        for shown in positions_to_show(TakingTurns(queue, turns), USER, JOB, count, clock):
            turns.wait()  # the edit is on its way; it lands when this writer goes on
            chat.seen.append(shown)

    # When they run interleaved in any order, at every write of the queue and every edit's delivery
    turns.run([turns.writer(i, lambda c=count: write(c)) for i, count in enumerate(counts)])  # type: ignore[misc]
    # Then the user saw the count only go down, and the message ends at the lowest count anyone computed
    assert chat.seen == sorted(chat.seen, reverse=True), chat.seen
    assert chat.seen[-1] == min(counts)
    # And no count was shown twice
    assert len(chat.seen) == len(set(chat.seen)), chat.seen


def test_a_lower_count_computed_while_an_edit_is_on_its_way_is_shown_after_it_by_the_same_writer() -> None:
    # Given a worker whose edit to "5 pictures ahead" is on its way to Telegram
    _, queue, clock = queued_job()
    chat = Chat()
    first, second = Writer(5), Writer(4)
    first.step(queue, clock, chat)
    assert first.on_the_way == 5
    # When a second worker computes 4 meanwhile
    second.step(queue, clock, chat)
    # Then it does not edit (its "4" could overtake the "5" on the way)
    assert second.done and chat.seen == []
    # And the first worker, once its edit has landed, shows 4 and stops
    first.step(queue, clock, chat)
    first.step(queue, clock, chat)
    assert first.done and chat.seen == [5, 4]


def test_a_writer_that_died_while_editing_holds_the_count_still_only_until_its_lease_runs_out() -> None:
    # Given a worker that took the lease, whose edit of "5" reached Telegram, and which then stopped (its process
    # killed, or frozen): it never lets the lease go
    _, queue, clock = queued_job()
    chat = Chat()
    dead = Writer(5)
    dead.step(queue, clock, chat)
    chat.seen.append(dead.on_the_way or -1)
    dead.on_the_way = None
    assert chat.seen == [5]
    # When another worker computes 4 within the lease, Then it waits for the lease (nothing is shown)
    clock.sleep(POSITION_LEASE_SECONDS - 1)
    early = Writer(4)
    early.step(queue, clock, chat)
    assert early.done and chat.seen == [5]
    # And once the lease has run out, the next count computed is shown
    clock.sleep(2)
    late = Writer(3)
    late.step(queue, clock, chat)
    late.step(queue, clock, chat)
    assert late.done and chat.seen == [5, 3]
    # And if the dead writer was only slow and comes back, it edits nothing more: the lease is no longer its own
    dead.step(queue, clock, chat)
    assert dead.done and chat.seen == [5, 3]


def test_an_edit_that_fails_lets_the_next_writer_show_its_count_at_once() -> None:
    # Given a worker whose edit of "5" fails (Telegram refuses it for now), so it stops there
    _, queue, clock = queued_job()
    with closing(positions_to_show(queue, USER, JOB, 5, clock)) as counts:
        assert next(counts) == 5
    # When another worker computes 4 a moment later, well within the lease
    clock.sleep(1)
    # Then it shows it
    assert list(positions_to_show(queue, USER, JOB, 4, clock)) == [4]


def test_a_job_that_starts_while_its_count_is_being_edited_is_not_shown_a_waiting_count_again() -> None:
    # Given a worker whose edit of "3" is on its way, and a lower count computed meanwhile
    store, queue, clock = queued_job()
    chat = Chat()
    holder = Writer(3)
    holder.step(queue, clock, chat)
    Writer(2).step(queue, clock, chat)
    # When the job's worker starts it (its message becomes the progress bar)
    assert store.set_job_status(USER, JOB, JobStatus.RUNNING, only_from=(JobStatus.QUEUED,))
    holder.step(queue, clock, chat)
    # Then the "2 pictures ahead" is not shown over the progress bar, and no later writer shows a count
    assert holder.done and chat.seen == [3]
    assert list(positions_to_show(queue, USER, JOB, 1, clock)) == []
