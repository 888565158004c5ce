"""Wiring of the worker's failure destination: DynamoDB and the Bot API messenger, no models."""

from __future__ import annotations

from functools import cache

from handler.jobs.runner import JobRunner, NoEngine
from handler.settings import FailureSettings, load_settings
from handler.wiring.parts import dynamodb_store, job_runner


@cache
def settings() -> FailureSettings:
    """The failure destination's settings, checked once (at import of the entry point)."""
    return load_settings(FailureSettings, "FailureFunction")


@cache
def runner() -> JobRunner:
    """The job runner that fails lost jobs (it never runs one, so it never imports torch)."""
    config = settings()
    return job_runner(config, dynamodb_store(config, config.state_table), NoEngine())
