"""Local mode's timer: an asyncio task on the bot's event loop that sleeps until the wakeup's time and acts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from handler.core.wakeup import Wakeup
from handler.observability import logger

Act = Callable[[Wakeup], Awaitable[None]]


class AsyncioTimer:
    """Runs `act(wakeup)` at `wakeup.at` on the running event loop (long polling's); `schedule` must be called
    from a coroutine on it, as the handlers are."""

    def __init__(self, act: Act, clock: Callable[[], float] = time.time) -> None:
        self._act = act
        self._clock = clock
        self._tasks: set[asyncio.Task[None]] = set()  # held until done: the loop keeps only weak references

    def schedule(self, wakeup: Wakeup) -> None:
        task = asyncio.get_running_loop().create_task(self._later(wakeup))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _later(self, wakeup: Wakeup) -> None:
        await asyncio.sleep(max(0.0, wakeup.at - self._clock()))
        try:
            await self._act(wakeup)
        except Exception:
            logger.exception("album wakeup failed", extra={"user_id": wakeup.user_id})
