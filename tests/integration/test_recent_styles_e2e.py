"""Recent styles end to end: the webhook under the Lambda emulator, the fake Bot API and DynamoDB."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from handler.adapters.dynamodb import DynamoDBStore
from infra.local.lambda_service import LocalLambdaService
from tests.driver import Person

FIXTURES = Path(__file__).parents[1] / "fixtures" / "images"
BRICK = (FIXTURES / "brick.png").read_bytes()
GRAVEL = (FIXTURES / "gravel.png").read_bytes()
CAT = (FIXTURES / "chelsea.png").read_bytes()

MakePerson = Callable[..., Person]


def ask_for_the_style(p: Person) -> None:
    p.send("/start")
    p.tap(p.t("btn_nst"))
    p.send_photo(CAT)


def test_after_two_jobs_both_styles_are_offered_and_after_forget_none(
    person: MakePerson, store: DynamoDBStore, lambdas: LocalLambdaService
) -> None:
    # Given a user who started two jobs with two different style pictures (cancelled: they only need to start)
    p = person("ru")
    sent = []
    for style in (BRICK, GRAVEL):
        ask_for_the_style(p)
        p.send_document(style, "image/png", file_name="style.png")
        sent.append(store.load(p.user_id).flow.style_file_id)
        p.tap(p.t("btn_start"))
        p.send("/cancel")
    # When they send a photo for a third
    ask_for_the_style(p)
    # Then both are offered as one-tap choices, the newest first, beside the famous paintings
    assert p.last_text() == p.t("ask_style_recent")
    labels = [b["text"] for b in p.buttons()]
    assert labels == [p.t("btn_recent_style", n=1), p.t("btn_recent_style", n=2), p.t("btn_paintings")]
    # And only their file ids are stored, never the pictures
    assert store.load(p.user_id).recent_styles == (sent[1], sent[0])
    # When they take the older one and start
    p.tap(p.t("btn_recent_style", n=2))
    p.tap(p.t("btn_start"))
    # Then the job restyles the photo with that style picture
    assert lambdas.invocations_of("WorkerFunction")[-1].payload["style_file_id"] == sent[0]
    # When they erase everything with /forget
    p.send("/forget")
    ask_for_the_style(p)
    # Then no recent style is offered any more
    assert p.last_text() == p.t("ask_style")
    assert [b["text"] for b in p.buttons()] == [p.t("btn_paintings")]
    assert store.load(p.user_id).recent_styles == ()
