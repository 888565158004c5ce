"""Honest time: the time left a job's progress message shows, from its first number on.

Real jobs run too long for a unit test and their timings depend on the machine's load, so the engine's progress
logic (the `Tracker` that run_nst and the presets report through, on the units run_nst counts) and the worker's
progress message run here on a fake clock, fed the step timings of a real job: ml/README.md's figures for best
quality at 512 px on a 2-core AVX2 CPU (the machine `ml.priors` describes), the issue's 20 s job, and the same
jobs on a machine 1.4x slower or faster than the priors say.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass

import numpy as np
import pytest
from PIL import Image

from handler.adapters.ml_engine import MLEngine
from handler.core.job import Job, Kind, Language, Quality, Strength
from handler.core.pace import pace_key
from handler.jobs.progress import ProgressMessage
from ml import api, priors
from ml.nst import NSTConfig, level_sizes
from ml.progress import Progress, Tracker
from tests.fakes import FakeMessenger, ManualClock, MemoryStore, MemoryUsage

# What the worker spends after the job's first report before the model runs (importing torch, reading the
# weights), and after the model before the result is in the chat (colours, encoding, upload).
LOADING_SECONDS = 2.3
DELIVERY_SECONDS = 1.0


@dataclass(frozen=True)
class Timing:
    """Seconds a best-quality evaluation takes at `pixels`: a fixed part and a part per pixel (fitted to
    ml/README.md: 0.27 s at 181x121, 1.5 s at 512x341 on the fp32 path)."""

    fixed: float
    per_pixel: float

    def evaluation(self, pixels: int) -> float:
        return self.fixed + self.per_pixel * pixels


FP32 = Timing(fixed=0.094, per_pixel=8.05e-6)
# The coarse levels cost more than the pixels say (NNPACK only pays for large maps): the README's 52 s before the
# last level at 512 px, of which 5.4 s the first level, 0.6 s the warm start.
COARSE_FACTOR_FP32 = 1.35
BF16 = Timing(fixed=0.06, per_pixel=3.5e-6)


@dataclass(frozen=True)
class Scenario:
    name: str
    size: int
    path: priors.ComputePath
    timing: Timing
    coarse_factor: float = 1.0
    slowness: float = 1.0  # this machine against the one the priors were measured on
    warm_start: float = 0.6


SCENARIOS = [
    Scenario("best 512 px, fp32+nnpack, the priors' machine", 512, "fp32+nnpack", FP32, COARSE_FACTOR_FP32),
    Scenario("best 512 px, fp32+nnpack, 1.4x slower", 512, "fp32+nnpack", FP32, COARSE_FACTOR_FP32, slowness=1.4),
    Scenario("best 512 px, fp32+nnpack, 1.4x faster", 512, "fp32+nnpack", FP32, COARSE_FACTOR_FP32, slowness=1 / 1.4),
    Scenario("the issue's 20 s job: best 256 px, bf16", 256, "bf16", BF16, warm_start=0.3),
]


def best_job(size: int) -> Job:
    return Job(
        job_id="job0000000000001",
        user_id=1,
        chat_id=1,
        kind=Kind.NST,
        content_file_id="PHOTO",
        style_file_id="STYLE",
        quality=Quality.BEST,
        size=size,
        strength=Strength.HIGH,
        keep_colors=False,
        as_file=False,
        language=Language.EN,
        progress_message_id=77,
    )


def run(scenario: Scenario) -> tuple[list[tuple[float, str]], float]:
    """Run the scenario's job on a fake clock: what the progress message showed (time, text), and when the result
    was in the chat."""
    clock = ManualClock(0.0)
    messenger = FakeMessenger()
    message = ProgressMessage(messenger, MemoryStore(clock), best_job(scenario.size), 77, clock=clock)
    shown: list[tuple[float, str]] = []

    def report(progress: Progress) -> None:
        before = len(messenger.sent)
        message.report(progress.fraction, progress.eta_seconds)
        shown.extend((clock(), s.text) for s in messenger.sent[before:])

    def spend(seconds: float) -> None:
        clock.sleep(seconds * scenario.slowness)

    # A 3:2 photo, on the pyramid run_nst builds
    height, width = round(scenario.size / 1.5), scenario.size
    config = NSTConfig()
    sizes = level_sizes(height, width, len(config.evals), config.min_level_side, config.level_scale)
    evals = config.evals[len(config.evals) - len(sizes) :]
    prior = priors.expected_seconds("best", scenario.size, path=scenario.path)
    # ml.api: the first report, before torch is imported, with the prior (and the import) as the time left
    report(Progress(0.0, prior + priors.ENGINE_LOAD_SECONDS))
    spend(LOADING_SECONDS)
    # ml.nst.run_nst: one unit per pixel of every evaluation; the tracker blends the prior with the measured rate
    tracker = Tracker(sum(n * h * w for n, (h, w) in zip(evals, sizes, strict=True)), report, prior_seconds=prior,
                      clock=clock)  # fmt: skip
    spend(scenario.warm_start)
    for level, (n, (h, w)) in enumerate(zip(evals, sizes, strict=True)):
        cost = scenario.timing.evaluation(h * w) * (scenario.coarse_factor if level < len(sizes) - 1 else 1.0)
        spend(cost / 2)  # the level's targets: a forward pass of the content and of the style
        for _ in range(n):
            spend(cost)
            tracker.advance(h * w)
        tracker.report()
    spend(DELIVERY_SECONDS)
    return shown, clock()


def seconds_shown(line: str) -> float | None:
    found = re.search(r"about (\d+) (s|min) left", line)
    if found is None:
        return None
    return float(found[1]) * (60 if found[2] == "min" else 1)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_the_time_left_is_within_half_of_the_truth_from_the_first_number_on(scenario: Scenario) -> None:
    # Given a best-quality job with the step timings of a real one
    # When it runs, its progress message edited as the worker edits it
    shown, finished = run(scenario)
    estimates = [(at, seconds) for at, line in shown if (seconds := seconds_shown(line)) is not None]
    assert len(estimates) > 5, shown
    for at, seconds in estimates:
        print(f"{scenario.name}: at {at:5.1f} s shown {seconds:4.0f} s left, truly {finished - at:5.1f}")
    # Then the first number shown is within ±50 % of the time truly left
    at, seconds = estimates[0]
    truth = finished - at
    assert 0.5 * truth <= seconds <= 1.5 * truth, (at, seconds, truth)
    # And no later one jumps away from the truth: each is within ±50 % of it (or 5 s, near the end); on a
    # machine faster than the priors say, at most twice it
    high = 1.5 if scenario.slowness >= 1.0 else 2.0
    for at, seconds in estimates[1:]:
        truth = finished - at
        assert 0.5 * truth - 5.0 <= seconds <= high * truth + 5.0, (at, seconds, truth)


def test_the_figures_of_the_scenarios_agree_with_the_priors() -> None:
    # The scenario of the priors' machine takes what the prior says, within 10 %, so that the test measures the
    # estimate, not a made-up job
    _, finished = run(SCENARIOS[0])
    model = finished - LOADING_SECONDS - DELIVERY_SECONDS
    assert math.isclose(model, priors.expected_seconds("best", 512, path="fp32+nnpack"), rel_tol=0.1)
    # And the job took about 20 s
    _, finished = run(SCENARIOS[-1])
    assert 17 <= finished <= 23


def _picture(width: int, height: int, seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def test_the_first_time_left_learns_from_the_recent_jobs_on_this_machine() -> None:
    """Where the machine is not the priors' (a Lambda worker with more cores, a loaded host), the first number
    follows the last jobs of that kind, size and path: the prior times the median of their paces."""
    api.preload()  # a warm worker: the time a job takes is the model's
    photo, style = _picture(96, 64, 1), _picture(64, 64, 2)
    expected = api.expected_seconds(Image.open(io.BytesIO(photo)), quality="quick", size=256)
    key = pace_key("quick", 256, priors.current_path())
    # Given the last jobs of that key took three times what the prior says (one odd one aside)
    usage = MemoryUsage()
    for at, pace in enumerate([3.0, 3.0, 0.2, 3.0]):
        usage.add_pace(key, pace, float(at))
    # And this job's model work takes twice the prior's time (a fake clock: start, end)
    clock = iter([100.0, 100.0 + 2.0 * expected]).__next__
    reports: list[tuple[float, float | None]] = []
    job = Job(
        job_id="pace000000000001", user_id=1, chat_id=1, kind=Kind.NST, content_file_id="P", style_file_id="S",
        quality=Quality.QUICK, size=256, strength=Strength.HIGH, keep_colors=False, as_file=False,
        language=Language.EN,
    )  # fmt: skip
    # When the worker runs it
    MLEngine(paces=usage, clock=clock, wall=lambda: 10.0).run(
        job, photo, style, lambda fraction, eta, preview=None: reports.append((fraction, eta)), lambda: False
    )
    # Then its first time left is the prior times 3, not the prior
    assert reports[0] == (0.0, pytest.approx(3.0 * expected))
    # And its own pace is learned for the next job: the newest of that key
    assert usage.recent_paces(key)[0] == pytest.approx(2.0)
    # While a job of another size still starts from the prior alone
    assert usage.recent_paces(pace_key("quick", 512, priors.current_path())) == []
