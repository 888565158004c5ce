"""The famous paintings end to end: the webhook under the Lambda emulator shows the gallery through the fake Bot
API, and the worker delivers the photo in the style of the painting chosen."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import pytest
from PIL import Image

from handler.adapters.dynamodb import DynamoDBStore
from handler.core.job import JobStatus
from ml import paintings
from tests.driver import Person
from tests.pipeline import CAT, Pipeline, results, wait_finished

MakePerson = Callable[..., Person]

# Slow tier (`make test-all`): the feature's one whole flow under the emulator; the fast tier proves
# the gallery and its choices on the pure core (tests/unit/core/test_paintings.py), a painting job in both
# qualities (tests/unit/ml/test_paintings.py), the job on fakes (tests/unit/jobs/test_runner.py).
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_starry_night_at_quick_quality_delivers_a_stylised_photo(
    pipeline: Pipeline, person: MakePerson, store: DynamoDBStore, language: str
) -> None:
    # Given a user who chose their own style and sent the photo
    p = person(language)
    p.send("/start")
    p.tap(p.t("btn_nst"))
    p.send_photo(CAT)
    assert p.last_text() == p.t("ask_style")
    # When they tap the famous paintings under the question
    p.tap(p.t("btn_paintings"))
    # Then one album of the six previews arrives, each captioned with title, artist and year in their language
    (album,) = [c for c in p.calls() if c.method == "sendMediaGroup"]
    items = album.params["media"]
    items = json.loads(items) if isinstance(items, str) else items
    starry = paintings.get_painting("starry_night")
    assert len(items) == len(paintings.PAINTINGS) == 6
    assert (
        items[0]["caption"]
        == {
            "en": "The Starry Night — Vincent van Gogh, 1889",
            "ru": "«Звёздная ночь» — Винсент Ван Гог, 1889",
        }[language]
    )
    # And under it one button a painting
    assert p.last_text() == p.t("paintings_gallery")
    assert [b["text"] for b in p.buttons()] == [x.short_title(language) for x in paintings.PAINTINGS]
    # When they pick The Starry Night, take the smallest size and Start at quick quality
    p.tap(starry.short_title(language))
    assert p.last_text().startswith(p.t("painting_chosen", painting=items[0]["caption"]))
    p.tap("📐")  # 512 -> 1024
    p.tap("📐")  # 1024 -> 256
    p.tap(p.t("btn_start"))
    job_id = p.last_job = store.load(p.user_id).active_job
    assert job_id is not None
    # Then the job carries the painting's id, not a picture, and the result arrives: 256 px, the photo's aspect
    job = store.load_job(p.user_id, job_id)
    assert job is not None and (job.painting, job.style_file_id, job.quality) == ("starry_night", None, "quick")
    assert wait_finished(p, store) == JobStatus.DONE
    pipeline.service.wait_idle(timeout=60)  # the worker's invocation has returned
    (result,) = results(p)
    image = Image.open(io.BytesIO(result.files["photo"]))
    assert image.format == "JPEG" and image.size == (256, 170)
    # And its caption names the painting in the user's language; the summary line above it says the rest
    assert result.params.get("caption") == {"en": "The Starry Night", "ru": "«Звёздная ночь»"}[language]
    summary = {"en": "The Starry Night, quick, 256 px", "ru": "«Звёздная ночь», быстрое качество, 256 пикс."}
    assert summary[language] in ([c.text for c in p.calls() if c.method == "editMessageText"][-1] or "")
