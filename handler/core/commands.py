"""The commands: those that work in every state, and the menu Telegram shows for them in each language."""

from __future__ import annotations

from handler.core.job import Language
from handler.core.texts import text

# In the order of the menu; /stats, for administrators only, is left out of it.
COMMANDS = ("start", "styles", "cancel", "settings", "help", "forget")

# A menu per `language_code` of setMyCommands: None is everyone whose language has no menu of its own.
MENU_LANGUAGES: tuple[tuple[str | None, Language], ...] = ((None, Language.EN), (Language.RU, Language.RU))

Menu = tuple[tuple[str, str], ...]


def command_menus() -> tuple[tuple[str | None, Menu], ...]:
    """(language_code, ((command, description), ...)) for each menu to register with Telegram."""
    return tuple(
        (code, tuple((name, text(f"cmd_{name}", language)) for name in COMMANDS)) for code, language in MENU_LANGUAGES
    )
