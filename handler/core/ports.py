"""Ports: what the core needs from the outside world. Adapters live in `handler.adapters`."""

from __future__ import annotations

from typing import Protocol


class StoreUnavailable(Exception):
    """The state store could not be reached; the caller should let the update be redelivered."""


class UpdateLedger(Protocol):
    """Remembers which Telegram updates were taken, so that a redelivered update is processed once."""

    def claim_update(self, update_id: int) -> bool:
        """Record the update as taken. True for the first claim, False if it was claimed before."""
        ...

    def release_update(self, update_id: int) -> None:
        """Forget a claim whose processing failed, so that Telegram's redelivery is processed."""
        ...
