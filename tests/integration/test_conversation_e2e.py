"""Every flow of the conversation, end to end: webhook under the Lambda emulator, fake Bot API, DynamoDB."""

from __future__ import annotations

import io
import json
import math
import struct
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from handler.adapters.dynamodb import DynamoDBStore
from handler.core.flood import BUCKET_SIZE, FLOOD_WARNING_EVERY, REFILL_PER_SECOND
from handler.core.limits import ALBUM_SETTLE_SECONDS
from handler.core.state import Step
from handler.core.texts import help_text
from infra.local.fake_bot_api import Call, FakeBotApi
from infra.local.lambda_emulator import EmulatedFunction
from infra.local.lambda_service import LocalLambdaService
from tests.conftest import WEBHOOK_SECRET
from tests.driver import Person, message_id_of
from tests.factories import api_gateway_event, message_update

FIXTURES = Path(__file__).parents[1] / "fixtures" / "images"
CAT = (FIXTURES / "chelsea.png").read_bytes()
BRICK = (FIXTURES / "brick.png").read_bytes()

MakePerson = Callable[..., Person]


def jpeg(width: int = 64, height: int = 48) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


def to_options(p: Person) -> None:
    """Own style up to the options: menu, content photo, style picture."""
    p.send("/start")
    p.tap(p.t("btn_nst"))
    p.send_photo(jpeg())
    p.send_document(BRICK, "image/png", file_name="brick.png")


# --- menu and buttons -----------------------------------------------------------------------------------------


def test_start_shows_the_menu_with_generation_stamped_buttons(person: MakePerson, store: DynamoDBStore) -> None:
    # Given a new user
    p = person()
    # When they send /start
    p.send("/start")
    # Then they see the greeting with the four menu buttons
    assert p.last_text().startswith("Hi, Ada!")
    labels = [b["text"] for b in p.buttons()]
    assert labels == [p.t("btn_nst"), p.t("btn_presets"), p.t("btn_settings"), p.t("btn_help")]
    # And every button carries the user's current generation in short, prefixed callback data
    generation = store.load(p.user_id).generation
    for button in p.buttons():
        data = button["callback_data"]
        assert len(data.encode()) <= 64
        assert data.split(":")[1] == str(generation)


def test_own_style_flow_up_to_a_dispatched_job(
    person: MakePerson, store: DynamoDBStore, lambdas: LocalLambdaService
) -> None:
    # Given a user who picks "Your own style"
    p = person()
    p.send("/start")
    p.tap(p.t("btn_nst"))
    assert p.last().method == "editMessageText" and p.last_text() == p.t("ask_content")
    # When they send the photo (compressed) and the style (as an image document)
    p.send_photo(jpeg())
    assert p.last_text() == p.t("ask_style")
    p.send_document(BRICK, "image/png", file_name="brick.png")
    # Then the options are shown with Start and Cancel
    assert "options" in p.last_text()
    labels = [b["text"] for b in p.buttons()]
    assert p.t("btn_start") in labels and p.t("btn_cancel") in labels
    # When they change the size and the quality, then tap Start
    p.tap("📐 Size: 512 ▸")
    assert "1024 px" in p.last_text() and "📐 Size: 1024 ▸" in [b["text"] for b in p.buttons()]
    p.tap("⚡")
    assert p.t("quality_best") in p.last_text()
    p.tap(p.t("btn_start"))
    # Then the message turns into the job's message with a Cancel button
    assert p.last_text() == p.t("job_queued")
    assert [b["text"] for b in p.buttons()] == [p.t("btn_cancel_job")]
    # And the worker was invoked asynchronously with ids and options only
    (invocation,) = lambdas.invocations_of("WorkerFunction")
    assert invocation.invocation_type == "Event"
    job = invocation.payload
    assert job["user_id"] == p.user_id and job["kind"] == "nst"
    assert job["size"] == 1024 and job["quality"] == "best" and job["strength"] == "high"  # options by their keys
    assert job["content_file_id"] != job["style_file_id"]
    assert len(json.dumps(job)) < 1000  # ids, never image bytes
    # And the user's state shows the active job, whose item is QUEUED
    state = store.load(p.user_id)
    assert state.active_job == job["job_id"]
    assert store.job_status(p.user_id, job["job_id"]) == "QUEUED"


