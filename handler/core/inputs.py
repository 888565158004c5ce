"""What reaches the conversation (inputs, and the situation around them) and what it decides (outcomes).

The bot turns a Telegram update into an `Input`; `decide` answers it with an `Outcome`. Plain data, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from handler.core.job import Job, JobStatus, Language, Quality
from handler.core.keyboards import Keyboard
from handler.core.quotas import Allowance, QuotaKind, Refusal
from handler.core.state import UserState
from handler.core.texts import text

# --- inputs ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    name: str


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Picture:
    """A picture the user sent (compressed photo or image document), already checked by the bot."""

    file_id: str
    message_id: int
    album_id: str | None = None


@dataclass(frozen=True)
class Rejected:
    """Something that cannot be used as a picture; `reason` names the reply (`bad_<reason>`)."""

    reason: str
    values: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Tap:
    """A press of an inline button: callback data `<prefix>:<generation>:<arg>`."""

    prefix: str
    generation: int
    arg: str


@dataclass(frozen=True)
class ForgedTap:
    """Callback data we never produced (unknown shape, huge numbers...)."""


@dataclass(frozen=True)
class NotQueued:
    """The job the user started could not be handed to the worker: the dispatcher refused it, or (`quota`) a
    concurrent Start took the user's last job of that kind today."""

    job: Job
    quota: QuotaKind | None = None


@dataclass(frozen=True)
class AlbumAnswered:
    """The one answer to the album `album_id` went out as the message `message_id`, showing the state of
    `generation`: remembered, so that the album's later pictures edit it."""

    album_id: str
    message_id: int
    generation: int


@dataclass(frozen=True)
class AlbumDue:
    """The short wait after the album `album_id` reached two pictures is over (`ALBUM_SETTLE_SECONDS`, the bot's
    own note, `Outcome.album_due`): if the album still has two pictures and nothing moved on since (`generation`),
    its message shows the options."""

    album_id: str
    generation: int


@dataclass(frozen=True)
class ScreenSent:
    """A reply carrying the conversation's keyboard (a screen) went out as the new message `message_id`, stamped
    with `generation`: remembered as the screen, so that the next screen sent as a new message takes its buttons
    off (`Outcome.retire_keyboard`)."""

    message_id: int
    generation: int


Input = Command | Text | Picture | Rejected | Tap | ForgedTap | NotQueued | AlbumAnswered | AlbumDue | ScreenSent


class Unfollowed(StrEnum):
    """A message outside the conversation: answered with one fixed note (`decide.unfollowed`), no state."""

    GROUP = "group"  # in a group chat: the bot works in private chats
    EDITED = "edited"  # an edit of an earlier message: not followed


# --- the situation around an input ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PresetInfo:
    id: str
    names: Mapping[str, str]

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names.get(Language.EN) or self.id


@dataclass(frozen=True)
class PaintingInfo:
    """A famous painting the user can take as the style picture: its title, artist and year by language."""

    id: str
    titles: Mapping[str, str]
    short_titles: Mapping[str, str]  # for a button
    artists: Mapping[str, str]
    years: Mapping[str, str]

    def title(self, language: str) -> str:
        return _localised(self.titles, language, self.id)

    def short_title(self, language: str) -> str:
        return _localised(self.short_titles, language, self.title(language))

    def caption(self, language: str) -> str:
        """ "The Starry Night — Vincent van Gogh, 1889", in `language`."""
        artist, year = _localised(self.artists, language, ""), _localised(self.years, language, "")
        return text("painting_caption", language, title=self.title(language), artist=artist, year=year)


def _localised(values: Mapping[str, str], language: str, fallback: str) -> str:
    return values.get(language) or values.get(Language.EN) or fallback


@dataclass(frozen=True)
class Catalogue:
    """What this deployment can run (weights present and verified), and what it cannot."""

    presets: Sequence[PresetInfo] = ()
    qualities: tuple[Quality, ...] = tuple(Quality)
    missing_presets: Sequence[PresetInfo] = ()
    fetch_command: str = ""  # the one command that makes the missing ones available
    paintings: Sequence[PaintingInfo] = ()  # the famous paintings (they ship with the code)

    def painting(self, painting_id: str | None) -> PaintingInfo | None:
        return next((p for p in self.paintings if p.id == painting_id), None)

    @property
    def complete(self) -> bool:
        return not self.missing_presets and set(self.qualities) == set(Quality)


@dataclass(frozen=True)
class Situation:
    """What `decide` knows besides the state and the input: the time, the chat, the offer, the job's status."""

    now: float
    chat_id: int
    first_name: str = ""
    telegram_language: str | None = None
    catalogue: Catalogue = Catalogue()
    new_job_id: str = ""
    job_status: JobStatus | None = None  # of the state's active job, if it has one
    tapped_message_id: int | None = None
    tapped_job: Job | None = None  # the job a tapped result button names, if it is still stored
    allowance: Allowance = field(default_factory=Allowance)  # what today's quotas and budget leave the user


# --- outcomes -------------------------------------------------------------------------------------------------


class AlbumReply(StrEnum):
    """How a reply to a picture of an album reaches the user: as the album's one message."""

    FIRST = "first"  # sent as the album's message, which is then remembered (`AlbumAnswered`)
    UPDATE = "update"  # the album's message is edited to show it


@dataclass(frozen=True)
class Reply:
    text: str
    keyboard: Keyboard | None = None
    edit: bool = False  # replace the tapped message instead of sending a new one
    album: AlbumReply | None = None  # the answer to an album's picture (its one message)


@dataclass(frozen=True)
class Outcome:
    state: UserState
    reply: Reply | None = None  # a message update always gets one; a tap may edit its message
    toast: str | None = None  # the callback answer's text
    remove_tapped_keyboard: bool = False
    job: Job | None = None
    cancel_job: str | None = None
    forget: bool = False
    show_previews: bool = False  # the preset previews go before the reply (the gallery)
    show_paintings: bool = False  # the paintings' previews go before the reply (their gallery)
    write: bool = True  # False: nothing to store (a silently dropped flood message)
    refused: Refusal | None = None  # a Start the quotas or the budget refused (counted by the caller)
    album_due: AlbumDue | None = None  # to come back with after ALBUM_SETTLE_SECONDS (through the `Timer` port)
    # The message of the previous screen, whose buttons go: the reply is a newer screen (`UserState.screen_message_id`).
    retire_keyboard: int | None = None
