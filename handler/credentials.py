"""Secrets: inline from the environment (local mode) or from SSM Parameter Store (Lambda), never logged."""

from __future__ import annotations

from pydantic import SecretStr

from handler.settings import Settings


class MissingSecret(RuntimeError):
    """A required secret is configured neither inline nor as a parameter name."""


def resolve(inline: SecretStr | None, parameter: str | None, what: str, max_age: int) -> SecretStr:
    if inline is not None and inline.get_secret_value():
        return inline
    if parameter:
        # Imported here: local mode and tests that set the value inline never touch SSM.
        from aws_lambda_powertools.utilities import parameters

        value = parameters.get_parameter(parameter, decrypt=True, max_age=max_age)
        return SecretStr(str(value))
    raise MissingSecret(f"{what} is not configured")


def bot_token(settings: Settings) -> SecretStr:
    """The bot token, from TELEGRAM_BOT_TOKEN or the SSM parameter TELEGRAM_BOT_TOKEN_PARAMETER."""
    return resolve(
        settings.telegram_bot_token,
        settings.telegram_bot_token_parameter,
        "TELEGRAM_BOT_TOKEN (or TELEGRAM_BOT_TOKEN_PARAMETER)",
        settings.parameter_max_age_seconds,
    )