def test_second_start_while_a_job_runs_offers_its_cancel(
    person: MakePerson, store: DynamoDBStore, lambdas: LocalLambdaService
) -> None:
    # Given a user whose job is queued
    p = person()
    to_options(p)
    p.tap(p.t("btn_start"))
    job_id = store.load(p.user_id).active_job
    assert job_id
    # When they go through the flow again and tap Start once more
    to_options(p)
    p.tap(p.t("btn_start"))
    # Then no second job starts; they see the running job's status and a Cancel button
    assert len(lambdas.invocations_of("WorkerFunction")) == 1
    assert p.last_text() == p.t("job_busy", status=p.t("job_status_queued"))
    # When they cancel it
    p.tap(p.t("btn_cancel_job"))
    # Then the job is marked cancelled and the user is free again
    assert p.last_text() == p.t("job_cancelled")
    assert store.job_status(p.user_id, job_id) == "CANCELLED"
    assert store.load(p.user_id).active_job is None


def test_cancel_command_cancels_the_running_job(
    person: MakePerson, store: DynamoDBStore, lambdas: LocalLambdaService
) -> None:
    # Given a user with a queued job
    p = person()
    to_options(p)
    p.tap(p.t("btn_start"))
    job_id = store.load(p.user_id).active_job
    assert job_id
    # When they send /cancel
    p.send("/cancel")
    # Then the job is cancelled
    assert p.last_text() == p.t("job_cancelled")
    assert store.job_status(p.user_id, job_id) == "CANCELLED"


def test_presets_flow(person: MakePerson, lambdas: LocalLambdaService) -> None:
    # Given a user opening the gallery with /styles
    p = person()
    p.send("/styles")
    assert p.last_text() == p.t("gallery")
    assert len(p.buttons()) >= 6
    # When they pick Monet and send a photo
    p.tap("Monet")
    assert p.last_text() == p.t("ask_preset_photo", preset="Monet")
    p.send_photo(jpeg())
    # Then they can start it
    p.tap(p.t("btn_start"))
    (invocation,) = lambdas.invocations_of("WorkerFunction")
    assert invocation.payload["kind"] == "preset" and invocation.payload["preset"] == "monet"
    assert invocation.payload["style_file_id"] is None


def test_settings_switch_language_and_size(person: MakePerson, store: DynamoDBStore) -> None:
    # Given an English-speaking user in settings
    p = person()
    p.send("/settings")
    assert "512 px" in p.last_text()
    # When they switch to Russian and pick 1024 px
    p.tap(p.t("set_lang", lang_name="English"))  # the language button shows the current one; a tap moves it on
    p.language = "ru"  # what they now read
    assert p.last_text().startswith("Настройки")
    p.tap("📐")  # the size button shows 512; a tap moves it to the next size
    # Then the bot speaks Russian from now on, even though Telegram says English, and remembers the size
    state = store.load(p.user_id)
    assert state.language == "ru" and state.size == 1024
    p.language = "en"
    p.send("/help")
    assert p.last_text().startswith(help_text("ru"))


# --- albums ---------------------------------------------------------------------------------------------------


# An album of two shows its keyboard once its wakeup comes: ALBUM_SETTLE_SECONDS after its second picture, in
# another execution environment of the webhook, which may have to start first (a cold start takes a few seconds
# on a loaded test machine).
KEYBOARD_WITHIN_SECONDS = ALBUM_SETTLE_SECONDS + 15


def album_keyboard(p: Person, since: int) -> Call:
    """Wait for the album's message (the first sent since `since` shown calls) to show a keyboard; that edit."""

    def edit(calls: list[Call]) -> Call | None:
        shown = [c for c in p.shown()[since:]]
        sent = [c for c in shown if c.method == "sendMessage"]
        if not sent:
            return None
        message = str(message_id_of(sent[0]))
        return next((c for c in shown if c.reply_markup and c.params.get("message_id") == message), None)

    p.telegram.wait_for(lambda calls: edit(calls) is not None, timeout=KEYBOARD_WITHIN_SECONDS)
    found = edit(p.telegram.calls)
    assert found is not None
    return found


