"""Benchmark: ``python -m ml.bench [--sizes 256 512] [--naive-evals 300]``.

``python -m ml.bench presets [--quick]`` benchmarks the preset generators (see :mod:`ml.bench_presets`).

Prints, for each size (long side) on this machine: wall time and peak RSS of *quick* (MicroAST) and *best*
(our NST) in fp32 and, where the CPU has it natively, bf16; and, in the same run and on the same VGG weights,
the naive baseline (L-BFGS at full size, fp32, from the content image, last iterate; it gets the channels_last
layout too, which only makes it faster). Every NST result is scored with the same objective: the fp32 NST loss
at full size of the delivered image (clamped to [0, 1]); the naive run's own last optimiser loss (on unclamped
pixels) is shown as well.

Each measurement runs in a fresh subprocess so that its peak RSS is its own (it includes the interpreter and
torch, about 0.3-0.4 GB). Uses torchvision's real VGG19 weights if ``python -m ml weights fetch vgg19`` has
been run, else seeded random weights in the same layout (reported in the output).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CONTENT = REPO / "tests" / "fixtures" / "images" / "chelsea.png"
DEFAULT_STYLE = REPO / "tests" / "fixtures" / "images" / "brick.png"


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024.0 if sys.platform != "darwin" else peak / (1024.0 * 1024.0)


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _worker(spec: dict[str, Any]) -> dict[str, Any]:
    import torch

    from ml import device, imageio, weights
    from ml.errors import WeightsError
    from ml.microast import load_microast, run_microast
    from ml.nst import STYLE_WEIGHT, NSTConfig, Objective, evaluate_loss, run_nst
    from ml.vgg import VGG19Features, load_vgg19_features, seeded_random_state_dict

    threads = device.configure_threads()
    size = int(spec["size"])
    content = imageio.to_tensor(imageio.resize_long_side(imageio.open_image(Path(spec["content"])), size))
    style = imageio.to_tensor(imageio.resize_long_side(imageio.open_image(Path(spec["style"])), size))
    bf16 = bool(spec.get("bf16", False))
    out: dict[str, Any] = {**spec, "threads": threads, "hw": list(content.shape[-2:])}
    if bf16 and not device.native_bf16_supported():
        return {**out, "skipped": "no native bf16 on this CPU"}

    t0 = time.perf_counter()
    microast = load_microast()
    if spec["mode"] == "quick":
        out["load_s"] = time.perf_counter() - t0
        times, cpu = [], []
        for _ in range(int(spec.get("repeats", 3)) + 1):
            t, c = time.perf_counter(), _cpu_s()
            run_microast(microast, content, style, 1.0, bf16=bf16)
            times.append(time.perf_counter() - t)
            cpu.append(_cpu_s() - c)
        out["first_s"] = times[0]
        out["wall_s"] = statistics.median(times[1:])
        out["cpu_s"] = statistics.median(cpu[1:])
        out["peak_rss_mb"] = _peak_rss_mb()
        return out

    try:
        weights.resolve("vgg19")
        vgg = load_vgg19_features()
        out["vgg"] = "torchvision vgg19-dcbb9e9d.pth"
    except WeightsError:
        vgg = VGG19Features()
        vgg.load_torchvision_state_dict(seeded_random_state_dict(0))
        vgg = vgg.eval().requires_grad_(False)
        out["vgg"] = "seeded random (seed 0), torchvision layout"
    out["load_s"] = time.perf_counter() - t0

    if spec["mode"] == "naive":
        config = NSTConfig.naive(int(spec["evals"][0]))
    else:
        config = NSTConfig(evals=tuple(spec["evals"]), bf16=bf16)
    torch.manual_seed(0)
    t, c = time.perf_counter(), _cpu_s()
    result = run_nst(
        vgg,
        content,
        style,
        config=config,
        warm_start=lambda c, s: run_microast(microast, c, s, 1.0),  # fp32, as the product does
    )
    out["wall_s"] = time.perf_counter() - t
    out["cpu_s"] = _cpu_s() - c
    out["peak_rss_mb"] = _peak_rss_mb()
    out["evaluations"] = result.evaluations
    out["dtype"] = str(result.dtype).replace("torch.", "")
    out["optimiser_loss"] = result.loss
    scorer = Objective(vgg, content, style, style_weight=STYLE_WEIGHT, dtype=torch.float32)
    out["final_loss"] = evaluate_loss(scorer, result.image)
    out["content_loss"] = evaluate_loss(scorer, content)
    return out


def _spawn(spec: dict[str, Any]) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run(
        [sys.executable, "-m", "ml.bench", "--worker", json.dumps(spec)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        return {**spec, "error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _row(r: dict[str, Any]) -> str:
    name = f"{r['mode']}{' bf16' if r.get('bf16') else ' fp32'}"
    if "error" in r or "skipped" in r:
        return f"  {name:<11} {r.get('error') or r.get('skipped')}"
    text = f"  {name:<11} wall {r['wall_s']:7.2f} s   CPU {r.get('cpu_s', float('nan')):7.2f} s"
    text += f"   peak RSS {r['peak_rss_mb'] / 1024:5.2f} GB"
    if r["mode"] == "quick":
        text += f"   (first call {r['first_s']:.2f} s)"
    else:
        text += f"   evals {r['evaluations']:>3} {tuple(r['evals'])}   final loss {r['final_loss']:.4f}"
        if r["mode"] == "naive":
            text += f" (optimiser's last {r['optimiser_loss']:.4f})"
    return text


def main(argv: list[str] | None = None) -> int:
    args_in = sys.argv[1:] if argv is None else argv
    if args_in[:1] == ["presets"]:  # the preset generators' benchmark: ml/bench_presets.py
        from ml.bench_presets import main as presets_main

        return presets_main(args_in[1:])
    argv = args_in
    parser = argparse.ArgumentParser(prog="python -m ml.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--content", type=Path, default=DEFAULT_CONTENT)
    parser.add_argument("--style", type=Path, default=DEFAULT_STYLE)
    parser.add_argument("--naive-evals", type=int, default=300)
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--evals", type=str, default=None, help="our NST's evals per level, e.g. 40,45")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--worker", type=str, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker is not None:
        print(json.dumps(_worker(json.loads(args.worker))))
        return 0

    from ml import device
    from ml.nst import NSTConfig

    evals = [int(v) for v in args.evals.split(",")] if args.evals else list(NSTConfig().evals)
    print(f"CPUs available: {device.available_cpus()}, native bf16: {device.native_bf16_supported()}, "
          f"load average at start: {os.getloadavg()[0]:.2f}")  # fmt: skip
    print(f"content {args.content.name}, style {args.style.name}")
    results: list[dict[str, Any]] = []
    for size in args.sizes:
        base = {"size": size, "content": str(args.content), "style": str(args.style)}
        specs: list[dict[str, Any]] = [
            {**base, "mode": "quick", "bf16": False},
            {**base, "mode": "quick", "bf16": True},
            {**base, "mode": "best", "bf16": False, "evals": evals},
            {**base, "mode": "best", "bf16": True, "evals": evals},
        ]
        if not args.skip_naive:
            specs.append({**base, "mode": "naive", "bf16": False, "evals": [args.naive_evals]})
        rows = []
        for spec in specs:
            r = _spawn(spec)
            results.append(r)
            rows.append(r)
        first = next((r for r in rows if "hw" in r), None)
        hw = f"{first['hw'][1]}x{first['hw'][0]}" if first else "?"
        vgg = next((r["vgg"] for r in rows if "vgg" in r), "?")
        print(f"\nsize {size} (content {hw}), VGG weights: {vgg}, load average {os.getloadavg()[0]:.2f}")
        for r in rows:
            print(_row(r))
        naive = next((r for r in rows if r["mode"] == "naive" and "wall_s" in r), None)
        if naive is not None:
            for r in rows:
                if r["mode"] == "best" and "wall_s" in r:
                    dtype = "bf16" if r.get("bf16") else "fp32"
                    print(f"  best {dtype} vs naive: {naive['wall_s'] / r['wall_s']:.1f}x faster, final loss "
                          f"{r['final_loss']:.4f} vs {naive['final_loss']:.4f}")  # fmt: skip
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
