"""Ports: what the core needs from the outside world. Adapters live in `handler.adapters`."""

from __future__ import annotations

from typing import Protocol

from handler.core.state import JobSpec, UserState


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


class StateStore(UpdateLedger, Protocol):
    """Per-user state with optimistic concurrency, job items, and erasure."""

    def load(self, user_id: int) -> UserState:
        """The user's state (a fresh one, version 0, if nothing is stored)."""
        ...

    def save(self, state: UserState) -> UserState | None:
        """Write `state` if the stored version is still `state.version`; the saved state, or None on conflict."""
        ...

    def put_job(self, job: JobSpec, status: str) -> None:
        """Store a job item (ids and options only) with its status."""
        ...

    def job_status(self, user_id: int, job_id: str) -> str | None: ...

    def set_job_status(self, user_id: int, job_id: str, status: str, *, only_from: tuple[str, ...]) -> bool:
        """Move a job to `status` if it is in one of `only_from`; False if it was not."""
        ...

    def forget(self, user_id: int) -> int:
        """Delete every item stored for the user; returns how many were deleted."""
        ...


class JobDispatcher(Protocol):
    """Hands a job to whatever runs it (an async Lambda invocation, or a local pool)."""

    def dispatch(self, job: JobSpec) -> None: ...
