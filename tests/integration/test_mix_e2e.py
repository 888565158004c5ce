"""Two styles mixed end to end: the webhook under the Lambda emulator, the fake Bot API, and the worker."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from handler.adapters.dynamodb import DynamoDBStore
from handler.core.job import JobStatus
from tests.driver import Person
from tests.pipeline import Pipeline, own_style_options, results, wait_finished

GRAVEL = (Path(__file__).parents[1] / "fixtures" / "images" / "gravel.png").read_bytes()

MakePerson = Callable[..., Person]

# Slow tier (`make test-all`): the feature's one whole flow under the emulator; the fast tier proves
# the mix's flow on the pure core (tests/unit/core/test_mix.py), the mix in both qualities (tests/unit/ml/test_mix.py),
# the second picture downloaded and both styles named on fakes (tests/unit/jobs/test_runner.py).
pytestmark = pytest.mark.slow


def test_a_picture_mixed_half_and_half_with_a_painting_delivers_one_photo_naming_both(
    pipeline: Pipeline, person: MakePerson, store: DynamoDBStore
) -> None:
    # Given a user on the options of their own style picture (256 px, quick)
    p = person()
    own_style_options(p)
    # When they mix in The Scream half and half
    p.tap(p.t("btn_mix"))
    assert p.last_text() == p.t("ask_mix_style")
    p.tap(p.t("btn_paintings"))
    p.tap("The Scream")
    assert p.last_text() == p.t("mix_ratio_ask", first="your style", second="The Scream")
    p.tap("50/50")
    assert p.last_text().startswith(p.t("mix_chosen", second="The Scream", ratio="50/50"))
    p.tap(p.t("btn_start"))
    p.last_job = store.load(p.user_id).active_job
    # Then one photo arrives, 256 px, its caption naming both styles and the ratio
    assert wait_finished(p, store) == JobStatus.DONE
    pipeline.service.wait_idle(timeout=60)  # the worker's invocation has returned
    (result,) = results(p)
    assert Image.open(io.BytesIO(result.files["photo"])).size == (256, 170)
    assert result.params.get("caption") == "Your style + The Scream (50/50)"
    summary = [c.text for c in p.calls() if c.method == "editMessageText"][-1] or ""
    assert ": your style + The Scream (50/50), quick, 256 px" in summary
