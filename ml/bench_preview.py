"""The preview strip's latency: ``python -m ml.bench preview [--repeats 5]``.

Two measurements of the strip for a 512 px photo (the preset previews' sample photo at 512x384, the brick texture
as the style):

* the engine alone, in this process: the photo's and the style's bytes in, the strip's JPEG out (decoding, three
  MicroAST strengths from one encoding, labels, encoding), after one warm-up run;
* the whole path, as a user waits for it: from the tap on "👀 Preview" to the strip reaching the fake Bot API,
  through the webhook and the worker under the Lambda emulator (with the fake Bot API and the DynamoDB-compatible
  server on loopback, as the end-to-end tests run them). The first strip starts a worker (a cold start, torch
  imported); the next ones find it warm.

A development tool (it drives ``infra.local`` and ``tests.driver``); the worker never imports it.
"""

from __future__ import annotations

import argparse
import importlib
import io
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from PIL import Image

REPO = Path(__file__).resolve().parent.parent
TOKEN = "123456789:AApreview-bench-token-fake-api_000"  # noqa: S105 (the local fake API's)
GOAL_SECONDS = 2.0


def _photo_512() -> bytes:
    buffer = io.BytesIO()
    source = Image.open(REPO / "ml" / "assets" / "presets" / "preview_source.jpg").convert("RGB")
    source.resize((512, 384), Image.Resampling.BICUBIC).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _engine_seconds(photo: bytes, style: bytes, repeats: int) -> list[float]:
    # The worker's engine, loaded by name as the other development tools are: ml/ does not import the bot.
    MLEngine = importlib.import_module("handler.adapters.ml_engine").MLEngine
    Job = importlib.import_module("handler.core.job").Job
    job = Job.model_validate(
        {"job_id": "previewbench0001", "user_id": 1, "chat_id": 1, "kind": "nst", "content_file_id": "P",
         "style_file_id": "S", "preview": True, "quality": "quick", "size": 512, "strength": "high",
         "keep_colors": False, "as_file": False, "language": "en"}
    )  # fmt: skip
    engine = MLEngine()
    engine.preview(job, photo, style)  # warm-up: torch, the weights, the kernels
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        strip = engine.preview(job, photo, style)
        times.append(time.perf_counter() - started)
    width = Image.open(io.BytesIO(strip)).width
    assert width <= 768, width
    return times


def _path_seconds(photo: bytes, style: bytes, repeats: int) -> list[float]:
    start_local_stack = importlib.import_module("infra.local.stack").start_local_stack
    EmulatorPool = importlib.import_module("infra.local.lambda_emulator").EmulatorPool
    Route = importlib.import_module("infra.local.lambda_service").Route
    Person = importlib.import_module("tests.driver").Person
    write_test_weights = importlib.import_module("tests.ml_helpers").write_test_weights

    stack = start_local_stack(TOKEN, "preview")
    weights = Path(tempfile.mkdtemp(prefix="stylebot-preview-"))
    manifest = write_test_weights(weights)
    env = stack.function_env | {"STYLEBOT_WEIGHTS_DIR": str(weights), "STYLEBOT_MANIFEST": str(manifest)}
    for name in ("STYLEBOT_BF16", "STYLEBOT_THREADS"):
        if name in os.environ:
            env[name] = os.environ[name]
    webhooks = EmulatorPool("WebhookFunction", env)
    workers = EmulatorPool("WorkerFunction", env, timeout_seconds=300)
    stack.lambdas.route("WorkerFunction", Route(workers.invoke, max_retries=0))
    telegram = stack.telegram
    times = []
    try:
        Person(webhooks, telegram, 9_000_000, secret=stack.secret).send("/help")  # the webhook warm
        for n in range(repeats + 1):
            user_id = 9_100_000 + n
            p = Person(webhooks, telegram, user_id, secret=stack.secret)
            p.send("/start")
            p.tap(p.t("btn_nst"))
            p.send_photo(photo)
            p.send_document(style, "image/png", file_name="style.png")
            tapped = time.monotonic()
            p.tap(p.t("btn_preview"))

            def strip(calls: list[Any], user: int = user_id) -> Any:
                return next((c for c in calls if c.chat_id == user and c.method == "sendPhoto"), None)

            arrived = strip(telegram.wait_for(lambda calls: strip(calls) is not None, timeout=300))
            times.append(arrived.at - tapped)
            stack.lambdas.wait_idle(timeout=300)
    finally:
        webhooks.stop()
        workers.stop()
        stack.stop()
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ml.bench preview", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--engine-only", action="store_true", help="skip the whole path under the emulator")
    args = parser.parse_args(argv)
    from ml.bench import machine_line, machine_tag

    print(machine_line())
    print(f"load average at start: {os.getloadavg()[0]:.2f}", flush=True)
    photo = _photo_512()
    style = (REPO / "tests" / "fixtures" / "images" / "brick.png").read_bytes()
    engine = _engine_seconds(photo, style, args.repeats)
    print(
        f"engine, 512 px photo -> strip: median {statistics.median(engine):.2f} s, best {min(engine):.2f} s "
        f"of {len(engine)}   load {os.getloadavg()[0]:.2f} {machine_tag()}",
        flush=True,
    )
    if not args.engine_only:
        path = _path_seconds(photo, style, args.repeats)
        cold, warm = path[0], path[1:]
        print(
            f"tap -> strip at the Bot API: cold worker {cold:.2f} s; warm median {statistics.median(warm):.2f} s, "
            f"best {min(warm):.2f} s, worst {max(warm):.2f} s of {len(warm)} (goal {GOAL_SECONDS:.0f} s)   "
            f"load {os.getloadavg()[0]:.2f} {machine_tag()}"
        )
    print(machine_line())
    return 0
