"""The album's wakeup at the edge: the timers that bring it back, and the dialogue that schedules it and acts on
it (options at once where it cannot be scheduled)."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from handler.adapters.asyncio_timer import AsyncioTimer
from handler.adapters.lambda_timer import LambdaTimer
from handler.bot.dialog import Deps, carry_out, transition, wake
from handler.core.inputs import AlbumDue, Picture, Situation
from handler.core.keyboards import Keyboard
from handler.core.limits import ALBUM_SETTLE_SECONDS
from handler.core.state import Step, UserState
from handler.core.texts import text
from handler.core.wakeup import Wakeup
from tests.fakes import FakeDispatcher, MemoryStore

USER = 77
WAKEUP = Wakeup(USER, USER, None, AlbumDue("g", 3), at=0.0)


@dataclass
class ChatLog:
    """The `Telegram` port's text calls, as (method, message id, text, keyboard)."""

    said: list[tuple[str, int, str, Keyboard | None]] = field(default_factory=list)

    async def send_text(self, chat_id: int, text: str, keyboard: Keyboard | None = None, generation: int = 0) -> int:
        self.said.append(("send", 500 + len(self.said), text, keyboard))
        return 500 + len(self.said) - 1

    async def edit_text(
        self, chat_id: int, message_id: int, text: str, keyboard: Keyboard | None = None, generation: int = 0
    ) -> bool:
        self.said.append(("edit", message_id, text, keyboard))
        return True


@dataclass
class RecordingTimer:
    wakeups: list[Wakeup] = field(default_factory=list)
    refuse: bool = False

    def schedule(self, wakeup: Wakeup) -> None:
        if self.refuse:
            raise RuntimeError("the wakeup was not queued (status 429)")
        self.wakeups.append(wakeup)


def deps(timer: RecordingTimer | None) -> tuple[Deps, ChatLog]:
    log = ChatLog()
    return Deps(store=MemoryStore(), dispatcher=FakeDispatcher(), telegram=log, timer=timer), log  # type: ignore[arg-type]


async def send_album_of_two(d: Deps) -> None:
    """An album of two where the photo is awaited, each picture carried out as the bot does."""
    assert d.store.save(UserState(user_id=USER, step=Step.NST_CONTENT)) is not None
    context: Any = SimpleNamespace(bot_data={"deps": d})
    update: Any = SimpleNamespace(callback_query=None)
    for message_id in (20, 21):
        base = Situation(now=d.clock(), chat_id=USER)
        outcome = transition(d, USER, Picture(f"F{message_id}", message_id, "g"), base)
        await carry_out(update, context, outcome, base)


def test_the_second_picture_schedules_the_wakeup_and_the_wakeup_shows_the_options() -> None:
    # Given the bot with a timer
    timer = RecordingTimer()
    d, log = deps(timer)
    # When an album of two comes
    asyncio.run(send_album_of_two(d))
    # Then its one message says it has both, with no keyboard, and a wakeup is asked for in ALBUM_SETTLE_SECONDS
    assert [(m, t, k) for m, _, t, k in log.said] == [
        ("send", text("album_first", "en"), None),
        ("edit", text("album_got", "en"), None),
    ]
    (wakeup,) = timer.wakeups
    assert wakeup.due.album_id == "g" and wakeup.chat_id == USER
    assert abs(wakeup.at - (time.time() + ALBUM_SETTLE_SECONDS)) < 1
    # When the wakeup comes
    asyncio.run(wake(d, wakeup))
    # Then the same message shows the options, with their keyboard
    method, message_id, said, keyboard = log.said[-1]
    assert (method, message_id) == ("edit", log.said[0][1]) and keyboard and "options" in said
    assert d.store.load(USER).step == Step.NST_OPTIONS


@pytest.mark.parametrize("timer", [RecordingTimer(refuse=True), None], ids=["refused", "none"])
def test_where_the_wakeup_cannot_be_scheduled_the_options_show_at_once(timer: RecordingTimer | None) -> None:
    d, log = deps(timer)
    asyncio.run(send_album_of_two(d))
    method, _, said, keyboard = log.said[-1]
    assert method == "edit" and keyboard and "options" in said


def test_the_asyncio_timer_acts_at_the_wakeups_time_and_survives_a_failure() -> None:
    acted: list[tuple[Wakeup, float]] = []

    async def act(wakeup: Wakeup) -> None:
        acted.append((wakeup, time.monotonic()))
        if wakeup.user_id == 1:
            raise RuntimeError("Telegram is down")

    async def main() -> float:
        timer = AsyncioTimer(act)
        start = time.monotonic()
        timer.schedule(Wakeup(1, 1, None, AlbumDue("a", 1), at=time.time() + 0.05))
        timer.schedule(Wakeup(2, 2, None, AlbumDue("b", 1), at=time.time() + 0.2))
        await asyncio.sleep(0.4)
        return start

    start = asyncio.run(main())
    assert [w.user_id for w, _ in acted] == [1, 2]  # the first one's failure is logged, not raised
    assert 0.04 < acted[0][1] - start < 0.3 and acted[1][1] - start >= 0.19


@pytest.mark.parametrize(("status", "ok"), [(202, True), (429, False)])
def test_the_lambda_timer_queues_the_wakeup_on_the_function_itself(status: int, ok: bool) -> None:
    calls: list[dict[str, Any]] = []

    class Client:
        def invoke(self, **kwargs: Any) -> dict[str, Any]:
            calls.append(kwargs)
            return {"StatusCode": status}

    timer = LambdaTimer(Client(), "stack-WebhookFunction-abc")  # type: ignore[arg-type]
    if ok:
        timer.schedule(WAKEUP)
    else:
        with pytest.raises(RuntimeError):
            timer.schedule(WAKEUP)
    (call,) = calls
    assert call["FunctionName"] == "stack-WebhookFunction-abc" and call["InvocationType"] == "Event"
    assert Wakeup.from_event(json.loads(call["Payload"])) == WAKEUP
