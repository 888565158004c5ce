"""Progress reports and cancel checks shared by the long-running models."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image

from ml.errors import JobCancelled


@dataclass(frozen=True)
class Progress:
    """How far a job is: ``fraction`` in [0, 1] (never decreasing), seconds left, an optional preview."""

    fraction: float
    eta_seconds: float | None
    preview: Image.Image | None = None


ProgressCallback = Callable[[Progress], None]
CancelCheck = Callable[[], bool]


class Tracker:
    """Turns units of work into monotonic :class:`Progress` reports with an ETA; checks for cancel."""

    def __init__(
        self,
        total_units: float,
        progress: ProgressCallback | None = None,
        should_cancel: CancelCheck | None = None,
    ) -> None:
        self.total = max(float(total_units), 1e-9)
        self.done = 0.0
        self.progress = progress
        self.should_cancel = should_cancel
        self.start = time.perf_counter()
        self._last_fraction = 0.0

    def check_cancel(self) -> None:
        """Raise :class:`JobCancelled` if the caller asked to stop."""
        if self.should_cancel is not None and self.should_cancel():
            raise JobCancelled("the job was cancelled")

    def advance(self, units: float, preview: Image.Image | None = None) -> None:
        self.done = min(self.total, self.done + units)
        self.report(preview)

    def report(self, preview: Image.Image | None = None, *, finished: bool = False) -> None:
        if self.progress is None:
            return
        fraction = 1.0 if finished else min(1.0, self.done / self.total)
        fraction = max(fraction, self._last_fraction)
        self._last_fraction = fraction
        elapsed = time.perf_counter() - self.start
        eta = 0.0 if fraction >= 1.0 else (elapsed * (1.0 - fraction) / fraction if fraction > 0 else None)
        self.progress(Progress(fraction=fraction, eta_seconds=eta, preview=preview))
