"""The `Custom::TelegramWebhook` resource: the stack registers its own webhook with Telegram.

Create and Update: make sure the stack's webhook secret exists (a random token in an SSM SecureString whose name
the template derives from the stack; a new one on Create and whenever `SecretVersion` changes), then call
`setWebhook` with the URL, that secret, `allowed_updates` and `max_connections`, and `setMyCommands` for the
command menu in each language (English for everyone, Russian for Russian users). Delete: `deleteWebhook` and
remove the secret, best effort, so that tearing the stack down never gets stuck on Telegram.

The physical id never changes, so CloudFormation never sends a Delete for a webhook an Update has just set.
Neither the bot token nor the secret is logged or put into the answer to CloudFormation.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.data_classes import CloudFormationCustomResourceEvent
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from handler.core.commands import command_menus
from handler.core.ports import RateLimited, TelegramFailed, TelegramRefused, WebhookRegistry
from handler.deploy.cloudformation import Outcome, ResourceFailed, default_physical_id
from handler.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_ssm.client import SSMClient


CREATE_PARAMETER_HINT = (
    "SSM parameter {name} {problem}; create it as a SecureString before deploying: "
    "aws ssm put-parameter --type SecureString --name {name} --value <token from @BotFather>"
)


class WebhookProperties(BaseModel):
    """The resource's properties in template.yaml (CloudFormation passes numbers as strings)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    bot_token_parameter: str = Field(alias="BotTokenParameterName", min_length=2)
    webhook_url: str = Field(alias="WebhookUrl")
    secret_parameter: str = Field(alias="SecretParameterName", min_length=2)
    allowed_updates: list[str] = Field(alias="AllowedUpdates")
    max_connections: int = Field(alias="MaxConnections", ge=1, le=100)
    secret_version: str = Field(default="1", alias="SecretVersion")

    @field_validator("webhook_url")
    @classmethod
    def _https(cls, value: str) -> str:
        if not value.startswith("https://"):
            raise ValueError("Telegram only posts to https:// URLs")
        return value

    @staticmethod
    def parse(raw: dict[str, Any] | None) -> WebhookProperties:
        try:
            return WebhookProperties.model_validate(raw or {})
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
            raise ResourceFailed(f"invalid Custom::TelegramWebhook properties: {problems}") from None


# The Bot API client of one bot token (the Telegram gateway, blocking); built by the composition root.
MakeRegistry = Callable[[str], WebhookRegistry]


@contextmanager
def _telegram(make: MakeRegistry, token: str) -> Iterator[WebhookRegistry]:
    """The bot's registry for the calls inside; its failures become reasons (the gateway keeps the token out)."""
    registry = make(token)
    try:
        yield registry
    except TelegramRefused as refused:
        raise ResourceFailed(str(refused)) from None
    except RateLimited as limited:
        raise ResourceFailed(f"Telegram asks to wait {limited.retry_after:.0f} s; deploy again later") from None
    except TelegramFailed as error:
        raise ResourceFailed(f"Telegram Bot API unreachable on {error}") from None
    finally:
        registry.close()


