"""The README's deploy walkthrough, tested as far as it can be without an AWS account.

- `sam deploy --guided` runs for real (the pinned SAM CLI, this template and samconfig.toml), answered as the
  README's prompt table says: it must ask exactly those prompts, in that order, and get past them. Its AWS calls,
  which start after the last prompt, go to a closed local port and fail there.
- Every `sam` command of the walkthrough is read by the SAM CLI's own parser with samconfig.toml, as it would run.
- Every `aws` command is checked against botocore's model of the service (operation and options), and the SSM ones
  are carried out against the local SSM: the token lands where the stack's custom resource reads it, and Telegram
  gets the webhook.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore import xform_name

from infra.local.cloudformation import CloudFormationResponses
from infra.local.fake_bot_api import FakeBotApi
from infra.local.lambda_emulator import ROOT, EmulatedFunction
from tests.conftest import BOT_TOKEN
from tests.deploy.conftest import registration_env
from tests.deploy.template_model import functions
from tests.factories import cfn_event

README = (ROOT / "README.md").read_text()
SAMCONFIG: dict[str, Any] = tomllib.loads((ROOT / "samconfig.toml").read_text())
BIN = Path(sys.executable).parent


def deploy_section() -> str:
    """The README from `## Deploy` through `## Logs` (the walkthrough and the commands to read the logs)."""
    start = README.index("\n## Deploy\n")
    end = README.index("\n## ", README.index("\n## Logs\n") + 1)
    return README[start:end]


def walkthrough_commands() -> list[str]:
    """Every command of the section's bash blocks: continuations joined, comments dropped, `&&` split."""
    commands: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", deploy_section(), flags=re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if not words:
                continue
            command: list[str] = []
            for word in [*words, "&&"]:
                if word == "&&":
                    commands.append(shlex.join(command))
                    command = []
                else:
                    command.append(word)
    return commands


def prompt_table() -> list[tuple[str, str]]:
    """(prompt, what to type) of the README's table for `sam deploy --guided`; "Enter" types nothing."""
    rows = re.findall(r"^\| `([^`]+)` \| ([^|]+) \|$", deploy_section(), flags=re.MULTILINE)
    answers = []
    for prompt, answer in rows:
        typed = re.match(r"`([^`]*)`", answer.strip())
        answers.append((prompt, typed.group(1) if typed else ""))
    return answers


@pytest.fixture
def no_aws(tmp_path: Path) -> dict[str, str]:
    """Credentials that work for nothing, and every AWS endpoint at a local port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {
        **env,
        "HOME": str(home),
        "SAM_CLI_TELEMETRY": "0",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{closed_port}",
        "AWS_MAX_ATTEMPTS": "1",
    }


def test_guided_deploy_asks_what_the_readme_lists_and_its_answers_get_through(
    tmp_path: Path, no_aws: dict[str, str]
) -> None:
    # Given the project's template and samconfig.toml, and the README's answers to the guided deploy
    project = tmp_path / "project"
    project.mkdir()
    for name in ("template.yaml", "samconfig.toml"):
        (project / name).write_text((ROOT / name).read_text())
    table = prompt_table()
    assert table, "the README has no table of the guided deploy's prompts"
    # When `sam deploy --guided` runs and is answered line by line as the README says
    result = subprocess.run(
        [str(BIN / "sam"), "deploy", "--guided"],
        cwd=project,
        env=no_aws,
        input="".join(f"{answer}\n" for _, answer in table),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    # Then it asks exactly the README's prompts, in order
    asked = re.findall(r"\t ?([^\t\n#][^\t\n]*?\[[^\]\n]*\]): ", output)
    assert asked == [prompt for prompt, _ in table], output[-3000:]
    # And the answers get it past every question to the deployment itself (which needs AWS: it stops there)
    assert "Security Constraints Not Satisfied" not in output
    assert "Looking for resources needed for deployment" in output, output[-3000:]


def _resolved(lines: list[str]) -> list[dict[str, Any]]:
    result = subprocess.run(
        [sys.executable, "-m", "tests.deploy.sam_cli", *lines],
        cwd=ROOT,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    parsed: list[dict[str, Any]] = json.loads(result.stdout)
    return parsed


def test_every_sam_command_of_the_walkthrough_runs_on_its_environments_stack_and_region() -> None:
    # Given every `sam` command of the README's deploy walkthrough
    lines = [line for line in walkthrough_commands() if line.startswith("sam ")]
    assert {"sam build", "sam deploy --guided", "sam deploy", "sam delete"} <= set(lines)
    # When the pinned SAM CLI reads each, with samconfig.toml
    for resolved in _resolved(lines):
        # Then each is a valid command line
        assert "error" not in resolved, resolved
        options = resolved["options"]
        environment = SAMCONFIG[options.get("config_env") or "default"]["global"]["parameters"]
        if resolved["command"] in {"sam deploy", "sam logs", "sam delete"}:
            # And deploy, logs and delete all reach the environment's stack, in its region
            assert options["stack_name"] == environment["stack_name"], resolved["line"]
            assert resolved["region"] == environment["region"], resolved["line"]
        if resolved["command"] == "sam deploy":
            # And a failed first deploy is deleted, so the same command can simply run again
            assert options["on_failure"] == "DELETE" and not options["disable_rollback"], resolved["line"]
            assert options["resolve_image_repos"] and options["capabilities"], resolved["line"]


def test_the_prod_overrides_on_the_command_line_keep_what_samconfig_sets() -> None:
    # `--parameter-overrides` replaces samconfig's list: the README's command for prod repeats prod's own
    (prod_line,) = [
        line for line in walkthrough_commands() if line.startswith("sam deploy --config-env prod --parameter-overrides")
    ]
    (resolved,) = _resolved([prod_line])
    own = dict(item.split("=", 1) for item in SAMCONFIG["prod"]["deploy"]["parameters"]["parameter_overrides"].split())
    assert own.items() <= resolved["options"]["parameter_overrides"].items()


GLOBAL_OPTIONS = {"region", "output", "query", "profile", "no-cli-pager", "debug"}
PAGINATION_OPTIONS = {"max-items", "page-size", "starting-token"}


def aws_call(line: str) -> tuple[str, str, dict[str, Any], str | None]:
    """`aws <service> <operation> --opt value ...` -> (service, operation name, API parameters, region),
    checked against botocore's model: the operation exists, each option is one of its members (or a global or
    pagination option of the CLI), and every required member is given."""
    words = shlex.split(line)
    assert words[0] == "aws", line
    service, operation = words[1], words[2]
    model = botocore.session.get_session().get_service_model(service)
    names = {xform_name(name).replace("_", "-"): name for name in model.operation_names}
    assert operation in names, f"{line}: {service} has no operation {operation}"
    shape = model.operation_model(names[operation]).input_shape
    members = {xform_name(member).replace("_", "-"): member for member in (shape.members if shape else {})}
    parameters: dict[str, Any] = {}
    region = None
    rest = iter(words[3:])
    for word in rest:
        assert word.startswith("--"), f"{line}: unexpected {word!r}"
        option = word[2:]
        if option in GLOBAL_OPTIONS or option in PAGINATION_OPTIONS:
            value = next(rest) if option not in {"no-cli-pager", "debug"} else None
            region = value if option == "region" else region
            continue
        flag = option.removeprefix("no-")
        assert flag in members, f"{line}: {service} {operation} has no option --{option}"
        member = members[flag]
        if shape is not None and shape.members[member].type_name == "boolean":
            parameters[member] = not option.startswith("no-")
        else:
            parameters[member] = next(rest)
    required = set(shape.required_members) if shape else set()
    assert required <= parameters.keys(), f"{line}: missing {required - parameters.keys()}"
    return service, names[operation], parameters, region


@pytest.fixture
def registration_in_region(aws_env: dict[str, str], bot_api: FakeBotApi) -> Iterator[EmulatedFunction]:
    """The stack's custom resource function, in the region samconfig.toml deploys to."""
    region = SAMCONFIG["default"]["global"]["parameters"]["region"]
    env = {**registration_env(aws_env, bot_api.url), "AWS_DEFAULT_REGION": region, "AWS_REGION": region}
    function = EmulatedFunction("WebhookRegistrationFunction", env, timeout_seconds=60).start()
    yield function
    function.stop()


