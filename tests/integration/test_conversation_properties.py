"""Property: whatever several users send, in any order, no update fails, each gets one answer, states stay valid.

Through PTB, the Lambda emulator and DynamoDB, so a few examples: the breadth (hundreds of sequences, more
invariants) is the pure core's state machine in tests/unit/core/test_conversation_machine.py."""

from __future__ import annotations

import io
import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from handler.adapters.dynamodb import DynamoDBStore
from infra.local.fake_bot_api import FakeBotApi
from infra.local.lambda_emulator import EmulatedFunction
from tests.driver import Person

_png = io.BytesIO()
Image.new("RGB", (40, 30), (10, 200, 90)).save(_png, "PNG")
PNG = _png.getvalue()
_first_user = itertools.count(900_000, 10)

ACTIONS = st.sampled_from(
    [
        "/start",
        "/cancel",
        "/help",
        "/settings",
        "/styles",
        "/forget",
        "hello",
        "photo",
        "document",
        "pdf",
        "sticker",
        "tap",
        "tap",
        "tap",
        "forged",
    ]
)


def act(p: Person, action: str, choice: int) -> str:
    """Do one thing as the person; returns which kind of answer the update must get."""
    if action == "photo":
        p.send_photo(b"")
    elif action == "document":
        p.send_document(PNG, "image/png")
    elif action == "pdf":
        p.send_document(b"%PDF-1.4", "application/pdf")
    elif action == "sticker":
        p.deliver(
            p.message(
                sticker={
                    "file_id": "s",
                    "file_unique_id": "s",
                    "width": 1,
                    "height": 1,
                    "is_animated": False,
                    "is_video": False,
                    "type": "regular",
                }
            )
        )
    elif action == "tap":
        try:
            buttons = p.buttons()
        except AssertionError:
            buttons = []
        if not buttons:
            p.tap(data="m:0:nst")
        else:
            p.tap(data=buttons[choice % len(buttons)]["callback_data"])
        return "callback"
    elif action == "forged":
        p.tap(data=f"o:{choice}:go")
        return "callback"
    else:
        p.send(action)
    return "message"


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(script=st.lists(st.tuples(st.integers(0, 2), ACTIONS, st.integers(0, 20)), min_size=1, max_size=15))
def test_random_updates_from_several_users(
    webhook: EmulatedFunction, bot_api: FakeBotApi, store: DynamoDBStore, script: list[tuple[int, str, int]]
) -> None:
    # Given three users (new ones for each example)
    first = next(_first_user)
    people = [Person(webhook, bot_api, first + i) for i in range(3)]
    for who, action, choice in script:
        p = people[who]
        before = len(bot_api.calls)
        # When the update is delivered
        kind = act(p, action, choice)
        # Then it did not fail
        assert p.statuses[-1] == 200, (action, p.statuses)
        # And it got exactly one answer: one message in the chat, or one answer to the tap
        calls: list[Any] = bot_api.calls[before:]
        if kind == "message":
            sent = [c for c in calls if c.method == "sendMessage" and c.chat_id == p.user_id]
            assert len(sent) == 1, (action, [c.method for c in calls])
        else:
            answered = [c for c in calls if c.method == "answerCallbackQuery"]
            assert len(answered) == 1, (action, [c.method for c in calls])
        # And every user's stored state is valid
        for person in people:
            assert store.load(person.user_id).valid()
