"""Watch it paint: a best-quality job's progress message shows the picture as it forms, on in-memory fakes of the
ports and a fake clock (the Bot API road of the same is proven in tests/integration/test_job_pipeline_e2e.py)."""

from __future__ import annotations

from itertools import pairwise

from handler.core.job import JobStatus, Quality
from handler.core.keyboards import progress_keyboard
from handler.core.ports import MaybeSent
from handler.core.texts import text
from handler.jobs.progress import PREVIEW_INTERVAL_SECONDS, ProgressMessage
from tests.fakes import FakeMessenger, ManualClock, MemoryStore
from tests.unit.jobs.test_runner import JOB_ID, USER, make_job, world

TEXT_MESSAGE = 77


def progress_message() -> tuple[ProgressMessage, FakeMessenger, ManualClock]:
    clock = ManualClock(0.0)
    messenger = FakeMessenger()
    job = make_job(quality=Quality.BEST, progress_message_id=TEXT_MESSAGE)
    return ProgressMessage(messenger, MemoryStore(clock), job, TEXT_MESSAGE, clock=clock), messenger, clock


def test_a_new_picture_is_shown_at_most_once_per_interval_and_cancel_stays_under_it() -> None:
    message, messenger, clock = progress_message()
    shown: list[tuple[float, str, bytes]] = []
    # Given a job that reports every half second, with a new preview every 1.5 s from 3 s on
    for step in range(40):
        clock.now = step * 0.5
        preview = f"jpeg{step}".encode() if step >= 6 and step % 3 == 0 else None
        before = len(messenger.sent)
        message.report(step / 40, 60.0 - step, preview)
        shown += [(clock.now, s.kind, s.data) for s in messenger.sent[before:] if s.kind in ("preview", "media")]
    # Then the first preview turned the progress into a photo at the next edit (edits stay two seconds apart), and
    # the text message went
    first, *swaps = shown
    assert first == (4.0, "preview", b"jpeg6")
    assert [s.message_id for s in messenger.of_kind("delete")] == [TEXT_MESSAGE]
    # And each later picture was swapped in no sooner than PREVIEW_INTERVAL_SECONDS after the one before, the
    # newest one waiting at that moment
    times = [at for at, _, _ in shown]
    assert all(later - earlier >= PREVIEW_INTERVAL_SECONDS for earlier, later in pairwise(times))
    assert [kind for _, kind, _ in swaps] == ["media"] * len(swaps) and len(swaps) >= 2
    assert swaps[0] == (10.0, "media", b"jpeg18")
    # And between pictures the bar went on in the caption, and every edit of the photo kept Cancel under it
    photo = [s for s in messenger.sent if s.message_id == message.message_id]
    assert {s.kind for s in photo} == {"preview", "media", "caption"}
    assert all(s.keyboard == progress_keyboard("en") for s in photo)
    assert message.is_photo


def test_a_preview_at_100_percent_is_not_shown_the_result_follows() -> None:
    message, messenger, clock = progress_message()
    message.report(0.0, 30.0)
    clock.now = 10.0
    message.report(1.0, 0.0, b"final level")
    assert messenger.of_kind("preview") == [] and not message.is_photo


def test_a_preview_that_may_have_been_sent_is_not_sent_again_and_the_bar_goes_on_in_text() -> None:
    # Given Telegram that took the first preview but never answered
    message, messenger, clock = progress_message()
    messenger.preview_error = MaybeSent("sendPhoto: no answer")
    message.report(0.1, 30.0, b"first")
    # When later previews come
    for step in range(2, 10):
        clock.now = step * 5.0
        message.report(step / 10, 30.0 - step, b"later")
    # Then no other photo is sent (two progress messages could show), and the bar goes on in the text message
    assert messenger.of_kind("preview") == [] and messenger.of_kind("media") == []
    assert messenger.of_kind("edit")[-1].message_id == TEXT_MESSAGE and not message.is_photo


