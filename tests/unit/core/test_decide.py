"""`decide`, the conversation core, without Telegram or AWS: keyboards, generations, lost jobs, flows."""

from __future__ import annotations

from dataclasses import replace

from handler.core.callbacks import callback_data, parse_callback
from handler.core.decide import decide
from handler.core.inputs import AlbumAnswered, AlbumReply, Catalogue, Command, Picture, PresetInfo, Situation, Tap
from handler.core.job import JobStatus
from handler.core.limits import JOB_STALE_SECONDS
from handler.core.state import Flow, Step, UserState
from handler.core.texts import text

PRESETS = (PresetInfo("monet", {"en": "Monet", "ru": "Моне"}), PresetInfo("anime_paprika", {"en": "Anime (Paprika)"}))
CTX = Situation(
    now=1_000_000.0, chat_id=1, catalogue=Catalogue(presets=PRESETS), new_job_id="j" * 16, tapped_message_id=5
)


def test_every_keyboard_fits_telegrams_64_byte_callback_data_even_at_huge_generations() -> None:
    # Given states that show each keyboard, with the largest generation our format allows
    state = UserState(user_id=1, generation=999_999_998)
    keyboards = []
    for event in (Command("start"), Command("settings"), Command("styles")):
        keyboards.append(decide(state, event, CTX))
    options = state.with_(step=Step.NST_OPTIONS, flow=state.flow.__class__(content_file_id="a", style_file_id="b"))
    keyboards.append(decide(options, Tap("o", state.generation, "size:1024"), CTX))
    keyboards.append(decide(options, Tap("o", state.generation, "go"), CTX))
    # Then every button's callback data is short and parses back to the same tap
    for outcome in keyboards:
        assert outcome.reply is not None and outcome.reply.keyboard
        for row in outcome.reply.keyboard:
            for button in row:
                data = callback_data(button.action, outcome.state.generation)
                assert len(data.encode()) <= 64
                parsed = parse_callback(data)
                assert isinstance(parsed, Tap) and parsed.generation == outcome.state.generation


def test_a_job_that_never_finished_does_not_block_the_user_forever() -> None:
    # Given a user whose job started long ago and never reported back
    stuck = UserState(user_id=1, active_job="old", job_started_at=CTX.now - JOB_STALE_SECONDS - 1)
    options = stuck.with_(step=Step.NST_OPTIONS, flow=stuck.flow.__class__(content_file_id="a", style_file_id="b"))
    # When they start a new job
    outcome = decide(options, Tap("o", 0, "go"), CTX)
    # Then it starts
    assert outcome.job is not None and outcome.state.active_job == "j" * 16


def test_a_finished_job_frees_the_user_even_if_the_state_still_names_it() -> None:
    running = UserState(user_id=1, active_job="done-job", job_started_at=CTX.now - 5)
    options = running.with_(step=Step.NST_OPTIONS, flow=running.flow.__class__(content_file_id="a", style_file_id="b"))
    from dataclasses import replace

    outcome = decide(options, Tap("o", 0, "go"), replace(CTX, job_status=JobStatus.DONE))
    assert outcome.job is not None


def test_every_transition_makes_older_keyboards_stale() -> None:
    state = UserState(user_id=1, step=Step.NST_CONTENT)
    outcome = decide(state, Picture("F1", 10), CTX)
    assert outcome.state.step == Step.NST_STYLE
    assert outcome.state.generation == state.generation + 1


def test_every_job_knows_the_message_of_its_photo_so_that_the_result_replies_to_it() -> None:
    # Given a preset picked, and a photo sent as the user's message 314
    state = decide(UserState(user_id=1), Command("styles"), CTX).state
    state = decide(state, Tap("p", state.generation, "monet"), CTX).state
    state = decide(state, Picture("PHOTO", 314), CTX).state
    # When they start the job
    job = decide(state, Tap("o", state.generation, "go"), CTX).job
    # Then the job names that message
    assert job is not None and job.content_message_id == 314
    # And "Change options" under its result starts from the same photo, message and all
    again = decide(state.with_(step=Step.IDLE), Tap("r", 0, f"opts:{job.job_id}"), replace(CTX, tapped_job=job))
    restarted = decide(again.state, Tap("o", again.state.generation, "go"), replace(CTX, new_job_id="k" * 16)).job
    assert restarted is not None and restarted.content_message_id == 314


def test_an_album_where_one_picture_is_awaited_takes_the_first_and_answers_once() -> None:
    # Given a user asked for the style picture
    state = UserState(user_id=1, step=Step.NST_STYLE, flow=Flow(content_file_id="PHOTO"))
    # When an album of two comes, its second picture first
    first = decide(state, Picture("B", 21, album_id="g"), CTX)
    pair = decide(first.state, Picture("A", 20, album_id="g"), CTX)
    assert pair.album_due is not None
    second = decide(pair.state, pair.album_due, CTX)
    # Then the first answer has no keyboard, and once no third picture came it shows the options, the first
    # picture taken
    assert first.reply is not None and first.reply.album == AlbumReply.FIRST and first.reply.keyboard is None
    assert second.reply is not None and second.reply.album == AlbumReply.UPDATE
    assert second.state.step == Step.NST_OPTIONS and second.state.flow.style_file_id == "A"
    assert second.reply.text.startswith(text("one_at_a_time", "en"))


def test_an_album_where_no_picture_is_awaited_is_answered_once() -> None:
    # Given a user on the options screen
    state = UserState(user_id=1, step=Step.NST_OPTIONS, flow=Flow(content_file_id="P", style_file_id="S"))
    # When an album of three comes
    outcomes = []
    for n in (30, 31, 32):
        outcomes.append(decide(state, Picture(f"F{n}", n, album_id="g"), CTX))
        state = outcomes[-1].state
    # Then only its first picture is answered, and the options screen's buttons still work
    assert [o.reply.text if o.reply else None for o in outcomes] == [text("not_expecting_picture", "en"), None, None]
    assert state.generation == 0 and state.flow.style_file_id == "S"


def test_the_albums_first_message_catches_up_with_a_picture_handled_meanwhile() -> None:
    # Given an album's first picture answered, and its second handled elsewhere before the answer was noted
    first = decide(UserState(user_id=1, step=Step.NST_CONTENT), Picture("A", 40, album_id="g"), CTX)
    pair = decide(first.state, Picture("B", 41, album_id="g"), CTX)
    assert pair.album_due is not None
    second = decide(pair.state, pair.album_due, CTX)
    assert second.state.flow.album_answer is None
    # When the first picture's handler notes the message it sent
    noted = decide(second.state, AlbumAnswered("g", 777, first.state.generation), CTX)
    # Then the message is remembered and edited into what the album became: the options
    assert noted.state.flow.album_answer == 777
    assert noted.reply is not None and noted.reply.album == AlbumReply.UPDATE and noted.reply.keyboard
    # And noted before the wakeup, it shows the two pictures without a keyboard
    early = decide(pair.state, AlbumAnswered("g", 777, first.state.generation), CTX)
    assert early.reply is not None and early.reply.keyboard is None and early.reply.text == text("album_got", "en")
    # And a note for a state nobody changed edits nothing
    quiet = decide(first.state, AlbumAnswered("g", 777, first.state.generation), CTX)
    assert quiet.reply is None and quiet.state.flow.album_answer == 777
