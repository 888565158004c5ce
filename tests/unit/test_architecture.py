"""The layers' import direction, and the one place that builds adapters, read from the source (no imports run)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from infra.local.lambda_emulator import ROOT
from tests.deploy.rehearsal import left_out_of_the_image

HANDLER = ROOT / "handler"
# The modules the template's commands and `make run` start: only the composition root may sit under them.
ENTRY_POINTS = {
    "handler.webhook",
    "handler.worker",
    "handler.failure",
    "handler.webhook_registration",
    "handler.worker_cap",
    "handler.local",
}
# Application layers above the core and the adapters.
UPPER = ("handler.jobs", "handler.bot", "handler.wiring", "handler.deploy")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> dict[str, int]:
    """Every module `path` imports (lazy imports included) -> the line."""
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.setdefault(node.module, node.lineno)
            found.update((f"{node.module}.{alias.name}", node.lineno) for alias in node.names)
        elif isinstance(node, ast.Call) and _imports_by_name(node.func) and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.setdefault(first.value, node.lineno)
    return found


def _imports_by_name(function: ast.expr) -> bool:
    """`importlib.import_module(...)`, `import_module(...)` or `__import__(...)`: an import the statements miss."""
    name = (
        function.attr if isinstance(function, ast.Attribute) else function.id if isinstance(function, ast.Name) else ""
    )
    return name in ("import_module", "__import__")


def _is_under(name: str, packages: tuple[str, ...] | set[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def layer_files(package: str) -> list[Path]:
    return sorted((HANDLER / package).rglob("*.py"))


def violations(files: list[Path], forbidden: tuple[str, ...] | set[str]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in files
        for name, line in imported_modules(path).items()
        if _is_under(name, forbidden)
    ]


@pytest.mark.parametrize("layer", ["core", "adapters"])
def test_core_and_adapters_never_import_the_layers_above_them(layer: str) -> None:
    # Given the core and the adapters
    # Then none of their modules imports the application, the composition root or an entry point
    found = violations(layer_files(layer), {*UPPER, *ENTRY_POINTS})
    assert not found, found


def test_the_core_imports_neither_telegram_nor_boto3_nor_the_adapters() -> None:
    found = violations(layer_files("core"), ("telegram", "boto3", "botocore", "handler.adapters"))
    assert not found, found


def test_the_bot_never_reaches_the_model_package() -> None:
    # Given the bot's callbacks, which translate PTB's objects in and outcomes out
    # Then none imports `ml`: the catalogue and the preview pictures come through adapters the wiring passes in
    found = violations(layer_files("bot"), ("ml",))
    assert not found, found


def test_the_packaged_code_never_imports_the_tests() -> None:
    # Given every module the Lambda image carries (handler and ml, less what .dockerignore leaves out: the
    # benchmarks, development tools that drive the loopback stack) and the local stack (infra)
    files = [
        path
        for package in ("handler", "ml", "infra")
        for path in sorted((ROOT / package).rglob("*.py"))
        if not left_out_of_the_image(path.relative_to(ROOT).as_posix())
    ]
    # Then none imports tests/, which the image does not carry: by an import statement or by name
    found = violations(files, ("tests",))
    assert not found, found


def test_only_the_composition_root_and_entry_points_import_the_composition_root() -> None:
    others = [p for p in sorted(HANDLER.rglob("*.py")) if module_name(p) not in ENTRY_POINTS]
    others = [p for p in others if not _is_under(module_name(p), ("handler.wiring",))]
    found = violations(others, ("handler.wiring",))
    assert not found, found


def adapter_classes() -> set[str]:
    """The classes the adapters define (the things only the composition root builds)."""
    names = set()
    for path in layer_files("adapters"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                names.add(node.name)
    return names


def adapter_builds(path: Path, adapters: set[str]) -> list[tuple[int, str]]:
    """Where `path` calls one of the `adapters` classes: by its name (`DynamoDBStore(...)`) or through its module
    (`dynamodb.DynamoDBStore(...)`)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        called = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        if called in adapters:
            found.append((node.lineno, called))
    return found


