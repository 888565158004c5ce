"""The whole conversation as a readable transcript: every flow, in English and in Russian, end to end (the webhook
and the worker under the Lambda emulator, DynamoDB, the fake Bot API, seeded test weights), written down as the
person sees it (tests/transcript.py) and compared with docs/conversation.<language>.md.

The test fails with a unified diff when the bot shows something else; `make transcripts` (this module with
`--update-transcripts`) rewrites both files from a run.
"""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from handler.adapters.dynamodb import DynamoDBStore
from handler.adapters.dynamodb_usage import DynamoDBUsage
from handler.core.job import FINISHED
from handler.core.quotas import DEFAULT_BEST_PER_DAY, QuotaKind, day_key
from handler.core.texts import text
from infra.local.dynamodb import create_tables
from infra.local.fake_bot_api import FakeBotApi
from infra.local.lambda_service import LocalLambdaService
from ml import paintings, registry
from tests.driver import Person
from tests.pipeline import Pipeline, running_pipeline
from tests.transcript import Chat, Transcript, is_progress

IMAGES = Path(__file__).parents[1] / "fixtures" / "images"
PHOTO = (IMAGES / "chelsea.png").read_bytes()  # 451 x 300, the photo to restyle
STYLE = (IMAGES / "the_great_wave.jpg").read_bytes()  # 928 x 514, a style picture sent as a photo
TEXTURE = (IMAGES / "brick.png").read_bytes()  # 512 x 512, a style picture sent as a file
NOT_AN_IMAGE = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

# Slow tier (`make test-all`): every flow in both languages under the emulator; the flows' decisions and texts
# are checked on the pure core (tests/unit/core/), one whole flow per feature in the other integration tests.
pytestmark = pytest.mark.slow


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


# A smaller photo for the presets, which work at the photo's own size: the job stays quick on a loaded machine.
SMALL_PHOTO = png(Image.open(io.BytesIO(PHOTO)).convert("RGB").resize((240, 160), Image.Resampling.LANCZOS))


# A picture too small to restyle (the engine needs 16 px a side), sent as a file.
TINY = png(Image.new("RGB", (8, 8), (90, 140, 200)))


# --- this module's own tables: what the other modules' jobs leave in theirs (the day's budget, the queue, measured
# durations) cannot change what this conversation shows ------------------------------------------------------------


@pytest.fixture(scope="module")
def own_tables(aws_clients: dict[str, Any]) -> Iterator[dict[str, str]]:
    client = aws_clients["dynamodb"]
    made = create_tables(client, prefix=f"tr{uuid.uuid4().hex[:8]}-")
    yield made
    for table in made.values():
        client.delete_table(TableName=table)


@pytest.fixture(scope="module")
def function_env(function_env: dict[str, str], own_tables: dict[str, str]) -> dict[str, str]:
    """The functions' environment on this module's tables (the webhook fixture takes it from here)."""
    return {**function_env, "STATE_TABLE": own_tables["StateTable"]}


@pytest.fixture(scope="module")
def pipeline(
    lambda_service: LocalLambdaService,
    function_env: dict[str, str],
    own_tables: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Pipeline]:
    with running_pipeline(
        lambda_service, function_env, own_tables["IdempotencyTable"], tmp_path_factory.mktemp("weights")
    ) as running:
        yield running


@pytest.fixture
def store(aws_clients: dict[str, Any], own_tables: dict[str, str]) -> DynamoDBStore:
    return DynamoDBStore(aws_clients["dynamodb"], own_tables["StateTable"], claim_ttl_seconds=3600)


