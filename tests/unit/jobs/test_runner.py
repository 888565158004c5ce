"""The job pipeline (JobRunner, its progress message and the failure path) on in-memory fakes of its ports: the
store, the messenger and the engine. What a user sees of a job, decided here in milliseconds; the Lambda path of
the same pipeline is proven end to end in tests/integration/test_job_pipeline_e2e.py."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from PIL import Image

from handler.adapters.ml_engine import REASONS, MLEngine
from handler.core.job import Job, JobStatus, Kind, Language, Quality, Strength, Untouched
from handler.core.keyboards import progress_keyboard, result_keyboard, strip_keyboard
from handler.core.ports import BadPicture, MaybeSent
from handler.core.texts import TEXTS, text
from handler.jobs.runner import IN_PROGRESS_ERROR, JobRunner, result_details
from ml.errors import BadImageKind
from tests.fakes import FakeMessenger, ManualClock, MemoryStore, ScriptedEngine

USER = 4242
JOB_ID = "job0000000000001"


def make_job(**changes: object) -> Job:
    fields: dict[str, object] = {
        "job_id": JOB_ID,
        "user_id": USER,
        "chat_id": USER,
        "kind": Kind.NST,
        "content_file_id": "PHOTO",
        "style_file_id": "STYLE",
        "quality": Quality.QUICK,
        "size": 512,
        "strength": Strength.MID,
        "keep_colors": False,
        "as_file": False,
        "language": Language.EN,
        "progress_message_id": 77,
    }
    return Job.model_validate(fields | changes)


@dataclass
class World:
    store: MemoryStore
    messenger: FakeMessenger
    engine: ScriptedEngine
    clock: ManualClock
    runner: JobRunner
    job: Job

    def queue(self) -> None:
        """The webhook's side: the user's state names the job, whose item is QUEUED."""
        state = self.store.load(USER)
        self.store.save(state.with_(active_job=self.job.job_id, job_started_at=self.clock(), generation=5))
        self.store.put_job(self.job, JobStatus.QUEUED)

    def texts(self) -> list[str]:
        return [s.text for s in self.messenger.sent]


def world(job: Job | None = None, **engine: object) -> World:
    clock = ManualClock()
    store = MemoryStore(clock)
    messenger = FakeMessenger(files={"PHOTO": b"photo", "STYLE": b"style"})
    scripted = ScriptedEngine(clock, **engine)  # type: ignore[arg-type]
    runner = JobRunner(store, messenger, scripted, clock=clock, wall=clock, sleep=clock.sleep, lost_grace=10.0)
    return World(store, messenger, scripted, clock, runner, job or make_job())


def test_a_job_ends_in_one_result_with_its_options_and_frees_the_user() -> None:
    w = world()
    w.queue()
    # When the worker runs the job
    assert w.runner.run(w.job, seconds_left=60) == JobStatus.DONE
    # Then the user got exactly one picture, with buttons to go on
    (picture,) = w.messenger.of_kind("picture")
    details = result_details(w.job, "")
    assert "quick" in details and "strength medium" in details and "colours of the style" in details
    assert picture.keyboard == result_keyboard("en", JOB_ID)
    # And the progress message became the one summary line of what was made, and the upload showed
    assert w.messenger.of_kind("edit")[-1].text == text("result_summary", "en", seconds=4, details=details)
    # And the caption under the picture does not say the summary again: it names the style only
    assert picture.text == "Your style"
    assert [a.text for a in w.messenger.of_kind("action")] == ["upload_photo"]
    # And its buttons are live: stamped with the user's generation after the job freed them
    state = w.store.load(USER)
    assert state.active_job is None and picture.generation == state.generation == 6
    # And the job is DONE, the progress message ended without buttons
    assert w.store.job_status(USER, JOB_ID) == JobStatus.DONE
    assert w.messenger.of_kind("edit")[-1].keyboard is None


def test_progress_shows_a_bar_percent_and_a_live_cancel_button_at_most_every_interval() -> None:
    # Given an engine that reports eight times a second
    w = world(fractions=tuple(i / 8 for i in range(1, 9)), step_seconds=0.125)
    w.queue()
    w.runner.run(w.job, seconds_left=60)
    edits = [s for s in w.messenger.of_kind("edit") if s.keyboard is not None]
    # Then the message was edited at the first report, and then at most every two seconds
    assert [e.text.splitlines()[-1].split()[1] for e in edits] == ["12%"]
    assert edits[0].text.startswith(text("progress_title_nst", "en"))
    # And its Cancel button is stamped with the user's current generation
    assert edits[0].keyboard == progress_keyboard("en") and edits[0].generation == 5


def test_progress_waits_as_long_as_telegram_says_after_a_429() -> None:
    # Given a job whose first progress edit Telegram refuses with "retry after 3 s"
    w = world(fractions=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0), step_seconds=1.0)
    w.messenger.rate_limit_edits = [3.0]
    w.queue()
    w.runner.run(w.job, seconds_left=60)
    # Then the next edit came three seconds later, and then every two seconds
    percents = [e.text.splitlines()[-1].split()[1] for e in w.messenger.of_kind("edit") if e.keyboard is not None]
    assert percents == ["40%", "60%", "80%", "100%"]


def test_a_job_without_a_progress_message_starts_one() -> None:
    w = world(make_job(progress_message_id=None))
    w.queue()
    w.runner.run(w.job, seconds_left=60)
    assert w.messenger.sent[0].kind == "text" and w.messenger.sent[0].text == text("progress_starting", "en")


def test_a_cancel_during_the_work_stops_it_and_nothing_is_sent() -> None:
    w = world()
    w.queue()

    def cancel_at_step(step: int) -> None:
        if step == 2:  # the user taps Cancel; the webhook writes CANCELLED
            w.store.set_job_status(USER, JOB_ID, JobStatus.CANCELLED, only_from=(JobStatus.RUNNING,))

    w.engine.on_step = cancel_at_step
    assert w.runner.run(w.job, seconds_left=60) == JobStatus.CANCELLED
    assert w.messenger.of_kind("picture") == []
    assert w.texts()[-1] == text("job_cancelled", "en")


def test_a_job_over_its_time_budget_is_stopped_and_the_user_told_in_their_language() -> None:
    w = world(make_job(language=Language.RU), step_seconds=5.0)
    w.queue()
    assert w.runner.run(w.job, seconds_left=12) == JobStatus.FAILED
    assert w.texts()[-1] == text("job_failed_timeout", "ru")
    assert w.store.load(USER).active_job is None and w.store.job_status(USER, JOB_ID) == JobStatus.FAILED


@pytest.mark.parametrize(
    ("error", "language", "told"),
    [
        (BadPicture("corrupt"), "en", text("job_failed_image", "en", reason=text("reason_corrupt", "en"))),
        (BadPicture("corrupt"), "ru", text("job_failed_image", "ru", reason=text("reason_corrupt", "ru"))),
        (
            BadPicture("too_many_pixels", {"limit": 50}),
            "ru",
            text("job_failed_image", "ru", reason=text("reason_too_many_pixels", "ru", limit=50)),
        ),
        (RuntimeError("out of memory"), "en", text("job_failed", "en")),
    ],
    ids=["unreadable-picture", "unreadable-picture-ru", "huge-picture-ru", "engine-crash"],
)
def test_a_job_that_fails_tells_the_user_once_in_their_language_and_frees_them(
    error: Exception, language: str, told: str
) -> None:
    w = world(make_job(language=Language(language)), error=error)
    w.queue()
    assert w.runner.run(w.job, seconds_left=60) == JobStatus.FAILED
    # Then the progress message turned into the one failure message, in the user's language
    assert w.texts()[-1] == told and w.texts().count(told) == 1
    assert w.messenger.of_kind("picture") == []
    assert w.store.load(USER).active_job is None


def test_a_result_telegram_refuses_is_reported_as_a_failure_not_as_done() -> None:
    w = world()
    w.messenger.picture_error = RuntimeError("Forbidden: bot was blocked by the user")
    w.queue()
    assert w.runner.run(w.job, seconds_left=60) == JobStatus.FAILED
    assert w.texts()[-1] == text("job_failed", "en")


def test_a_result_that_got_no_answer_counts_as_delivered_and_is_not_apologised_for() -> None:
    w = world()
    w.messenger.picture_error = MaybeSent("no answer in time")
    w.queue()
    assert w.runner.run(w.job, seconds_left=60) == JobStatus.DONE
    assert text("job_failed", "en") not in w.texts()


def test_a_user_who_erased_everything_mid_job_gets_the_result_without_buttons_and_nothing_is_stored_again() -> None:
    w = world()
    w.queue()
    w.engine.on_step = lambda step: step == 3 and w.store.forget(USER) and None
    # /forget erased the job item too: the worker sees it gone at its next check and stops
    assert w.runner.run(w.job, seconds_left=60) == JobStatus.CANCELLED
    assert w.store.load(USER).version == 0 and w.store.job_status(USER, JOB_ID) is None


@pytest.mark.parametrize(
    ("found", "expected", "told"),
    [
        (JobStatus.DONE, JobStatus.DONE, False),
        (JobStatus.RUNNING, JobStatus.FAILED, True),
        (None, Untouched.GONE, False),
    ],
    ids=["finished-before", "claimed-by-a-dead-attempt", "erased"],
)
def test_a_job_that_cannot_be_claimed_is_left_alone_unless_a_dead_attempt_holds_it(
    found: JobStatus | None, expected: str, told: bool
) -> None:
    w = world()
    w.queue()
    if found is None:
        w.store.forget(USER)
    else:
        w.store.set_job_status(USER, JOB_ID, found, only_from=(JobStatus.QUEUED,))
    assert w.runner.run(w.job, seconds_left=60) == expected
    assert w.engine.runs == []
    assert w.texts() == ([text("job_failed", "en")] if told else [])


def test_the_failure_destination_tells_the_user_once_and_frees_them() -> None:
    w = world()
    w.queue()
    assert w.runner.fail_lost(w.job, "Sandbox.Timedout") == JobStatus.FAILED
    assert w.texts() == [text("job_failed", "en")]
    assert w.store.load(USER).active_job is None
    # And a second record of the same job (a retry's) says nothing more
    assert w.runner.fail_lost(w.job, "Sandbox.Timedout") == JobStatus.FAILED
    assert w.texts() == [text("job_failed", "en")]


def test_a_duplicate_delivery_refused_while_the_job_beats_is_not_a_failure() -> None:
    # Given a job whose worker is alive (its heartbeat moves while the failure destination watches)
    w = world()
    w.queue()
    w.store.set_job_status(USER, JOB_ID, JobStatus.RUNNING, only_from=(JobStatus.QUEUED,))
    w.store.beat(USER, JOB_ID, w.clock())
    sleep = w.runner.sleep

    def sleep_while_the_worker_beats(seconds: float) -> None:
        sleep(seconds)
        w.store.beat(USER, JOB_ID, w.clock())

    w.runner.sleep = sleep_while_the_worker_beats
    # When the record of the refused duplicate arrives
    assert w.runner.fail_lost(w.job, IN_PROGRESS_ERROR) == Untouched.ALIVE
    # Then nobody is told anything and the job runs on
    assert w.texts() == [] and w.store.job_status(USER, JOB_ID) == JobStatus.RUNNING


def test_a_duplicate_whose_worker_stopped_beating_is_taken_for_dead_after_the_grace() -> None:
    w = world()
    w.queue()
    w.store.set_job_status(USER, JOB_ID, JobStatus.RUNNING, only_from=(JobStatus.QUEUED,))
    w.store.beat(USER, JOB_ID, w.clock())
    started = w.clock()
    assert w.runner.fail_lost(w.job, IN_PROGRESS_ERROR) == JobStatus.FAILED
    assert w.clock() - started >= w.runner.lost_grace
    assert w.texts() == [text("job_failed", "en")]


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (90, 140, 200)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize(
    ("picture", "key", "values"),
    [
        (png(8, 8), "reason_too_small", {"width": 8, "height": 8, "min_side": 16}),
        (png(2100, 20), "reason_too_narrow", {"width": 2100, "height": 20, "ratio": 20}),
    ],
    ids=["tiny", "sliver"],
)
def test_a_picture_the_models_refuse_is_explained_in_the_users_language(
    picture: bytes, key: str, values: dict[str, object], language: Language
) -> None:
    # Given a job whose photo passes the webhook's checks but not the model's (the real engine)
    clock = ManualClock()
    store = MemoryStore(clock)
    messenger = FakeMessenger(files={"PHOTO": picture, "STYLE": png(64, 64)})
    runner = JobRunner(store, messenger, MLEngine(), clock=clock, wall=clock, sleep=clock.sleep)
    job = make_job(language=language)
    store.put_job(job, JobStatus.QUEUED)
    # When the worker runs it
    assert runner.run(job, seconds_left=60) == JobStatus.FAILED
    # Then the user reads which picture and what is wrong with it, in their language, with its numbers: no English
    # of the models
    reason = text(key, language, **values)
    assert messenger.sent[-1].text == text("job_failed_photo", language, reason=reason)


@pytest.mark.parametrize("language", list(Language))
def test_a_style_picture_the_models_refuse_is_named_as_the_style_picture(language: Language) -> None:
    # Given a job whose photo is fine but whose style picture is 8×8 (a file the webhook did not download)
    clock = ManualClock()
    store = MemoryStore(clock)
    messenger = FakeMessenger(files={"PHOTO": png(64, 64), "STYLE": png(8, 8)})
    runner = JobRunner(store, messenger, MLEngine(), clock=clock, wall=clock, sleep=clock.sleep)
    job = make_job(language=language)
    store.put_job(job, JobStatus.QUEUED)
    # When the worker runs it
    assert runner.run(job, seconds_left=60) == JobStatus.FAILED
    # Then the user is told it is the style picture, and why
    reason = text("reason_too_small", language, width=8, height=8, min_side=16)
    assert messenger.sent[-1].text == text("job_failed_style", language, reason=reason)


def test_a_preset_result_is_captioned_with_its_style_only() -> None:
    # Given a preset job
    w = world(make_job(kind=Kind.PRESET, preset="monet", style_file_id=None))
    w.queue()
    # When it is done
    assert w.runner.run(w.job, seconds_left=60) == JobStatus.DONE
    # Then the summary line says what was made, and the caption only names the style (what stays with a forward)
    (picture,) = w.messenger.of_kind("picture")
    assert picture.text == "monet-en"
    summary = w.messenger.of_kind("edit")[-1].text
    assert summary.startswith("✅") and "monet-en" in summary and summary != picture.text


@pytest.mark.parametrize(
    ("changes", "caption"),
    [
        pytest.param({}, "Your style", id="own style"),
        pytest.param({"language": Language.RU}, "Ваш стиль", id="own style, ru"),
        pytest.param({"style_file_id": None, "painting": "the_scream"}, "the_scream-en", id="painting"),
        pytest.param(
            {"style_file_id": None, "painting": "udnie", "mix_painting": "the_scream", "mix_ratio": "50"},
            "udnie-en + the_scream-en (50/50)",
            id="two paintings mixed",
        ),
        pytest.param(
            {"mix_painting": "the_scream", "mix_ratio": "70", "language": Language.RU},
            "Ваш стиль + «the_scream-ru» (70/30)",
            id="own style and a painting mixed, ru",
        ),
    ],
)
def test_every_result_is_captioned_with_the_style_it_was_made_in(changes: dict[str, object], caption: str) -> None:
    # Given a job in the user's own style, a painting's, or two mixed (the fake engine titles a painting by its id)
    w = world(make_job(**changes))
    w.queue()
    # When it is done
    assert w.runner.run(w.job, seconds_left=60) == JobStatus.DONE
    # Then the picture's caption names its style, whichever it is (a preset's: above)
    (picture,) = w.messenger.of_kind("picture")
    assert picture.text == caption


def test_every_kind_of_picture_the_models_refuse_has_a_text_in_both_languages() -> None:
    # Given every kind of bad picture the ml package tells apart
    for kind in BadImageKind:
        # Then the engine names a text of the core for it, which both languages have
        key = f"reason_{REASONS[kind]}"
        assert all(key in TEXTS[language] for language in Language), key


def test_a_job_stopped_with_local_mode_is_told_once_by_its_worker_in_its_progress_message() -> None:
    # Given a running job, and the process that runs it going away halfway (local mode stops)
    w = world(make_job(language=Language.RU))
    w.queue()
    going_away = False

    def stop_at_step(step: int) -> None:
        nonlocal going_away
        going_away = going_away or step == 2
        # The bot's process stops only jobs no worker took: this one is the worker's to stop
        assert w.runner.stop(w.job) == JobStatus.RUNNING

    w.runner.stopping = lambda: going_away
    w.engine.on_step = stop_at_step
    # When the worker's runner meets the stop at its next cancel check
    assert w.runner.run(w.job, seconds_left=60) == JobStatus.FAILED
    # Then its progress message became "the bot was stopped", once, in the user's language: no "cancelled"
    assert w.texts()[-1] == text("job_stopped", "ru") and w.texts().count(text("job_stopped", "ru")) == 1
    assert text("job_cancelled", "ru") not in w.texts() and w.messenger.of_kind("picture") == []
    assert w.messenger.sent[-1].message_id == 77  # the job's own progress message
    assert w.store.load(USER).active_job is None and w.store.job_status(USER, JOB_ID) == JobStatus.FAILED


def test_a_queued_job_no_worker_took_is_stopped_and_its_user_told_once() -> None:
    w = world(make_job(language=Language.EN))
    w.queue()
    assert w.runner.stop(w.job) == JobStatus.FAILED
    assert w.texts() == [text("job_stopped", "en")] and w.store.load(USER).active_job is None
    # And a worker that gets it afterwards does not run it
    assert w.runner.run(w.job, seconds_left=60) == JobStatus.FAILED and w.engine.runs == []


def test_a_mix_downloads_the_second_picture_and_its_caption_names_both_styles() -> None:
    # Given a job mixing the user's style picture with a second one of theirs, 30/70, and one mixing a painting
    w = world(make_job(mix_style_file_id="SECOND", mix_ratio="30", language=Language.RU))
    w.messenger.files["SECOND"] = b"second style"
    w.queue()
    # When the worker runs it
    assert w.runner.run(w.job, seconds_left=60) == JobStatus.DONE
    # Then the engine got both pictures, and the caption names both styles and the ratio (and only that: the
    # summary line above it says the rest)
    assert w.engine.mixes == [b"second style"]
    (picture,) = w.messenger.of_kind("picture")
    assert picture.text == "Ваш стиль + ваш второй стиль (30/70)"
    assert "ваш второй стиль (30/70), быстрое качество" in w.messenger.of_kind("edit")[-1].text
    painted = make_job(style_file_id=None, painting="udnie", mix_painting="the_scream", mix_ratio="50")
    assert result_details(painted, "", titles={"udnie": "Udnie", "the_scream": "The Scream"}).startswith(
        "Udnie + The Scream (50/50), quick"
    )


def test_a_preview_sends_the_strip_with_a_button_a_strength_and_leaves_the_options_current() -> None:
    # Given a preview job of a user who is on their options screen (generation 5, no active job)
    w = world(make_job(preview=True, progress_message_id=None))
    w.store.save(w.store.load(USER).with_(generation=5))
    w.store.put_job(w.job, JobStatus.QUEUED)
    # When the worker runs it
    assert w.runner.run(w.job, seconds_left=60) == JobStatus.DONE
    # Then one picture: the strip, captioned, with one button a strength bound to the job; nothing else was said
    (strip,) = w.messenger.sent
    assert strip.kind == "picture" and strip.text == text("preview_caption", "en")
    assert strip.keyboard == strip_keyboard("en", JOB_ID)
    # And the user's keyboards stay current: the generation did not move
    assert w.store.load(USER).generation == 5


def test_a_preview_that_fails_says_so_once_and_leaves_the_options_current() -> None:
    w = world(make_job(preview=True, progress_message_id=None), error=RuntimeError("model broke"))
    w.store.save(w.store.load(USER).with_(generation=5))
    w.store.put_job(w.job, JobStatus.QUEUED)
    assert w.runner.run(w.job, seconds_left=60) == JobStatus.FAILED
    assert w.texts() == [text("preview_failed", "en")]
    assert w.store.load(USER).generation == 5
