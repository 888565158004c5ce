"""The preview strip end to end: the webhook under the Lambda emulator, the fake Bot API, and the worker. (Its
latency is measured by `python -m ml.bench preview`, not here.)"""

from __future__ import annotations

import io
import time
from collections.abc import Callable

import pytest
from PIL import Image

from handler.adapters.dynamodb import DynamoDBStore
from handler.core.job import JobStatus
from infra.local.fake_bot_api import FakeBotApi
from tests.driver import Person
from tests.pipeline import Pipeline, own_style_options, results, wait_finished

MakePerson = Callable[..., Person]

# Slow tier (`make test-all`): the feature's one whole flow under the emulator; the fast tier proves
# the strip's buttons and strengths on the pure core (tests/unit/core/test_preview_strip.py), its
# panels (tests/unit/ml/test_preview_strip.py), the preview job on fakes (tests/unit/jobs/test_runner.py).
pytestmark = pytest.mark.slow


def test_preview_then_a_strength_tapped_under_it_then_the_full_job(
    pipeline: Pipeline, person: MakePerson, store: DynamoDBStore, telegram: FakeBotApi
) -> None:
    # Given a user on the quick options of their own style
    p = person("ru")
    own_style_options(p)
    # When they tap Preview
    tapped = time.monotonic()
    p.tap(p.t("btn_preview"))
    assert [c.params.get("text") for c in p.answers()][-1] == p.t("preview_coming")
    # Then one small picture arrives: three strengths side by side, at most 768 px wide, a button a strength
    telegram.wait_for(lambda calls: bool(results(p)), timeout=120)
    (strip,) = results(p)
    print(f"the strip arrived {strip.at - tapped:.2f} s after the tap")
    image = Image.open(io.BytesIO(strip.files["photo"]))
    assert image.width <= 768 and image.width > image.height
    assert strip.params.get("caption") == p.t("preview_caption")
    buttons = [b["text"] for row in (strip.reply_markup or {})["inline_keyboard"] for b in row]
    assert buttons == [p.t("strength_low"), p.t("strength_mid"), p.t("strength_high")]
    pipeline.service.wait_idle(timeout=60)
    # And the user stayed free: no job of theirs runs
    assert store.load(p.user_id).active_job is None
    # When they tap the lowest strength under it
    p.tap(p.t("strength_low"), message=strip)
    # Then the options come back at that strength, and Start runs the full job as usual
    assert p.t("strength_low") in p.last_text()
    p.tap(p.t("btn_start"))
    p.last_job = store.load(p.user_id).active_job
    assert wait_finished(p, store) == JobStatus.DONE
    pipeline.service.wait_idle(timeout=60)
    # And the summary line of that job names the strength tapped
    summary = [c for c in p.calls() if c.method == "editMessageText"][-1]
    assert p.t("strength_low") in (summary.text or "") and results(p)