def test_the_readmes_aws_commands_are_real_and_put_the_token_where_each_stack_reads_it(
    aws_clients: dict[str, Any],
    registration_in_region: EmulatedFunction,
    telegram: FakeBotApi,
    cfn_responses: CloudFormationResponses,
) -> None:
    # Given the `aws` commands of the walkthrough, each a real operation with real options
    calls = [aws_call(line) for line in walkthrough_commands() if line.startswith("aws ")]
    assert {(service, operation) for service, operation, _, _ in calls} >= {
        ("ssm", "PutParameter"),
        ("ssm", "DeleteParameter"),
        ("cloudformation", "DescribeStackEvents"),
    }
    # And where each stack reads its token: the custom resource's BotTokenParameterName, for the stack's name
    (webhook,) = [f for f in functions().values() if f.logical_id == "WebhookFunction"]
    template_name = webhook.environment["TELEGRAM_BOT_TOKEN_PARAMETER"]["Fn::Sub"]
    stacks = {env["global"]["parameters"]["stack_name"] for env in SAMCONFIG.values() if isinstance(env, dict)}
    endpoint = aws_clients["ssm"].meta.endpoint_url
    for service, operation, parameters, region in calls:
        if service != "ssm":
            continue
        assert region == SAMCONFIG["default"]["global"]["parameters"]["region"], (operation, parameters)
        assert parameters["Name"] in {template_name.replace("${AWS::StackName}", stack) for stack in stacks}
        # When the README's SSM commands run, in order, against the local SSM of that region
        ssm = boto3.client("ssm", region_name=region, endpoint_url=endpoint)
        if operation == "PutParameter":
            parameters = {**parameters, "Value": BOT_TOKEN}  # the README's placeholder, as a real token
        getattr(ssm, xform_name(operation))(**parameters)
        if operation != "PutParameter" or "Overwrite" in parameters:
            continue
        # Then a stack named after the parameter registers its webhook with that token
        stack = parameters["Name"].split("/")[1]
        event = cfn_event(
            "create",
            cfn_responses,
            BotTokenParameterName=parameters["Name"],
            SecretParameterName=f"/{stack}-{uuid.uuid4().hex[:6]}/webhook-secret",
        )
        event["StackId"] = event["StackId"].replace("/stylebot/", f"/{stack}/")
        telegram.reset()
        registration_in_region.invoke(event)
        assert cfn_responses.wait_for(event["RequestId"]).body["Status"] == "SUCCESS", stack
        assert telegram.calls_to("setWebhook"), stack
