"""Freeing a user from a job that ended (done, failed, not dispatched): the one way it is written."""

from __future__ import annotations

from handler.core.ports import StateStore

FREE_ATTEMPTS = 8


def free_user(store: StateStore, user_id: int, job_id: str) -> int | None:
    """Clear the user's active job if it is `job_id`, and bump the generation (the keyboards shown while the job
    ran, its Cancel among them, go stale). Re-reads on a concurrent change.

    Returns the new generation, or None if the user's state is gone (/forget): nothing is written then.
    """
    for _ in range(FREE_ATTEMPTS):
        state = store.load(user_id)
        if state.version == 0:
            return None
        if state.active_job != job_id:
            new = state.with_(generation=state.generation + 1)
        else:
            new = state.with_(active_job=None, job_started_at=None, generation=state.generation + 1)
        saved = store.save(new)
        if saved is not None:
            return saved.generation
    return None