def test_album_with_photo_and_style_goes_to_options(
    person: MakePerson, store: DynamoDBStore, lambdas: LocalLambdaService
) -> None:
    # Given a user asked for the content photo
    p = person()
    p.send("/start")
    p.tap(p.t("btn_nst"))
    before = len(p.shown())
    # When they send an album of two pictures, whose updates arrive in reverse order
    p.deliver(second := p.photo_update(album="alb1", message_id=9002))
    p.deliver(first := p.photo_update(album="alb1", message_id=9001))
    answered = time.monotonic()
    # Then the album's one message first says it has both pictures, with no keyboard
    album = p.shown()[before:]
    assert not [c for c in album if c.reply_markup]
    assert [c.method for c in album] == ["sendMessage", "editMessageText"] and album[-1].text == p.t("album_got")
    # And the webhook queued its wakeup on itself: an asynchronous invocation with ids only
    (wakeup,) = lambdas.invocations_of("WebhookFunction")
    assert wakeup.invocation_type == "Event" and wakeup.payload["album_id"] == "alb1"
    assert len(json.dumps(wakeup.payload)) < 300
    # And within seconds the same message shows the options, the first picture of the album being the photo and
    # the second the style
    options = album_keyboard(p, before)
    assert time.monotonic() - answered < KEYBOARD_WITHIN_SECONDS
    assert options.method == "editMessageText" and "options" in (options.text or "")
    assert options.params["message_id"] == str(message_id_of(album[0]))
    flow = store.load(p.user_id).flow
    assert flow.content_file_id == first["message"]["photo"][-1]["file_id"]
    assert flow.style_file_id == second["message"]["photo"][-1]["file_id"]
    # And its buttons work
    p.tap("📐")
    assert "1024 px" in p.last_text()