def test_a_best_job_delivers_its_result_after_a_one_line_summary_and_no_preview_stays() -> None:
    # Given a best-quality job whose engine sends previews at its first and third step
    w = world(make_job(quality=Quality.BEST), step_seconds=3.0, previews={0: b"level 1", 2: b"level 3"})
    w.queue()
    assert w.runner.run(w.job, seconds_left=60) == JobStatus.DONE
    # Then the progress became a photo at the first preview and took the second one in its place
    (photo,) = w.messenger.of_kind("preview")
    assert photo.data == b"level 1" and [m.data for m in w.messenger.of_kind("media")] == [b"level 3"]
    # And at the end the photo made way for the summary line, right before the result
    kinds = [s.kind for s in w.messenger.sent]
    assert kinds[-4:] == ["delete", "text", "action", "picture"]
    assert w.messenger.sent[-4].message_id == photo.message_id
    assert w.messenger.sent[-3].text.startswith("✅")


def test_a_cancelled_best_job_keeps_its_last_picture_with_the_word_cancelled_and_no_button() -> None:
    w = world(make_job(quality=Quality.BEST), step_seconds=3.0, previews={0: b"level 1"})
    w.queue()

    def cancel_at_step(step: int) -> None:
        if step == 2:
            w.store.set_job_status(USER, JOB_ID, JobStatus.CANCELLED, only_from=(JobStatus.RUNNING,))

    w.engine.on_step = cancel_at_step
    assert w.runner.run(w.job, seconds_left=60) == JobStatus.CANCELLED
    last = w.messenger.sent[-1]
    assert (last.kind, last.text, last.keyboard) == ("caption", text("job_cancelled", "en"), None)


def test_the_failure_destination_tells_the_user_in_a_new_message_when_the_progress_became_a_photo() -> None:
    # Given a job whose text progress message was replaced by a photo (deleted), and whose worker then died
    w = world(make_job(quality=Quality.BEST))
    w.queue()
    w.store.set_job_status(USER, JOB_ID, JobStatus.RUNNING, only_from=(JobStatus.QUEUED,))
    w.messenger.deleted.add(TEXT_MESSAGE)
    # When the failure destination takes it for lost
    assert w.runner.fail_lost(w.job, "Sandbox.Timedout") == JobStatus.FAILED
    # Then the user is told, in a new message since the old one is gone
    assert [(s.kind, s.text) for s in w.messenger.sent] == [("text", text("job_failed", "en"))]


def test_a_best_job_whose_result_telegram_refuses_turns_its_summary_line_into_the_apology() -> None:
    # Given a best-quality job that showed a preview, and a result Telegram refuses
    w = world(make_job(quality=Quality.BEST), step_seconds=3.0, previews={0: b"level 1"})
    w.messenger.picture_error = RuntimeError("Forbidden: bot was blocked by the user")
    w.queue()
    assert w.runner.run(w.job, seconds_left=60) == JobStatus.FAILED
    # Then the summary line that replaced the photo became the apology
    summary = next(s for s in w.messenger.of_kind("text") if s.text.startswith("✅"))
    last = w.messenger.sent[-1]
    assert (last.kind, last.message_id, last.text) == ("edit", summary.message_id, text("job_failed", "en"))


def test_a_worker_that_dies_under_a_progress_photo_leaves_no_live_cancel_behind() -> None:
    # Given a best job whose progress became a photo (the text message deleted)
    w = world(make_job(quality=Quality.BEST, progress_message_id=TEXT_MESSAGE))
    w.queue()
    w.store.set_job_status(USER, JOB_ID, JobStatus.RUNNING, only_from=(JobStatus.QUEUED,))
    message = ProgressMessage(w.messenger, w.store, w.job, TEXT_MESSAGE, clock=w.clock)
    w.clock.now = 5.0
    message.report(0.3, 40.0, b"level 1")
    assert message.is_photo
    photo = message.message_id
    # When its worker dies and the failure destination gets the job as it was dispatched (the text message's id)
    assert w.runner.fail_lost(w.job) == JobStatus.FAILED
    # Then the photo's caption says the picture failed, with no button under it
    (last,) = [s for s in w.messenger.sent if s.message_id == photo][-1:]
    assert (last.kind, last.text, last.keyboard) == ("caption", text("job_failed", "en"), None)
    assert w.messenger.of_kind("text") == []  # not a second message