# The transcript's own words in each language: its title, what it is, the flows' titles and the narrator's notes.
HEADER = {
    "en": (
        "Stylebot: the whole conversation, in English",
        "What a person sees in a chat with Stylebot, flow by flow. Written by `tests/integration/test_transcripts.py`, "
        "which drives the bot through the fake Bot API (the webhook and the worker under the Lambda emulator, "
        "DynamoDB, seeded test weights: the pictures made are noise, so only their type and pixel size are shown); "
        "the test fails when the bot shows something else. **Regenerate it with `make transcripts`** and commit "
        "the result.\n\n"
        "Each flow is a new person, Ada. 👤 is what she does; #1, #2… number the bot's messages in each flow; "
        "✏️ is an edit of one, 🔔 the toast a tap gets, 💭 a chat action, [a] [b] a row of buttons. Numbers of "
        "seconds, minutes and hours are written N, and a job's progress is shown at its first edit only.",
    ),
    "ru": (
        "Stylebot: весь разговор по-русски",
        "Что человек видит в чате со Stylebot, сценарий за сценарием. Файл пишет тест "
        "`tests/integration/test_transcripts.py`: он ведёт разговор с ботом через поддельный Bot API (вебхук и "
        "воркер в эмуляторе Lambda, DynamoDB, тестовые веса: готовые картинки — шум, поэтому от них показаны "
        "только тип и размер в пикселях) и падает, если бот показывает что-то другое. **Обновить файл: "
        "`make transcripts`**, затем закоммитить.\n\n"
        "В каждом сценарии — новый человек, Ada. 👤 — что она делает; #1, #2… — сообщения бота по порядку в "
        "сценарии; ✏️ — изменение сообщения, 🔔 — всплывающее уведомление в ответ на нажатие, 💭 — статус в "
        "чате, [a] [b] — ряд кнопок. Числа секунд, минут и часов заменены на N, а ход работы показан только "
        "первым изменением.",
    ),
}

TITLES = {
    "menu": ("/start and the menu", "/start и меню"),
    "commands": ("Help, and what the bot does not know", "Помощь, и чего бот не знает"),
    "own": (
        "Your own style: the photo, the style picture, the options, the result",
        "Свой стиль: фото, картинка со стилем, настройки, результат",
    ),
    "photo_first": ("A photo first, then the choice", "Сначала фото, потом выбор"),
    "presets": ("Presets: the gallery and a preset job", "Готовые стили: галерея и картинка в готовом стиле"),
    "paintings": (
        "Famous paintings: the gallery, and a painting as the style picture",
        "Знаменитые картины: галерея и картина вместо картинки со стилем",
    ),
    "mix": ("Two styles mixed", "Два стиля в смеси"),
    "preview": ("The preview strip", "Предпросмотр: три степени стилизации"),
    "album": ("An album of two: the photo and the style at once", "Альбом из двух: фото и стиль сразу"),
    "album_first": ("An album of two as the first thing", "Альбом из двух первым делом"),
    "album_three": ("An album of three", "Альбом из трёх"),
    "cancel": ("Cancel during a job", "Отмена во время работы"),
    "settings": ("Settings, and the result as a file", "Настройки и результат файлом"),
    "bad": ("Bad input", "Неподходящее"),
    "quota": ("The daily quota", "Дневной лимит"),
    "forget": ("/forget", "/forget"),
    "stale": ("Old buttons", "Старые кнопки"),
}

NOTES = {
    "quota": (
        "She has already made today's {limit} best-quality pictures.",
        "Сегодняшние {limit} картинок в высоком качестве она уже сделала.",
    ),
    "cancel": (
        "A best-quality job: Cancel is tapped as soon as its progress shows.",
        "Высокое качество: «Отменить» нажато, как только появился ход работы.",
    ),
}

WORDS = {"hello": ("hello", "привет")}


def _pick(pair: tuple[str, str], language: str) -> str:
    return pair[0] if language == "en" else pair[1]


