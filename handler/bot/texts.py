"""Everything the bot says, in English and Russian, by key."""

from __future__ import annotations

from typing import Final

DEFAULT_LANGUAGE: Final = "en"

TEXTS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "start": (
            "Hi, {name}! I turn your photos into art.\n\n"
            "• Your own style: send a photo and any picture whose style you like.\n"
            "• Presets: Monet, Van Gogh, Cézanne, Ukiyo-e and anime looks in seconds.\n\n"
            "/help shows what I can do."
        ),
        "help": (
            "I restyle photos.\n\n"
            "/start — the main menu\n"
            "/help — this message\n"
            "/cancel — stop what is going on\n"
            "/settings — language, output size\n"
            "/forget — erase everything stored about you\n\n"
            "Photos are processed in memory and never stored."
        ),
        "echo": "{text}",
        "error": "Sorry, something went wrong on my side. Please try again in a moment.",
    },
    "ru": {
        "start": (
            "Привет, {name}! Я превращаю фотографии в картины.\n\n"
            "• Свой стиль: пришлите фото и любую картинку, стиль которой вам нравится.\n"
            "• Готовые стили: Моне, Ван Гог, Сезанн, укиё-э и аниме за секунды.\n\n"
            "/help — что я умею."
        ),
        "help": (
            "Я стилизую фотографии.\n\n"
            "/start — главное меню\n"
            "/help — это сообщение\n"
            "/cancel — остановить текущее действие\n"
            "/settings — язык, размер результата\n"
            "/forget — удалить всё, что я о вас храню\n\n"
            "Фотографии обрабатываются в памяти и нигде не сохраняются."
        ),
        "echo": "{text}",
        "error": "Извините, у меня что-то сломалось. Попробуйте ещё раз чуть позже.",
    },
}


def language_of(language_code: str | None) -> str:
    """The language to answer in, from Telegram's `language_code` (e.g. "ru", "ru-RU", "en-GB")."""
    if language_code and language_code.split("-")[0].lower() in TEXTS:
        return language_code.split("-")[0].lower()
    return DEFAULT_LANGUAGE


def text(key: str, language: str, **values: object) -> str:
    """The text `key` in `language` (English where a translation is missing), with `values` filled in."""
    template = TEXTS.get(language, {}).get(key) or TEXTS[DEFAULT_LANGUAGE][key]
    return template.format(**values)