class TelegramWebhook:
    """Create/Update/Delete of the webhook registration, with the stack's webhook secret in SSM."""

    def __init__(self, ssm: SSMClient, registry: MakeRegistry) -> None:
        self._ssm = ssm
        self._registry = registry

    def __call__(self, request: CloudFormationCustomResourceEvent) -> Outcome:
        physical_id = default_physical_id(request)
        if request.request_type == "Delete":
            return self.delete(request.resource_properties, physical_id)
        props = WebhookProperties.parse(request.resource_properties)
        old = None
        if request.request_type == "Update":
            try:
                old = WebhookProperties.parse(request.old_resource_properties)
            except ResourceFailed:
                old = None
        rotate = old is None or old.secret_version != props.secret_version
        token = self._read(props.bot_token_parameter)
        if old is not None and old.bot_token_parameter != props.bot_token_parameter:
            self._unregister_previous_bot(old)
        secret = self._secret(props.secret_parameter, rotate=rotate)
        with _telegram(self._registry, token) as bot:
            bot.set_webhook(props.webhook_url, secret, props.allowed_updates, props.max_connections)
            for language_code, commands in command_menus():
                bot.set_commands(commands, language_code)
        logger.info(
            "webhook registered",
            extra={
                "url": props.webhook_url,
                "allowed_updates": props.allowed_updates,
                "max_connections": props.max_connections,
                "secret_rotated": rotate,
            },
        )
        return Outcome(physical_id, reason="webhook registered", data={"WebhookUrl": props.webhook_url})

    def delete(self, raw: dict[str, Any] | None, physical_id: str) -> Outcome:
        """Best effort: a bot that cannot be reached any more must not keep the stack from being deleted."""
        problems = []
        try:
            props = WebhookProperties.parse(raw)
        except ResourceFailed as error:
            logger.warning("nothing to unregister", extra={"reason": str(error)})
            return Outcome(physical_id, reason=f"nothing to unregister ({error})")
        try:
            with _telegram(self._registry, self._read(props.bot_token_parameter)) as bot:
                bot.delete_webhook(drop_pending_updates=False)
        except ResourceFailed as error:
            problems.append(str(error))
        try:
            self._ssm.delete_parameter(Name=props.secret_parameter)
        except ClientError as error:
            if _code(error) != "ParameterNotFound":
                problems.append(f"the webhook secret {props.secret_parameter} was not deleted: {_code(error)}")
        except BotoCoreError as error:
            problems.append(f"the webhook secret {props.secret_parameter} was not deleted: {type(error).__name__}")
        if problems:
            logger.warning("webhook removal incomplete; the stack is deleted anyway", extra={"problems": problems})
            return Outcome(physical_id, reason="deleted with warnings: " + " | ".join(problems))
        logger.info("webhook deleted")
        return Outcome(physical_id, reason="webhook deleted")

    def _unregister_previous_bot(self, old: WebhookProperties) -> None:
        """The stack now serves another bot: the previous one stops posting here (best effort)."""
        try:
            with _telegram(self._registry, self._read(old.bot_token_parameter)) as bot:
                bot.delete_webhook()
        except ResourceFailed as error:
            logger.warning("the previous bot's webhook was not removed", extra={"reason": str(error)})

    def _read(self, name: str) -> str:
        try:
            value = self._ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"].get("Value", "")
        except ClientError as error:
            if _code(error) == "ParameterNotFound":
                raise ResourceFailed(CREATE_PARAMETER_HINT.format(name=name, problem="does not exist")) from None
            raise ResourceFailed(f"SSM parameter {name} could not be read: {_code(error)}") from None
        except BotoCoreError as error:
            raise ResourceFailed(f"SSM parameter {name} could not be read: {type(error).__name__}") from None
        if not value.strip():
            raise ResourceFailed(CREATE_PARAMETER_HINT.format(name=name, problem="is empty"))
        return value.strip()

    def _secret(self, name: str, *, rotate: bool) -> str:
        """The stack's webhook secret: kept across updates, new on create or when SecretVersion changes."""
        if not rotate:
            try:
                current = self._ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"].get("Value", "")
                if current:
                    return current
            except ClientError as error:
                if _code(error) != "ParameterNotFound":
                    raise ResourceFailed(f"SSM parameter {name} could not be read: {_code(error)}") from None
        # 48 random bytes, URL-safe base64: 64 characters of A-Z a-z 0-9 _ -, as Telegram allows.
        value = secrets.token_urlsafe(48)
        try:
            self._ssm.put_parameter(
                Name=name,
                Value=value,
                Type="SecureString",
                Overwrite=True,
                Description="Telegram webhook secret token, generated by the stack (X-Telegram-Bot-Api-Secret-Token)",
            )
        except (ClientError, BotoCoreError) as error:
            code = _code(error) if isinstance(error, ClientError) else type(error).__name__
            raise ResourceFailed(f"the webhook secret {name} could not be stored: {code}") from None
        return value


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "ClientError"))