class Scenes:
    """The flows, each for a new person in the transcript's language."""

    def __init__(
        self,
        transcript: Transcript,
        person: Callable[..., Person],
        telegram: FakeBotApi,
        store: DynamoDBStore,
        pipeline: Pipeline,
        usage: DynamoDBUsage,
    ) -> None:
        self.transcript = transcript
        self.language = transcript.language
        self._person = person
        self.telegram = telegram
        self.store = store
        self.pipeline = pipeline
        self.usage = usage

    def chat(self, flow: str) -> tuple[Chat, Person]:
        p = self._person(self.language)
        return self.transcript.flow(_pick(TITLES[flow], self.language), p), p

    def t(self, key: str, **values: object) -> str:
        return text(key, self.language, **values)

    def preset(self, preset_id: str) -> str:
        return registry.get_preset(preset_id).name(self.language)

    def painting(self, painting_id: str) -> str:
        return paintings.get_painting(painting_id).short_title(self.language)

    # --- waiting for the worker ---------------------------------------------------------------------------------
    def job_ended(self, p: Person) -> Callable[[], None]:
        """Wait until the person's newest job has ended and its worker has let go (its last calls are made)."""

        def wait() -> None:
            job_id = self.store.load(p.user_id).recent_jobs[-1]
            deadline = time.monotonic() + 240
            while self.store.job_status(p.user_id, job_id) not in FINISHED:
                assert time.monotonic() < deadline, f"job {job_id} still {self.store.job_status(p.user_id, job_id)}"
                time.sleep(0.1)
            self.pipeline.service.wait_idle(timeout=240)

        return wait

    def progress_shown(self, p: Person) -> Callable[[], None]:
        """Wait until the person's job shows its progress (the worker is running it), as a text or a caption."""

        def wait() -> None:
            self.telegram.wait_for(
                lambda calls: any(
                    c.chat_id == p.user_id and is_progress(str(c.params.get("text") or c.params.get("caption") or ""))
                    for c in calls
                ),
                timeout=240,
            )

        return wait

    # --- the flows -----------------------------------------------------------------------------------------------
    def menu(self) -> None:
        c, _ = self.chat("menu")
        c.send("/start")
        c.tap(self.t("btn_help"))  # a new message: the menu stays
        c.tap(self.t("btn_settings"))

    def commands(self) -> None:
        c, _ = self.chat("commands")
        c.send("/help")
        c.send("/styles")
        c.send("/cancel")
        c.send("/frobnicate")
        c.send(_pick(WORDS["hello"], self.language))

    def own_style(self) -> None:
        c, p = self.chat("own")
        c.send("/start")
        c.tap(self.t("btn_nst"))
        c.photo(PHOTO)
        c.photo(STYLE)
        c.tap("📐")  # 512 -> 1024
        c.tap("📐")  # 1024 -> 256: small, so that the job is quick
        c.tap("💪")
        c.tap(self.t("opt_colors_off"))
        c.tap("⚡")  # quick -> best
        c.tap("⚡")  # best -> quick
        c.tap(self.t("btn_start"), then=self.job_ended(p))
        c.tap(self.t("btn_again_style"))
        c.tap(self.t("btn_again_options"))
        c.send("/cancel")

    def photo_first(self) -> None:
        c, _ = self.chat("photo_first")
        c.photo(PHOTO)
        c.tap(self.t("btn_use_own_style"))
        c.document(TEXTURE, "image/png", "brick.png")
        c.send("/cancel")
        c.photo(PHOTO)
        c.tap(self.t("btn_apply_preset"))
        c.tap(self.preset("monet"))
        c.send("/cancel")

    def presets(self) -> None:
        c, p = self.chat("presets")
        c.send("/start")
        c.tap(self.t("btn_presets"))
        c.tap(self.preset("monet"))
        c.photo(SMALL_PHOTO)
        c.tap("💪")
        c.tap(self.t("btn_start"), then=self.job_ended(p))
        c.tap(self.t("btn_again_style"))
        c.tap(self.preset("vangogh"))
        c.send("/cancel")

    def paintings(self) -> None:
        c, p = self.chat("paintings")
        c.send("/start")
        c.tap(self.t("btn_nst"))
        c.photo(PHOTO)
        c.tap(self.t("btn_paintings"))
        c.tap(self.painting("starry_night"))
        c.tap("📐")
        c.tap("📐")  # 256 px
        c.tap(self.t("btn_start"), then=self.job_ended(p))
        c.send("/cancel")

    def mix(self) -> None:
        c, p = self.chat("mix")
        c.send("/start")
        c.tap(self.t("btn_nst"))
        c.photo(PHOTO)
        c.photo(STYLE)
        c.tap("📐")
        c.tap("📐")  # 256 px
        c.tap(self.t("btn_mix"))
        c.tap(self.t("btn_paintings"))
        c.tap(self.painting("the_scream"))
        c.tap("50/50")
        c.tap(self.t("btn_start"), then=self.job_ended(p))
        c.send("/cancel")

    def preview(self) -> None:
        c, p = self.chat("preview")
        c.send("/start")
        c.tap(self.t("btn_nst"))
        c.photo(PHOTO)
        c.photo(STYLE)
        c.tap(self.t("btn_preview"), then=self.job_ended(p))
        c.tap(self.t("strength_low"))
        c.send("/cancel")

    def album(self) -> None:
        c, _ = self.chat("album")
        c.send("/start")
        c.tap(self.t("btn_nst"))
        c.album([PHOTO, STYLE], then=self.album_woken)
        c.send("/cancel")

    def album_first(self) -> None:
        c, _ = self.chat("album_first")
        c.album([PHOTO, STYLE], then=self.album_woken)
        c.tap(self.t("btn_use_own_style"))
        c.send("/cancel")

    def album_three(self) -> None:
        c, _ = self.chat("album_three")
        c.send("/start")
        c.tap(self.t("btn_nst"))
        c.album([PHOTO, STYLE, TEXTURE], then=self.album_woken)
        c.send("/cancel")
        c.album([PHOTO, STYLE, TEXTURE], then=self.album_woken)  # as the first thing, with nothing awaited

    def album_woken(self) -> None:
        """Wait for the wakeup an album's second picture asked for to have come and gone (it shows the options
        of an album of two; for a longer one, nothing)."""
        self.pipeline.service.wait_idle(timeout=60)

    def cancel(self) -> None:
        c, p = self.chat("cancel")
        c.send("/start")
        c.tap(self.t("btn_nst"))
        c.photo(PHOTO)
        c.photo(STYLE)
        c.tap("📐")
        c.tap("📐")  # 256 px
        c.tap("⚡")  # best: long enough to be cancelled while it runs
        c.note(_pick(NOTES["cancel"], self.language))
        c.tap(self.t("btn_start"), then=self.progress_shown(p))
        c.tap(self.t("btn_cancel_job"), then=self.job_ended(p))

    def settings(self) -> None:
        c, p = self.chat("settings")
        c.send("/settings")
        c.tap("📐")  # 1024 px
        c.tap("📐")  # 256 px
        c.tap("📨")  # as a file
        c.send("/start")
        c.tap(self.t("btn_nst"))
        c.photo(PHOTO)
        c.photo(STYLE)
        c.tap(self.t("btn_start"), then=self.job_ended(p))
        c.send("/settings")
        c.tap("🌐")  # the other language
        c.tap("🌐")  # and back

    def bad_input(self) -> None:
        c, _ = self.chat("bad")
        c.send("/start")
        c.tap(self.t("btn_nst"))
        c.send(_pick(WORDS["hello"], self.language))
        c.sticker()
        c.document(NOT_AN_IMAGE, "application/pdf", "notes.pdf")
        c.document(TINY, "image/png", "tiny.png")
        c.photo(PHOTO)

    def quota(self) -> None:
        c, p = self.chat("quota")
        for _ in range(DEFAULT_BEST_PER_DAY):
            assert self.usage.take_quota(p.user_id, day_key(time.time()), QuotaKind.BEST, DEFAULT_BEST_PER_DAY)
        c.note(_pick(NOTES["quota"], self.language).format(limit=DEFAULT_BEST_PER_DAY))
        c.send("/start")
        c.tap(self.t("btn_nst"))
        c.photo(PHOTO)
        c.photo(STYLE)
        c.tap("⚡")
        c.tap(self.t("btn_start"))

    def forget(self) -> None:
        c, _ = self.chat("forget")
        c.send("/start")
        c.tap(self.t("btn_nst"))
        c.photo(PHOTO)
        c.send("/forget")
        c.photo(STYLE)

    def stale(self) -> None:
        # A newer screen sent as a new message takes the older one's buttons off; a reply without buttons (here
        # /cancel's) leaves them, stale: a tap on one is answered and takes them off.
        c, _ = self.chat("stale")
        c.photo(PHOTO)
        c.send("/cancel")
        c.tap(self.t("btn_use_own_style"), under=1)


FLOWS = (
    "menu",
    "own_style",
    "photo_first",
    "presets",
    "paintings",
    "mix",
    "preview",
    "album",
    "album_first",
    "album_three",
    "cancel",
    "settings",
    "bad_input",
    "quota",
    "forget",
    "stale",
    "commands",
)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_conversation_reads_as_its_committed_transcript(
    language: str,
    request: pytest.FixtureRequest,
    pipeline: Pipeline,
    person: Callable[..., Person],
    telegram: FakeBotApi,
    store: DynamoDBStore,
    aws_clients: dict[str, Any],
    own_tables: dict[str, str],
) -> None:
    # Given every flow of the bot, run in one language by a new person each
    title, intro = HEADER[language]
    transcript = Transcript(language, title, intro)
    scenes = Scenes(
        transcript, person, telegram, store, pipeline, DynamoDBUsage(aws_clients["dynamodb"], own_tables["StateTable"])
    )
    for flow in FLOWS:
        getattr(scenes, flow)()
    # Then what the person saw is what docs/conversation.<language>.md says (or, updating, it is written there)
    transcript.check(update=bool(request.config.getoption("--update-transcripts")))
