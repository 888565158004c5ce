"""Errors raised by the ML package.

Each carries a message that can be shown to a person as is (``BadImage``) or that tells an operator what to
do next (``WeightsError``).
"""

from __future__ import annotations


class StylebotMLError(Exception):
    """Base class of every error this package raises on purpose."""


class BadImage(StylebotMLError):
    """The bytes are not an image we can work with; ``reason`` is short and user-presentable."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WeightsError(StylebotMLError):
    """A weights file is missing, has the wrong hash, or is not in the manifest."""


class JobCancelled(StylebotMLError):
    """The caller's cancel check asked the job to stop."""
