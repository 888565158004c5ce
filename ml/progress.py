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


def remaining_seconds(fraction: float, elapsed: float, prior_seconds: float | None = None) -> float | None:
    """Seconds left of work that is ``fraction`` done after ``elapsed`` seconds and was expected to take
    ``prior_seconds`` in all (:mod:`ml.priors`; None: no expectation).

    The measured rate alone is wild early on: the first steps of a best-quality job run on the pyramid's smallest
    level, several times dearer per pixel than the last, after the warm start; a 20 s job once showed "about
    466 s left" after its first step. So the prior's figure for the work left and the one the measured rate gives
    are blended, the measured one weighted by the fraction done: the prior leads at first, the measurement at
    the end. None: nothing measured and no prior.
    """
    if fraction >= 1.0:
        return 0.0
    measured = elapsed * (1.0 - fraction) / fraction if fraction > 0 else None
    if prior_seconds is None:
        return measured
    expected = prior_seconds * (1.0 - fraction)
    if measured is None:
        return expected
    return fraction * measured + (1.0 - fraction) * expected


class Tracker:
    """Turns units of work into monotonic :class:`Progress` reports with an ETA (blended with
    ``prior_seconds``, the time the whole tracked work was expected to take; see :func:`remaining_seconds`);
    checks for cancel. ``clock`` measures the elapsed time."""

    def __init__(
        self,
        total_units: float,
        progress: ProgressCallback | None = None,
        should_cancel: CancelCheck | None = None,
        *,
        prior_seconds: float | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.total = max(float(total_units), 1e-9)
        self.done = 0.0
        self.progress = progress
        self.should_cancel = should_cancel
        self.prior_seconds = prior_seconds
        self._clock = clock
        self.start = clock()
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
        eta = remaining_seconds(fraction, self._clock() - self.start, self.prior_seconds)
        self.progress(Progress(fraction=fraction, eta_seconds=eta, preview=preview))
