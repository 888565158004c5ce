"""Every environment variable the code reads is set by template.yaml for the function that reads it, and every
variable the template sets is read by that function's code (or by a library).

The code's side: the fields of `handler.settings.Settings` (pydantic-settings: the upper-cased field name) that
the function's modules use, plus literal `os.environ` / `os.getenv` reads in its import closure.
"""

from __future__ import annotations

import ast
from functools import cache

import pytest

from handler.settings import Settings
from infra.local.lambda_emulator import ROOT
from tests.deploy.code_scan import closure
from tests.deploy.template_model import Function, functions

# Read by the code, deliberately not set by the template: each has a default that is right in Lambda, or
# belongs to local mode only.
UNSET_ON_PURPOSE = {
    "TELEGRAM_BOT_TOKEN": "local mode: the token inline; in Lambda it is read from TELEGRAM_BOT_TOKEN_PARAMETER",
    "TELEGRAM_WEBHOOK_SECRET": "local runs/tests: the secret inline; in Lambda from TELEGRAM_WEBHOOK_SECRET_PARAMETER",
    "LOCAL_STATE_PATH": "local mode's SQLite file",
    "LOCAL_WORKERS": "local mode's worker processes",
    "STYLEBOT_FETCH_WEIGHTS": "local mode's first-run download of missing weights; the image holds them all",
    "LOST_JOB_GRACE_SECONDS": "default (45 s) outlasts any step between two heartbeats",
    "UPDATE_CLAIM_TTL_SECONDS": "default (26 h) outlives Telegram's redelivery window",
    "UPDATE_CLAIM_STALE_SECONDS": "default (40 s) outlasts the webhook's 30 s timeout",
    "PARAMETER_MAX_AGE_SECONDS": "default (5 min) cache of SSM parameters",
    "STYLEBOT_BF16": "default: detected from the CPU's flags",
    "STYLEBOT_THREADS": "default: the CPUs the function has",
    "STYLEBOT_MANIFEST": "default: the manifest inside the ml package",
    "AWS_LAMBDA_FUNCTION_NAME": "set by Lambda's runtime in every function: the webhook's own name",
    "XDG_CACHE_HOME": "only where STYLEBOT_WEIGHTS_DIR is unset (local use); the image sets that",
}

# Set by the template, read by libraries rather than by our code.
READ_BY_LIBRARIES = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_LOG_LEVEL"}

FUNCTIONS = sorted(functions())
SETTINGS_FIELDS = set(Settings.model_fields)


@cache
def settings_properties() -> dict[str, set[str]]:
    """Settings properties -> the fields they read (`settings.bot_api_url` reads telegram_api_base_url)."""
    tree = ast.parse((ROOT / "handler" / "settings.py").read_text())
    found: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and any(
            isinstance(d, ast.Name) and d.id == "property" for d in node.decorator_list
        ):
            found[node.name] = {
                n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute) and n.attr in SETTINGS_FIELDS
            }
    return found


def variables_read(function: Function) -> dict[str, str]:
    """Environment variables the function's code reads -> where."""
    scan = closure(function.entry_module)
    read = {name: str(site) for name, site in scan.env_reads.items()}
    if "handler.settings" in scan.modules:
        for attribute, site in scan.attributes.items():
            if site.path == "handler/settings.py":
                continue
            for used in {attribute} & SETTINGS_FIELDS | settings_properties().get(attribute, set()):
                read.setdefault(used.upper(), f"{site} (Settings.{used})")
    return read


def test_every_settings_field_is_set_somewhere_or_unset_on_purpose() -> None:
    set_anywhere = {name for f in functions().values() for name in f.environment}
    for field in sorted(SETTINGS_FIELDS):
        name = field.upper()
        assert name in set_anywhere or name in UNSET_ON_PURPOSE, (
            f"Settings.{field} (environment variable {name}) is set by no function in template.yaml: add it to "
            f"the Environment of the functions that need it, or to UNSET_ON_PURPOSE with the reason."
        )


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_every_variable_the_code_reads_is_set_by_the_template(logical_id: str) -> None:
    function = functions()[logical_id]
    env = function.environment
    missing = {n: where for n, where in variables_read(function).items() if n not in env and n not in UNSET_ON_PURPOSE}
    assert not missing, (
        f"{logical_id} reads environment variables template.yaml does not set for it: {missing}. "
        f"Add them to {logical_id}'s Environment.Variables (or to UNSET_ON_PURPOSE with the reason)."
    )


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_every_variable_the_template_sets_is_read(logical_id: str) -> None:
    function = functions()[logical_id]
    read = variables_read(function)
    unread = set(function.environment) - set(read) - READ_BY_LIBRARIES
    assert not unread, f"template.yaml sets {sorted(unread)} for {logical_id}, whose code never reads them."


def test_no_function_is_given_a_secret_value() -> None:
    for function in functions().values():
        for name in function.environment:
            assert name not in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET"), (
                f"{function.logical_id} gets {name} inline: secrets come from SSM (the *_PARAMETER variables)"
            )


def test_the_webhook_reads_the_secret_the_registration_writes() -> None:
    from infra.local.template import resources

    (webhook_resource,) = resources("Custom::TelegramWebhook").values()
    env = functions()["WebhookFunction"].environment
    assert env["TELEGRAM_WEBHOOK_SECRET_PARAMETER"] == webhook_resource["Properties"]["SecretParameterName"]
    assert env["TELEGRAM_BOT_TOKEN_PARAMETER"] == webhook_resource["Properties"]["BotTokenParameterName"]
