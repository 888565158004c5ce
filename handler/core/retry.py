"""The one retry loop: how often a call is tried, how long to pause, and when to give up.

What a failure means (try again, after how long, or give up with which error) is told by the caller's `classify`;
this module only runs the schedule. The Telegram gateway (`handler.adapters.telegram_gateway`) and the answer to
CloudFormation (`handler.deploy.cloudformation`) use it; nothing else in the code repeats a call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Again:
    """Try the call once more: after `seconds` (None: the policy's pause), else raise `give_up`."""

    give_up: Exception
    seconds: float | None = None


# What to do about a failed attempt: try again, or raise this exception (the error itself, or its translation).
Classify = Callable[[Exception], "Again | Exception"]


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` tries of one call at most, the first included; `pauses[i]` between try i+1 and i+2 (the last
    one repeated); a wait the other side asks for (`Again.seconds`) is kept if it is at most `longest_wait`."""

    attempts: int
    pauses: tuple[float, ...]
    longest_wait: float = 0.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or not self.pauses or min(self.pauses) < 0:
            raise ValueError(f"not a retry policy: {self}")

    def pause(self, attempt: int, again: Again) -> float | None:
        """Seconds to pause after failed attempt number `attempt` (from 0), or None to give up."""
        if attempt >= self.attempts - 1:
            return None
        if again.seconds is None:
            return self.pauses[min(attempt, len(self.pauses) - 1)]
        return again.seconds if again.seconds <= self.longest_wait else None

    @property
    def longest(self) -> float:
        """The most seconds the pauses of one call add up to (waits asked for by the other side aside)."""
        return sum(self.pauses[min(i, len(self.pauses) - 1)] for i in range(self.attempts - 1))


def _next(policy: RetryPolicy, attempt: int, error: Exception, classify: Classify) -> float:
    verdict = classify(error)
    if not isinstance(verdict, Again):
        raise verdict
    pause = policy.pause(attempt, verdict)
    if pause is None:
        raise verdict.give_up
    return pause


def retry(call: Callable[[], T], policy: RetryPolicy, classify: Classify, sleep: Callable[[float], None]) -> T:
    """Run `call` under `policy`; `classify` tells what each failure means."""
    for attempt in range(policy.attempts):
        try:
            return call()
        except Exception as error:
            pause = _next(policy, attempt, error, classify)
        sleep(pause)
    raise AssertionError("unreachable: the last attempt returns or raises")


async def retry_async(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    classify: Classify,
    sleep: Callable[[float], Awaitable[None]],
) -> T:
    """`retry` for coroutines: the same schedule, awaited."""
    for attempt in range(policy.attempts):
        try:
            return await call()
        except Exception as error:
            pause = _next(policy, attempt, error, classify)
        await sleep(pause)
    raise AssertionError("unreachable: the last attempt returns or raises")
