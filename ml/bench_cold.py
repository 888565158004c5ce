"""The worker's cold start: ``python -m ml.bench cold-start [--kinds quick preset best] [--repeats 2]``.

For each kind of job, a person runs the whole flow through the webhook (under the Lambda emulator, with the fake
Bot API and the DynamoDB-compatible server on loopback, as the end-to-end tests do), and the job goes to a
*fresh* worker execution environment: the emulator starts ``python -m awslambdaric handler.worker...``, whose
init phase imports torch, and the handler claims the job, downloads the pictures, loads the weights the job
needs and reports progress. Measured: from the moment the worker's environment is started to the first
progress edit the fake Bot API receives (and to the result). Weights are seeded random files in the official
layouts written to a temporary folder (on disk, usually in the page cache).

A development tool (it drives ``infra.local`` and ``tests.driver``): the worker never imports it, and the image
leaves the benchmarks out (``.dockerignore``).
"""

from __future__ import annotations

import argparse
import importlib
import io
import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

REPO = Path(__file__).resolve().parent.parent
TOKEN = "123456789:AAcold-start-bench-token-fake-api_00"  # noqa: S105 (the local fake API's)
KINDS = ("quick", "preset", "best")
#: Goals from a fresh process to the first progress edit, seconds.
GOALS = {"quick": 3.0, "preset": 3.0, "best": 6.0}


@dataclass
class Measured:
    kind: str
    first_edit_s: float | None = None
    result_s: float | None = None
    notes: list[str] = field(default_factory=list)


