"""Per-user state: where the user is in the conversation, what they chose, and the bookkeeping around it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any

from handler.core.flood import BUCKET_SIZE
from handler.core.job import DEFAULT_SIZE, SIZES, Language, MixRatio, Quality, Strength
from handler.core.limits import JOB_STALE_SECONDS


class Step(StrEnum):
    IDLE = "idle"
    NST_CONTENT = "nst_content"  # own style: waiting for the photo to restyle
    NST_STYLE = "nst_style"  # own style: waiting for the style picture
    NST_OPTIONS = "nst_options"  # own style: options with Start / Cancel
    PRESET_PICK = "preset_pick"  # presets: the gallery is shown
    PRESET_PHOTO = "preset_photo"  # presets: waiting for the photo
    PRESET_OPTIONS = "preset_options"  # presets: strength with Start / Cancel
    PHOTO_CHOICE = "photo_choice"  # a photo came first: own style or a preset for it?
    PAINTING_PICK = "painting_pick"  # own style: the famous paintings are shown (a picture of one's own will do)
    MIX_RATIO = "mix_ratio"  # own style: a second style is chosen; how much of each?


AWAITING_IMAGE = {Step.NST_CONTENT, Step.NST_STYLE, Step.PRESET_PHOTO, Step.PAINTING_PICK}
# How many of the style pictures a user sent are offered again (their Telegram file ids, newest first).
RECENT_STYLES = 3


@dataclass(frozen=True)
class Flow:
    """What the user has chosen so far in the current flow. Telegram file ids only, never images."""

    content_file_id: str | None = None
    content_message_id: int | None = None  # the user's message of the photo: the result replies to it
    style_file_id: str | None = None
    painting: str | None = None  # a famous painting as the style picture, instead of style_file_id
    preset: str | None = None
    strength: Strength = Strength.HIGH
    keep_colors: bool = False
    quality: Quality = Quality.QUICK
    size: int | None = None  # None: the user's default size from settings
    # A second style to mix in: a picture the user sent or a painting, and the ratio. While `picking_mix`, the
    # style steps (NST_STYLE, PAINTING_PICK) choose this second style, not the first.
    mix_style_file_id: str | None = None
    mix_painting: str | None = None
    mix_ratio: MixRatio | None = None
    picking_mix: bool = False
    previewed: bool = False  # the preview strip of these styles was asked for (the button is not offered again)
    # An album holding content and style arrives as several updates: collected here by message id.
    album_id: str | None = None
    album: dict[str, str] = field(default_factory=dict)
    album_answer: int | None = None  # the message of the album's one answer, once it is sent


@dataclass(frozen=True)
class UserState:
    """Everything stored about one user. `version` is the one read; a save must find it unchanged."""

    user_id: int
    version: int = 0  # 0: nothing stored yet
    step: Step = Step.IDLE
    generation: int = 0  # of the newest inline keyboard; older keyboards are stale
    # The message that shows the conversation's current keyboard (its screen: menu, options, galleries...), so
    # that a newer screen sent as a new message takes its buttons off (None: none known). Not the buttons bound
    # to a job (a result's, a preview strip's, a progress message's Cancel): they stay.
    screen_message_id: int | None = None
    language: Language | None = None  # chosen in settings; None: from Telegram's language_code
    size: int = DEFAULT_SIZE
    as_file: bool = False
    flow: Flow = field(default_factory=Flow)
    active_job: str | None = None
    job_started_at: float | None = None
    recent_jobs: tuple[str, ...] = ()  # so that /forget can find every job item
    # The file ids of the last style pictures the user started a job with, newest first (never the pictures):
    # offered again as one-tap choices; they leave with /forget and expire with this item.
    recent_styles: tuple[str, ...] = ()
    # Token bucket against floods: tokens left and when they were counted.
    tokens: float = BUCKET_SIZE
    tokens_at: float = 0.0
    flood_warned_at: float = 0.0

    def job_is_running(self, now: float) -> bool:
        return self.active_job is not None and now - (self.job_started_at or 0) < JOB_STALE_SECONDS

    def to_body(self) -> str:
        data = asdict(self)
        del data["user_id"], data["version"]
        return json.dumps(data, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_body(cls, user_id: int, version: int, body: str) -> UserState:
        data: dict[str, Any] = json.loads(body)
        flow_data = data.pop("flow", {})
        flow_data["strength"] = Strength(flow_data.get("strength", Strength.HIGH))
        flow_data["quality"] = Quality(flow_data.get("quality", Quality.QUICK))
        flow_data["mix_ratio"] = MixRatio(flow_data["mix_ratio"]) if flow_data.get("mix_ratio") else None
        flow = Flow(**flow_data)
        data["step"] = Step(data.get("step", Step.IDLE))
        data["language"] = Language(data["language"]) if data.get("language") else None
        data["recent_jobs"] = tuple(data.get("recent_jobs", ()))
        data["recent_styles"] = tuple(data.get("recent_styles", ()))
        known = {f for f in cls.__dataclass_fields__ if f not in ("user_id", "version", "flow")}
        return cls(user_id=user_id, version=version, flow=flow, **{k: v for k, v in data.items() if k in known})

    def with_(self, **changes: Any) -> UserState:
        return replace(self, **changes)

    def valid(self) -> bool:
        """The invariants every stored state keeps (checked by the property-based tests)."""
        flow = self.flow
        checks = [
            self.size in SIZES,
            self.language in (None, *Language),
            flow.strength in tuple(Strength),
            flow.quality in tuple(Quality),
            flow.size in (None, *SIZES),
            self.step not in (Step.NST_STYLE, Step.NST_OPTIONS, Step.PHOTO_CHOICE, Step.PAINTING_PICK)
            or flow.content_file_id is not None,
            self.step != Step.NST_OPTIONS or (flow.style_file_id is None) != (flow.painting is None),
            self.step not in (Step.PRESET_PHOTO, Step.PRESET_OPTIONS) or flow.preset is not None,
            self.step != Step.PRESET_OPTIONS or flow.content_file_id is not None,
            (self.active_job is None) == (self.job_started_at is None),
            self.generation >= 0,
            len(flow.album) <= 2,
            len(self.recent_styles) <= RECENT_STYLES and len(set(self.recent_styles)) == len(self.recent_styles),
            self._mix_valid(),
        ]
        return all(checks)

    def _mix_valid(self) -> bool:
        flow = self.flow
        mixes = (flow.mix_style_file_id is not None) + (flow.mix_painting is not None)
        has_style = (flow.style_file_id is None) != (flow.painting is None)
        return all(
            [
                mixes <= 1,
                self.step != Step.NST_OPTIONS or (mixes == 1) == (flow.mix_ratio is not None),
                self.step != Step.MIX_RATIO or (mixes == 1 and has_style and flow.content_file_id is not None),
                not flow.picking_mix or (self.step in (Step.NST_STYLE, Step.PAINTING_PICK) and has_style),
            ]
        )
