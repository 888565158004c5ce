"""A token bucket per user against floods: 20 updates at once, then one a second; one warning every 10 s."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handler.core.state import UserState

BUCKET_SIZE = 20.0
REFILL_PER_SECOND = 1.0
FLOOD_WARNING_EVERY = 10.0


def take_token(state: UserState, now: float) -> tuple[UserState, bool]:
    """The state with one token taken, and True; or the state unchanged and False when the bucket is empty."""
    tokens = min(BUCKET_SIZE, state.tokens + max(0.0, now - state.tokens_at) * REFILL_PER_SECOND)
    if tokens < 1.0:
        return state, False
    return state.with_(tokens=tokens - 1.0, tokens_at=now), True


def warn_again(state: UserState, now: float) -> bool:
    """Whether a flooding user is told to slow down again (not more often than every FLOOD_WARNING_EVERY s)."""
    return now - state.flood_warned_at >= FLOOD_WARNING_EVERY