def _jpeg(path: Path, size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.open(path).convert("RGB").resize(size, Image.Resampling.BICUBIC).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


#: Imports the webhook's entry module in a fresh interpreter; prints the seconds it took.
WEBHOOK_PROBE = "import time; t = time.perf_counter(); import handler.webhook; print(time.perf_counter() - t)"
#: The webhook's cold import should take a fraction of a second (its init phase, before each cold update).
WEBHOOK_IMPORT_GOAL_S = 1.0


def webhook_import_line(runs: int = 5) -> str:
    """The webhook's cold import (`import handler.webhook` in a fresh interpreter, the Lambda init phase's main
    part): best and median of `runs`."""
    import subprocess
    import sys

    env = {**os.environ, "STATE_TABLE": "state", "WORKER_FUNCTION_NAME": "worker"}
    seconds = [
        float(subprocess.run([sys.executable, "-c", WEBHOOK_PROBE], cwd=REPO, env=env, capture_output=True,
                             check=True, text=True).stdout.strip())
        for _ in range(runs)
    ]  # fmt: skip
    from ml.bench import machine_tag

    return (
        f"webhook cold import: best {min(seconds):.2f} s, median {statistics.median(seconds):.2f} s of {runs} "
        f"(goal {WEBHOOK_IMPORT_GOAL_S:.0f} s), load {os.getloadavg()[0]:.2f} {machine_tag()}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ml.bench cold-start", description=__doc__.split("\n\n")[0])
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--repeats", type=int, default=2, help="fresh environments per kind")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args(argv)

    # The loopback stand-ins and the simulated person of the tests, loaded by name: they are development tools
    # outside the packages the type check covers (and boto3 must not become an import of ml/). The image leaves
    # this file out (.dockerignore), and the architecture test sees these imports by name.
    start_local_stack = importlib.import_module("infra.local.stack").start_local_stack
    EmulatorPool = importlib.import_module("infra.local.lambda_emulator").EmulatorPool
    Route = importlib.import_module("infra.local.lambda_service").Route
    Person = importlib.import_module("tests.driver").Person
    write_test_weights = importlib.import_module("tests.ml_helpers").write_test_weights
    from ml.bench import machine_line, machine_tag

    print(machine_line())
    print(f"load average at start: {os.getloadavg()[0]:.2f}", flush=True)
    print(webhook_import_line(), flush=True)
    stack = start_local_stack(TOKEN, "cold")
    telegram, lambdas, secret = stack.telegram, stack.lambdas, stack.secret
    weights = Path(tempfile.mkdtemp(prefix="stylebot-cold-"))
    manifest = write_test_weights(weights)
    function_env = stack.function_env | {"STYLEBOT_WEIGHTS_DIR": str(weights), "STYLEBOT_MANIFEST": str(manifest)}
    for name in ("STYLEBOT_BF16", "STYLEBOT_THREADS"):
        if name in os.environ:
            function_env[name] = os.environ[name]
    webhooks = EmulatorPool("WebhookFunction", function_env)
    started_at: list[float] = []

    class FreshWorker:
        """Every job in an environment of its own, started when the job's event arrives: a cold start."""

        def invoke(self, event: dict[str, Any]) -> Any:
            pool = EmulatorPool("WorkerFunction", function_env, timeout_seconds=int(args.timeout))
            started_at.append(time.monotonic())
            try:
                return pool.invoke(event)
            finally:
                pool.stop()

    lambdas.route("WorkerFunction", Route(FreshWorker().invoke, max_retries=0))
    cat = (REPO / "tests" / "fixtures" / "images" / "chelsea.png").read_bytes()
    brick = (REPO / "tests" / "fixtures" / "images" / "brick.png").read_bytes()
    photo_512 = _jpeg(REPO / "ml" / "assets" / "presets" / "preview_source.jpg", (512, 384))

    def run(kind: str, user_id: int) -> Measured:
        p = Person(webhooks, telegram, user_id, secret=secret)
        if kind == "preset":
            p.send("/styles")
            p.tap("Monet")
            p.send_photo(photo_512)
        else:
            p.send("/start")
            p.tap(p.t("btn_nst"))
            p.send_photo(cat)
            p.send_document(brick, "image/png", file_name="brick.png")
            if kind == "best":
                p.tap("⚡")
        before = len(started_at)
        p.tap(p.t("btn_start"))
        measured = Measured(kind)

        def first(calls: list[Any], predicate: Any) -> Any:
            return next((c for c in calls if c.chat_id == user_id and predicate(c)), None)

        try:
            calls = telegram.wait_for(
                lambda cs: first(cs, lambda c: c.method == "editMessageText" and "%" in (c.text or "")) is not None,
                timeout=args.timeout,
            )
            edit = first(calls, lambda c: c.method == "editMessageText" and "%" in (c.text or ""))
            assert edit is not None and len(started_at) > before
            measured.first_edit_s = edit.at - started_at[before]
            calls = telegram.wait_for(
                lambda cs: first(cs, lambda c: c.method in ("sendPhoto", "sendDocument")) is not None,
                timeout=args.timeout,
            )
            done = first(calls, lambda c: c.method in ("sendPhoto", "sendDocument"))
            assert done is not None
            measured.result_s = done.at - started_at[before]
        except (TimeoutError, AssertionError) as error:
            measured.notes.append(f"not measured: {error!r}")
        lambdas.wait_idle(timeout=args.timeout)
        return measured

    # Warm the webhook first: its cold start is not what is measured.
    Person(webhooks, telegram, 8_000_000, secret=secret).send("/help")
    rows: list[Measured] = []
    user = 8_100_000
    try:
        for kind in args.kinds:
            for _ in range(args.repeats):
                user += 1
                m = run(kind, user)
                rows.append(m)
                first_s = "-" if m.first_edit_s is None else f"{m.first_edit_s:.2f} s"
                result_s = "-" if m.result_s is None else f"{m.result_s:.1f} s"
                print(
                    f"{kind:<7} 512 px  fresh environment -> first progress edit {first_s:>8} "
                    f"(goal {GOALS[kind]:.0f} s)   -> result {result_s:>8}   load {os.getloadavg()[0]:.2f} "
                    f"{machine_tag()}" + ("   " + "; ".join(m.notes) if m.notes else ""),
                    flush=True,
                )
    finally:
        webhooks.stop()
        stack.stop()
    print()
    for kind in args.kinds:
        values = [m.first_edit_s for m in rows if m.kind == kind and m.first_edit_s is not None]
        if values:
            print(
                f"{kind:<7} first progress edit: median {statistics.median(values):.2f} s, best {min(values):.2f} s "
                f"of {len(values)} (goal {GOALS[kind]:.0f} s) {machine_tag()}"
            )
    print(machine_line())
    return 0