def test_album_arriving_in_two_containers_at_once_ends_consistent(
    function_env: dict[str, str], telegram: FakeBotApi, person: MakePerson, store: DynamoDBStore
) -> None:
    # Given a user asked for the content photo, and two warm webhook containers
    p = person()
    p.send("/start")
    p.tap(p.t("btn_nst"))
    first_container = EmulatedFunction("WebhookFunction", function_env).start()
    second_container = EmulatedFunction("WebhookFunction", function_env).start()
    try:
        updates = [p.photo_update(album="alb2", message_id=9101), p.photo_update(album="alb2", message_id=9102)]
        before = len(p.shown())
        # When the album's two updates are handled at the same moment, one in each container
        threads = [
            threading.Thread(target=p.deliver, args=(update, container))
            for update, container in zip(updates, (first_container, second_container), strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        first_container.stop()
        second_container.stop()
    # Then both were processed, and once the album's wakeup came the state holds both pictures in order
    assert p.statuses[-2:] == [200, 200]
    album_keyboard(p, before)
    state = store.load(p.user_id)
    assert state.step == Step.NST_OPTIONS
    assert state.flow.content_file_id == updates[0]["message"]["photo"][-1]["file_id"]
    assert state.flow.style_file_id == updates[1]["message"]["photo"][-1]["file_id"]
    # And the album got one message, which shows the options for both pictures, with the current buttons
    album = p.shown()[before:]
    sent = [c for c in album if c.method == "sendMessage"]
    assert len(sent) == 1
    final = [c for c in album if c is sent[0] or c.params.get("message_id") == str(sent[0].result["message_id"])]
    assert "options" in (final[-1].text or "") and final[-1].reply_markup
    generations = {b["callback_data"].split(":")[1] for row in final[-1].reply_markup["inline_keyboard"] for b in row}
    assert generations == {str(state.generation)}


@pytest.mark.parametrize("asked", [True, False], ids=["photo-asked-for", "photo-first"])
def test_album_of_three_gets_one_message_the_refusal_and_never_a_keyboard(
    asked: bool, person: MakePerson, store: DynamoDBStore, lambdas: LocalLambdaService
) -> None:
    # Given a user asked for the content photo, or one who has not started anything
    p = person()
    p.send("/start")
    if asked:
        p.tap(p.t("btn_nst"))
    before = len(p.shown())
    # When they send an album of three pictures (one update each, as Telegram delivers them: the next as soon as
    # the previous one is answered)
    for message_id in (9201, 9202, 9203):
        p.deliver(p.photo_update(album="alb3", message_id=message_id))
    # And the wakeup its second picture asked for (if any) has come and gone
    lambdas.wait_idle()
    # Then no keyboard appeared in the chat at any point: not for two pictures, not after the refusal
    album = p.shown()[before:]
    assert not [c for c in album if c.reply_markup]
    # And the album got one message, edited once per later picture, ending with the refusal
    assert [c.method for c in album if c.method == "sendMessage"] == ["sendMessage"]
    assert album[-1].method == "editMessageText" and album[-1].text == p.t("album_too_big")
    assert [c.text for c in album] == [p.t("album_first"), p.t("album_got"), p.t("album_too_big")]
    # And the wakeup was asked for, of the webhook itself, asynchronously
    assert [i.invocation_type for i in lambdas.invocations_of("WebhookFunction")] == ["Event"]
    # And the bot waits for what it waited for before the album
    state = store.load(p.user_id)
    assert state.step == (Step.NST_CONTENT if asked else Step.IDLE) and state.flow.content_file_id is None
    # And the next photo is taken normally
    p.send_photo(jpeg())
    assert p.last_text() == (p.t("ask_style") if asked else p.t("photo_first"))


# --- stale and forged buttons, double taps ----------------------------------------------------------------------


def test_tap_on_an_outdated_menu_changes_nothing_and_removes_it(person: MakePerson, store: DynamoDBStore) -> None:
    # Given a user with an old menu, replaced by a newer one
    p = person()
    p.send("/start")
    old_menu = p.latest_keyboard_message()
    p.send("/start")
    before = store.load(p.user_id)
    # When they tap a button of the old menu
    p.tap(p.t("btn_nst"), message=old_menu)
    # Then they are told it is outdated, the old keyboard is removed, and nothing changed
    assert p.answers()[-1].params.get("text") == p.t("outdated")
    removal = p.calls()[-1]
    assert removal.method == "editMessageReplyMarkup"
    assert not removal.params.get("reply_markup") or json.loads(removal.params["reply_markup"]) == {}
    after = store.load(p.user_id)
    assert (after.step, after.generation, after.flow) == (before.step, before.generation, before.flow)


def test_a_newer_screen_sent_as_a_new_message_takes_the_older_ones_buttons_off(
    person: MakePerson, store: DynamoDBStore
) -> None:
    # Given a user on the options of their own style, sent as a new message and remembered as the screen
    p = person()
    to_options(p)
    options = message_id_of(p.latest_keyboard_message())
    assert store.load(p.user_id).screen_message_id == options
    # When they change an option there (an edit of the same message), then ask for the settings by command
    p.tap(p.t("opt_size", size=512))
    assert store.load(p.user_id).screen_message_id == options
    assert not [c for c in p.calls() if c.method == "editMessageReplyMarkup" and message_id_of(c) == options]
    p.send("/settings")
    # Then the settings come as a new message, and then the options' buttons are taken off
    settings = p.latest_keyboard_message()
    removal = p.calls()[-1]
    assert removal.method == "editMessageReplyMarkup" and message_id_of(removal) == options
    assert not removal.params.get("reply_markup") or json.loads(removal.params["reply_markup"]) == {}
    # And the settings are the screen now
    assert store.load(p.user_id).screen_message_id == message_id_of(settings) != options


def test_forged_callback_data_is_refused_harmlessly(person: MakePerson, store: DynamoDBStore) -> None:
    # Given a user with a current menu
    p = person()
    p.send("/start")
    generation = store.load(p.user_id).generation
    forged = [
        f"z:{generation}:nst",  # unknown prefix
        "m:abc:nst",  # non-numeric generation
        "m:99999999999999999999:nst",  # huge number
        f"m:{generation}:../../etc",  # unknown action
        f"p:{generation}:nosuchpreset",  # unknown preset
        f"o:{generation}:go",  # Start with nothing to start
        "",
        "x" * 64,
    ]
    for data in forged:
        before = store.load(p.user_id)
        # When a forged tap arrives
        assert p.tap(data=data) == 200
        # Then it is answered as outdated and nothing changes
        assert p.answers()[-1].params.get("text") == p.t("outdated")
        after = store.load(p.user_id)
        assert (after.step, after.flow, after.active_job) == (before.step, before.flow, before.active_job)


def test_double_tap_on_start_in_two_containers_starts_one_job(
    function_env: dict[str, str], person: MakePerson, lambdas: LocalLambdaService, store: DynamoDBStore
) -> None:
    # Given a user at the options, and two warm webhook containers
    p = person()
    to_options(p)
    taps = [p.tap_update(p.t("btn_start")), p.tap_update(p.t("btn_start"))]
    answered_before = len(p.answers())
    containers = [EmulatedFunction("WebhookFunction", function_env).start() for _ in range(2)]
    try:
        # When both taps are handled at the same moment
        threads = [
            threading.Thread(target=p.deliver, args=(tap, container))
            for tap, container in zip(taps, containers, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for container in containers:
            container.stop()
    # Then exactly one job was started, and both taps were answered
    assert len(lambdas.invocations_of("WorkerFunction")) == 1
    assert len(p.answers()) == answered_before + 2
    assert store.load(p.user_id).active_job == lambdas.invocations_of("WorkerFunction")[0].payload["job_id"]


# --- bad input --------------------------------------------------------------------------------------------------

NOT_PICTURES: list[tuple[str, dict[str, Any]]] = [
    (
        "bad_sticker",
        {
            "sticker": {
                "file_id": "st",
                "file_unique_id": "st",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
            }
        },
    ),
    ("bad_voice", {"voice": {"file_id": "vo", "file_unique_id": "vo", "duration": 3}}),
    ("bad_video", {"video": {"file_id": "vi", "file_unique_id": "vi", "width": 10, "height": 10, "duration": 3}}),
    (
        "bad_animation",
        {
            "animation": {"file_id": "an", "file_unique_id": "an", "width": 10, "height": 10, "duration": 3},
            "document": {"file_id": "an", "file_unique_id": "an", "mime_type": "video/mp4"},
        },
    ),
    ("bad_location", {"location": {"latitude": 52.5, "longitude": 13.4}}),
    ("bad_contact", {"contact": {"phone_number": "+100", "first_name": "Bob"}}),
]


def test_everything_that_is_not_a_picture_gets_a_clear_answer_and_the_state_stays(
    person: MakePerson, store: DynamoDBStore
) -> None:
    # Given a user asked for the content photo
    p = person()
    p.send("/start")
    p.tap(p.t("btn_nst"))
    before = store.load(p.user_id)
    # When they send text, stickers, voice, video, a GIF, a location, a contact
    p.send("here you go")
    assert p.last_text() == p.t("expect_picture")
    for key, fields in NOT_PICTURES:
        p.deliver(p.message(**fields))
        # Then each gets its own short answer
        assert p.last_text() == p.t(key), key
    # And the bot is still waiting for the photo
    after = store.load(p.user_id)
    assert after.step == before.step == Step.NST_CONTENT


def truncated_jpeg() -> bytes:
    data = jpeg(640, 480)
    return data[: len(data) // 2]


def bomb_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A PNG of a few dozen bytes whose header claims `width` x `height` pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def test_bad_files_get_clear_answers_and_the_state_stays(person: MakePerson, store: DynamoDBStore) -> None:
    # Given a user asked for the content photo
    p = person()
    p.send("/start")
    p.tap(p.t("btn_nst"))
    cases = [
        ("bad_not_image", b"%PDF-1.4 not a picture", "application/pdf", None),
        ("bad_too_big", b"...", "image/jpeg", 25 * 1024 * 1024),
        ("bad_corrupt", truncated_jpeg(), "image/jpeg", None),
        ("bad_unsupported_format", b"definitely not an image", "image/png", None),
        ("bad_unsupported_format", b"....ftypheic", "image/heic", None),
    ]
    for key, data, mime, size in cases:
        # When they send a bad file
        p.send_document(data, mime, size=size)
        # Then they are told what is wrong with it
        assert p.last_text().startswith(p.t(key).split("(")[0][:30]), (key, p.last_text())
    p.send_document(bomb_png(), "image/png")
    assert p.last_text() == p.t("bad_too_many_pixels", megapixels=10000, limit=50)
    p.send_document(bomb_png(9000, 7000), "image/png")  # 63 MP: under Pillow's own guard, over ours
    assert p.last_text() == p.t("bad_too_many_pixels", megapixels=63, limit=50)
    # And the bot is still waiting for the photo
    assert store.load(p.user_id).step == Step.NST_CONTENT


def test_photo_when_nothing_is_awaited_is_kept_and_the_user_chooses_what_to_do(
    person: MakePerson, store: DynamoDBStore
) -> None:
    p = person()
    # Given a user who has not chosen anything, When they send a photo
    p.send_photo(jpeg())
    # Then it is kept as the photo, and they choose their own style, a famous painting or a preset for it
    assert p.last_text() == p.t("photo_first")
    labels = [b["text"] for b in p.buttons()]
    assert labels == [p.t("btn_use_own_style"), p.t("btn_paintings"), p.t("btn_apply_preset")]
    kept = store.load(p.user_id).flow.content_file_id
    assert kept is not None
    # And choosing their own style asks only for the style picture, the photo kept
    p.tap(p.t("btn_use_own_style"))
    assert p.last_text() == p.t("ask_style")
    state = store.load(p.user_id)
    assert state.step == Step.NST_STYLE and state.flow.content_file_id == kept


def test_edited_message_and_group_chat(person: MakePerson, store: DynamoDBStore, telegram: FakeBotApi) -> None:
    p = person()
    # Given a user who edits a message
    edited = message_update("/start", user_id=p.user_id, edit_date=1)
    p.deliver({"update_id": edited["update_id"], "edited_message": edited["message"]})
    # Then they are asked for a new message
    assert p.last_text() == p.t("edited")
    # Given the bot added to a group, When someone writes /start there
    group = message_update("/start", user_id=p.user_id)
    group["message"]["chat"] = {"id": -100123, "type": "supergroup", "title": "friends"}
    p.deliver(group)
    # Then the group is told the bot works in private chats, and nothing is stored
    (reply,) = telegram.calls_to("sendMessage", chat_id=-100123)
    assert reply.text == p.t("group_chat")
    assert store.load(p.user_id).version == 0


def test_a_flood_of_a_hundred_messages_at_once_is_rate_limited_politely(
    webhook: EmulatedFunction,
    function_env: dict[str, str],
    telegram: FakeBotApi,
    store: DynamoDBStore,
    lambdas: LocalLambdaService,
) -> None:
    # Given two warm containers of the webhook (Telegram delivers over several connections at once)
    second = EmulatedFunction("WebhookFunction", function_env).start()
    containers = [webhook, second]
    try:
        for i, container in enumerate(containers):
            container.invoke(api_gateway_event(message_update("/help", user_id=994_000 + i), secret=WEBHOOK_SECRET))
        p = Person(webhook, telegram, 994_100)
        spam = ["/start", "/help", "/settings", "/styles", "/cancel", "hello?", "hello??", "/nonsense"]
        updates = [message_update(spam[i % len(spam)], user_id=p.user_id) for i in range(100)]
        # When the user sends a hundred messages at once (as fast as the containers take them)
        started = time.monotonic()
        threads = [
            threading.Thread(target=lambda c=c, i=i: [p.deliver(u, c) for u in updates[i :: len(containers)]])
            for i, c in enumerate(containers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        took = time.monotonic() - started
        print(f"a hundred messages delivered in {took:.2f} s")
        # Then Telegram got 200 for every one (nothing to redeliver)
        assert p.statuses == [200] * 100
        # And the user got the answers the bucket allows plus a polite "slow down" (one per 10 s at most), not a
        # hundred replies
        replies = [c.text for c in p.shown()]
        warnings = replies.count(p.t("flood"))
        assert 1 <= warnings <= 1 + int(took // FLOOD_WARNING_EVERY)
        assert len(replies) <= BUCKET_SIZE + math.ceil(took * REFILL_PER_SECOND) + warnings
        # And no job was handed to the worker
        assert lambdas.invocations_of("WorkerFunction") == []
        # When they wait until the bucket holds a message again
        state = store.load(p.user_id)
        time.sleep(max(0.0, (1 - state.tokens) / REFILL_PER_SECOND - (time.time() - state.tokens_at)) + 0.2)
        p.send("/start")
        # Then they are served normally again
        assert p.last_text().startswith("Hi, Ada!")
    finally:
        second.stop()


# --- commands in any state --------------------------------------------------------------------------------------


def test_forget_erases_every_item_of_the_user(
    person: MakePerson, store: DynamoDBStore, aws_clients: dict[str, Any], tables: dict[str, str]
) -> None:
    # Given a user with state and a job
    p = person()
    to_options(p)
    p.tap(p.t("btn_start"))
    # When they send /forget
    p.send("/forget")
    # Then they are told, and the table holds nothing of theirs
    assert p.last_text() == p.t("forgotten")
    items = aws_clients["dynamodb"].scan(TableName=tables["StateTable"])["Items"]
    assert [i for i in items if str(p.user_id) in json.dumps(i)] == []


def test_cancel_help_settings_start_work_in_every_step(person: MakePerson, store: DynamoDBStore) -> None:
    # Given a user in the middle of the own-style flow
    p = person()
    p.send("/start")
    p.tap(p.t("btn_nst"))
    p.send_photo(jpeg())
    # When they ask for help, then cancel
    p.send("/help")
    assert p.last_text() == help_text(p.language)
    assert store.load(p.user_id).step == Step.NST_STYLE  # help changed nothing
    p.send("/cancel")
    # Then the flow is cancelled
    assert p.last_text() == p.t("cancelled")
    assert store.load(p.user_id).step == Step.IDLE
    p.send("/cancel")
    assert p.last_text() == p.t("nothing_to_cancel")
    p.send("/nonsense")
    assert p.last_text() == p.t("unknown_command")


def test_gallery_shows_the_presets_previews_then_the_buttons(
    function_env: dict[str, str], telegram: FakeBotApi, tmp_path: Path
) -> None:
    # Given a deployment whose image holds the weights (the test ones) and rendered previews beside them
    weights = Path(function_env["STYLEBOT_WEIGHTS_DIR"])
    for model in (f for f in weights.iterdir() if f.suffix in (".pth", ".pt")):
        (tmp_path / model.name).symlink_to(model)
    previews = tmp_path / "previews"
    previews.mkdir()
    for preset_id in ("monet", "vangogh", "cezanne"):
        Image.new("RGB", (96, 64), (30, 90, 160)).save(previews / f"{preset_id}.jpg")
    webhook = EmulatedFunction("WebhookFunction", {**function_env, "STYLEBOT_WEIGHTS_DIR": str(tmp_path)}).start()
    try:
        p = Person(webhook, telegram, 777_001)
        # When the user opens the gallery
        p.send("/styles")
        # Then an album of the previews, captioned with the presets' names, comes before the buttons
        album, buttons = [c for c in p.calls() if c.method in ("sendMediaGroup", "sendMessage")][-2:]
        assert album.method == "sendMediaGroup" and buttons.text == p.t("gallery")
        captions = [m["caption"] for m in json.loads(album.params["media"])]
        assert captions == ["Monet", "Van Gogh", "Cézanne"]
        assert len(album.files) == 3
        # And the second time the container sends Telegram's file ids instead of uploading again
        p.send("/styles")
        again = [c for c in p.calls() if c.method == "sendMediaGroup"][-1]
        assert again.files == {}
        assert [m["media"] for m in json.loads(again.params["media"])] == [
            m["photo"][-1]["file_id"] for m in album.result
        ]
    finally:
        webhook.stop()


# --- a picture the engine could not use is refused when it arrives ---------------------------------------------


@pytest.mark.parametrize("as_file", [False, True], ids=["photo", "file"])
def test_a_picture_too_small_is_refused_on_arrival_and_the_flow_waits_for_another(
    person: MakePerson, store: DynamoDBStore, as_file: bool
) -> None:
    # Given a user asked for the photo to restyle
    p = person()
    p.send("/start")
    p.tap(p.t("btn_nst"))
    # When they send an 8×8 picture (a photo, whose size Telegram tells; or a file, which the bot reads)
    tiny = jpeg(8, 8)
    if as_file:
        p.send_document(tiny, "image/jpeg", file_name="tiny.jpg")
    else:
        p.send_photo(tiny, size=(8, 8))
    # Then it is refused at once, saying why, instead of "Got the photo" and a failure after Start
    reason = p.t("reason_too_small", width=8, height=8, min_side=16)
    assert p.last_text() == p.t("bad_picture", reason=reason)
    # And the flow still waits for the photo: a good one is taken as usual
    assert store.load(p.user_id).step == Step.NST_CONTENT
    p.send_photo(jpeg())
    assert p.last_text() == p.t("ask_style")
