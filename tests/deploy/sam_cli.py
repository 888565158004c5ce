"""`python -m tests.deploy.sam_cli 'sam deploy ...' ...`: how the pinned SAM CLI reads each command line.

Each line is parsed by the SAM CLI's own click commands, in the current folder, so its `samconfig.toml` fills in
what the line leaves out, as when the command runs; nothing is executed and no AWS call is made. Prints a JSON
list with, for each line, the effective options and the region, or the usage error that running it would print.
"""

from __future__ import annotations

import json
import shlex
import sys
from typing import Any

import click
from samcli.cli.context import Context
from samcli.cli.main import cli


def resolve(line: str) -> dict[str, Any]:
    args = shlex.split(line)[1:]
    try:
        with cli.make_context("sam", args) as root:
            name, command, rest = cli.resolve_command(root, root.protected_args + root.args)
            assert command is not None and name is not None
            context = command.make_context(name, rest, parent=root)
            while isinstance(command, click.Group) and context.protected_args:
                name, command, rest = command.resolve_command(context, context.protected_args + context.args)
                assert command is not None and name is not None
                context = command.make_context(name, rest, parent=context)
    except click.ClickException as error:
        return {"line": line, "error": error.format_message()}
    options = {
        key: value if isinstance(value, str | int | float | bool | list | dict | None) else str(value)
        for key, value in context.params.items()
    }
    region = getattr(context.find_object(Context), "region", None)
    return {"line": line, "command": context.command_path, "options": options, "region": region}


if __name__ == "__main__":
    print(json.dumps([resolve(line) for line in sys.argv[1:]], default=str))
