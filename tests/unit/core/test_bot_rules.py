"""Rules the bot's callbacks only carry out: which quota a handed-over job takes, who /stats answers, and the
note for a message outside the conversation (a group chat, an edit)."""

from __future__ import annotations

import pytest

from handler.core.decide import unfollowed
from handler.core.inputs import Unfollowed
from handler.core.job import Job, Kind, Language, Quality, Strength
from handler.core.quotas import Limits, QuotaKind, counted_quota
from handler.core.stats import shows_stats
from handler.core.texts import text


def job(kind: Kind = Kind.NST, quality: Quality = Quality.QUICK, *, preview: bool = False) -> Job:
    return Job(
        job_id="j" * 16,
        user_id=7,
        chat_id=7,
        kind=kind,
        content_file_id="PHOTO",
        style_file_id="STYLE" if kind == Kind.NST else None,
        preset="monet" if kind == Kind.PRESET else None,
        preview=preview,
        quality=quality,
        size=512,
        strength=Strength.MID,
        keep_colors=False,
        as_file=False,
        language=Language.EN,
    )


@pytest.mark.parametrize(
    ("kind", "quality", "quota"),
    [
        (Kind.NST, Quality.QUICK, QuotaKind.QUICK),
        (Kind.NST, Quality.BEST, QuotaKind.BEST),
        (Kind.PRESET, Quality.QUICK, QuotaKind.PRESET),
    ],
)
def test_a_job_handed_over_takes_the_quota_of_its_kind(kind: Kind, quality: Quality, quota: QuotaKind) -> None:
    # Given a job the user started
    started = job(kind, quality)
    # When it is handed over
    taken = counted_quota(started)
    # Then it counts against the quota of its kind and quality
    assert taken == quota


def test_a_preview_takes_no_quota() -> None:
    # Given a preview strip (quick own style, the photo at each strength)
    preview = job(Kind.NST, Quality.QUICK, preview=True)
    # When it is handed over
    taken = counted_quota(preview)
    # Then no quota is taken
    assert taken is None


def test_stats_answer_administrators_only() -> None:
    # Given an operator who named user 42 an administrator
    limits = Limits(admins=frozenset({42}))
    # When user 42 and user 7 ask for /stats
    # Then only the administrator is answered
    assert shows_stats(42, limits)
    assert not shows_stats(7, limits)
    # And with no administrator named, nobody is
    assert not shows_stats(42, Limits())


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize(("event", "key"), [(Unfollowed.GROUP, "group_chat"), (Unfollowed.EDITED, "edited")])
def test_a_message_outside_the_conversation_gets_one_note_in_the_users_language(
    event: Unfollowed, key: str, language: Language
) -> None:
    # Given a message in a group chat, or an edit of an earlier message
    # When the bot answers it
    reply = unfollowed(event, language)
    # Then it sends one plain note that says why, in the user's language
    assert reply.text == text(key, language)
    assert reply.keyboard is None and not reply.edit and reply.album is None