def test_only_the_composition_root_builds_adapters() -> None:
    # Given every class an adapter module defines
    adapters = adapter_classes() - {"AnswerLost", "Answered"}  # exception types, raised where they happen
    assert {"DynamoDBStore", "SQLiteStore", "LambdaDispatcher", "LocalPoolDispatcher"} <= adapters
    # Then no module outside handler/wiring (and the adapters themselves) calls one of them
    found = [
        f"{path.relative_to(ROOT)}:{line} builds {called}"
        for path in sorted(HANDLER.rglob("*.py"))
        if not _is_under(module_name(path), ("handler.wiring", "handler.adapters"))
        for line, called in adapter_builds(path, adapters)
    ]
    assert not found, found


def test_the_builds_check_reports_an_adapter_built_by_name_or_through_its_module(tmp_path: Path) -> None:
    # Given a handler that builds the store itself, once imported by name and once through its module
    bad = tmp_path / "dialog.py"
    bad.write_text(
        "from handler.adapters import dynamodb\n"
        "from handler.adapters.dynamodb import DynamoDBStore\n"
        "store = DynamoDBStore(table)\n"
        "other = dynamodb.DynamoDBStore(table)\n"
    )
    # Then the check names both builds
    assert adapter_builds(bad, {"DynamoDBStore"}) == [(3, "DynamoDBStore"), (4, "DynamoDBStore")]


GATEWAY = HANDLER / "adapters" / "telegram_gateway.py"
# PTB's ways to call the Bot API past the port: a handler's `context.bot`, and the shortcuts of PTB's objects (a
# tapped query's answer and edits, a message's replies, a File's download).
SHORTCUTS = {"get_bot", "answer", "edit_message_text", "edit_message_reply_markup", "reply_text", "reply_photo"}
SHORTCUTS |= {"download_as_bytearray", "get_file", "send_message", "send_photo", "send_media_group"}


def bot_api_uses(path: Path) -> list[str]:
    """Where `path` reaches PTB's Bot itself (`context.bot`, `query.answer()`, ...) instead of the Telegram port."""
    return [
        f"{path.name}:{node.lineno} uses .{node.attr}"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute)
        and (
            node.attr in SHORTCUTS
            or (node.attr == "bot" and isinstance(node.value, ast.Name) and node.value.id == "context")
        )
    ]


def test_only_the_gateway_talks_to_telegram() -> None:
    # Given every module but the gateway
    others = [p for p in sorted(HANDLER.rglob("*.py")) if p != GATEWAY]
    # Then none imports PTB's errors or HTTP client, or httpx (the gateway alone retries and translates)
    found = violations(others, ("telegram.error", "telegram.request", "httpx"))
    # And none reaches the Bot itself: the handlers, the worker and the registration call the Telegram port
    found += [use for path in others for use in bot_api_uses(path)]
    assert not found, found


def test_the_telegram_check_reports_a_handler_that_calls_the_bot(tmp_path: Path) -> None:
    # Given a handler that answers through PTB's context, as the dialogue once did
    bad = tmp_path / "dialog.py"
    bad.write_text(
        "async def on_tap(update, context):\n"
        "    await update.callback_query.answer()\n"
        "    await context.bot.send_message(1, 'hi')\n"
    )
    # Then the check names both calls
    assert sorted(bot_api_uses(bad)) == [
        "dialog.py:2 uses .answer",
        "dialog.py:3 uses .bot",
        "dialog.py:3 uses .send_message",
    ]


def test_the_direction_check_reports_an_adapter_reaching_up(tmp_path: Path) -> None:
    # Given an adapter that imports the job runner (as the local pool once did)
    bad = tmp_path / "pool.py"
    bad.write_text("from handler.core.state import JobSpec\nfrom handler.jobs.runner import JobRunner\n")
    # Then the check names that import, and only that one
    assert sorted(n for n in imported_modules(bad) if _is_under(n, {*UPPER, *ENTRY_POINTS})) == [
        "handler.jobs.runner",
        "handler.jobs.runner.JobRunner",
    ]
