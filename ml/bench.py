"""Benchmark: ``python -m ml.bench [--sizes 512] [--pairs chelsea:brick ...] [--naive-evals 300] [--frontier]``.

``python -m ml.bench presets [--quick]`` benchmarks the preset generators (see :mod:`ml.bench_presets`);
``python -m ml.bench cold-start`` the worker's cold start (see :mod:`ml.bench_cold`);
``python -m ml.bench preview`` the preview strip's latency (see :mod:`ml.bench_preview`).

Prints the CPU (model, widest vector ISA, whether bf16 is native, absent or forced by ``STYLEBOT_BF16``) and,
for each content/style pair and size (long side): wall time and peak RSS of *quick* (MicroAST) and *best* (our
NST) on the path this machine takes (bf16 where native, else fp32, through NNPACK where that is faster: see
:mod:`ml.fastconv`), the plain fp32 path with ``--compare``, and, in the same run and on the same VGG weights,
the naive baseline (L-BFGS at full size, fp32, from the content image, last iterate; it gets the channels_last
layout too, which only makes it faster). Every NST result is scored with the same objective: the fp32 NST loss
at full size of the delivered image (clamped to [0, 1]), computed with plain fp32 convolutions; the naive run's
own last optimiser loss (on unclamped pixels) is shown as well. ``--frontier`` adds one run whose last level is
long and prints time against loss along it: every shorter final level is a prefix of it (L-BFGS without a line
search makes one evaluation per step).

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
FIXTURES = REPO / "tests" / "fixtures" / "images"
#: The content/style pairs measured by default: two photos with textures, two with famous paintings.
DEFAULT_PAIRS = ("chelsea:brick", "astronaut:gravel", "coffee:starry_night", "rocket:the_great_wave")
#: Images by short name (files in tests/fixtures/images, plus the bundled preset preview photo).
IMAGES = {
    "chelsea": FIXTURES / "chelsea.png",
    "brick": FIXTURES / "brick.png",
    "gravel": FIXTURES / "gravel.png",
    "coffee": FIXTURES / "coffee.jpg",
    "rocket": FIXTURES / "rocket.jpg",
    "starry_night": FIXTURES / "starry_night.jpg",
    "the_great_wave": FIXTURES / "the_great_wave.jpg",
    "astronaut": REPO / "ml" / "assets" / "presets" / "preview_source.jpg",
}
#: Final-level evaluations of the ``--frontier`` run (the coarser levels as in the default schedule).
FRONTIER_FINAL_EVALS = 100
FRONTIER_POINTS = (10, 20, 30, 40, 50, 60, 70, 80, 100)


def _image(name: str) -> Path:
    path = Path(name)
    if path.suffix and path.is_file():
        return path
    if name not in IMAGES:
        raise SystemExit(f"unknown image {name!r}: one of {', '.join(IMAGES)} or a file path")
    return IMAGES[name]


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024.0 if sys.platform != "darwin" else peak / (1024.0 * 1024.0)


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cpu_name() -> str:
    """The CPU's model name (from ``/proc/cpuinfo``; the platform's processor string elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip() == "model name":
                return value.strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()


def machine_line() -> str:
    """One line naming the CPU and the paths it takes: printed with every figure of the benchmarks."""
    from ml import device, fastconv

    isa = device.vector_isa()
    bf16 = device.bf16_mode()
    fp32 = "fp32 via NNPACK" if fastconv.nnpack_wanted() else "fp32 via oneDNN"
    path = "bf16" if device.native_bf16_supported() else fp32
    return f"CPU {cpu_name()}, {device.available_cpus()} CPUs, vector ISA {isa}, bf16 {bf16}; best quality runs {path}"


def machine_tag() -> str:
    """The short form of :func:`machine_line`, for every row: ``[avx2, bf16 absent]``."""
    from ml import device

    return f"[{device.vector_isa()}, bf16 {device.bf16_mode()}]"


def _path_label(r: dict[str, Any]) -> str:
    if r.get("dtype") == "bfloat16":
        return "bf16"
    return "fp32+nnpack" if r.get("nnpack") else "fp32"


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
        out["dtype"] = "bfloat16" if bf16 else "float32"
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
        nnpack = spec.get("nnpack")
        config = NSTConfig(evals=tuple(spec["evals"]), bf16=bf16 or None, nnpack=nnpack)
        if not bf16 and spec.get("fp32"):
            config = NSTConfig(evals=tuple(spec["evals"]), bf16=False, nnpack=nnpack)
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
    out["nnpack"] = result.nnpack
    out["optimiser_loss"] = result.loss
    out["level_sizes"] = result.level_sizes
    if spec.get("frontier"):
        final_evals = int(spec["evals"][-1])
        last = result.history[-final_evals:]
        last_t = result.times[-final_evals:]
        last_cpu = result.cpu_times[-final_evals:]
        points = []
        best = float("inf")
        for k, (loss, seconds, cpu_seconds) in enumerate(zip(last, last_t, last_cpu, strict=True), start=1):
            best = min(best, loss)
            if k in FRONTIER_POINTS or k == final_evals:
                points.append({"final_evals": k, "seconds": seconds, "cpu_seconds": cpu_seconds, "loss": best})
        out["frontier"] = points
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
    result["load_after"] = os.getloadavg()[0]
    return result


def _row(r: dict[str, Any]) -> str:
    name = r["mode"] if r["mode"] != "best" or not r.get("frontier") else "frontier"
    name = f"{name} {_path_label(r)}" if "error" not in r and "skipped" not in r else name
    if "error" in r or "skipped" in r:
        return f"  {name:<19} {r.get('error') or r.get('skipped')} {machine_tag()}"
    text = f"  {name:<19} wall {r['wall_s']:7.2f} s   CPU {r.get('cpu_s', float('nan')):7.2f} s"
    text += f"   peak RSS {r['peak_rss_mb'] / 1024:5.2f} GB"
    if r["mode"] == "quick":
        text += f"   (first call {r['first_s']:.2f} s)"
    else:
        text += f"   evals {r['evaluations']:>3} {tuple(r['evals'])}   final loss {r['final_loss']:.4f}"
        if r["mode"] == "naive":
            text += f" (optimiser's last {r['optimiser_loss']:.4f})"
    load = f"   {r.get('threads', '?')} threads, load {r['load_after']:.2f}" if "load_after" in r else ""
    return f"{text}{load}   {machine_tag()}"


def _frontier_lines(r: dict[str, Any], naive_loss: float | None = None) -> list[str]:
    """Time against loss along the frontier run; with the naive run's loss, each point's margin over it."""
    coarse = tuple(r["evals"][:-1])
    lines = [f"  frontier ({_path_label(r)}; coarser levels {coarse}; optimiser's best loss, unclamped):"]
    for p in r["frontier"]:
        cpu = p.get("cpu_seconds", float("nan"))
        line = f"    final level {p['final_evals']:>3} evals: {p['seconds']:6.1f} s (CPU {cpu:6.1f} s)"
        line += f"  loss {p['loss']:.4f}"
        if naive_loss:
            line += f"  ({(naive_loss - p['loss']) / naive_loss * 100:+.1f} % margin over naive)"
        lines.append(line)
    return lines


def main(argv: list[str] | None = None) -> int:
    args_in = sys.argv[1:] if argv is None else argv
    if args_in[:1] == ["presets"]:  # the preset generators' benchmark: ml/bench_presets.py
        from ml.bench_presets import main as presets_main

        return presets_main(args_in[1:])
    if args_in[:1] == ["preview"]:  # the preview strip's latency: ml/bench_preview.py
        from ml.bench_preview import main as preview_main

        return preview_main(args_in[1:])
    if args_in[:1] == ["cold-start"]:  # the worker's cold start: ml/bench_cold.py
        from ml.bench_cold import main as cold_main

        return cold_main(args_in[1:])
    argv = args_in
    parser = argparse.ArgumentParser(prog="python -m ml.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[512])
    parser.add_argument("--pairs", nargs="+", default=list(DEFAULT_PAIRS), help="content:style, short names or paths")
    parser.add_argument("--naive-evals", type=int, default=300)
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--skip-quick", action="store_true")
    parser.add_argument(
        "--skip-default", action="store_true", help="with --frontier: not the default schedule's own run (the "
        "frontier run has the same coarser levels; its point at the default's last-level evaluations stands for it)",
    )  # fmt: skip
    parser.add_argument("--compare", action="store_true", help="also best on plain fp32 (oneDNN), and bf16")
    parser.add_argument("--frontier", action="store_true", help="also time against loss along a long last level")
    parser.add_argument("--evals", type=str, default=None, help="our NST's evals per level, e.g. 20,30,20,50")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--worker", type=str, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker is not None:
        print(json.dumps(_worker(json.loads(args.worker))))
        return 0

    from ml import device
    from ml.nst import NSTConfig

    evals = [int(v) for v in args.evals.split(",")] if args.evals else list(NSTConfig().evals)
    native = device.native_bf16_supported()
    machine = machine_line()
    print(machine)
    print(f"load average at start: {os.getloadavg()[0]:.2f}", flush=True)
    results: list[dict[str, Any]] = []
    for pair in args.pairs:
        content_name, _, style_name = pair.partition(":")
        content, style = _image(content_name), _image(style_name)
        for size in args.sizes:
            base = {"size": size, "content": str(content), "style": str(style), "pair": pair}
            specs: list[dict[str, Any]] = []
            if not args.skip_quick:
                specs.append({**base, "mode": "quick", "bf16": False})
                if native:
                    specs.append({**base, "mode": "quick", "bf16": True})
            if not (args.skip_default and args.frontier):
                specs.append({**base, "mode": "best", "bf16": native, "evals": evals})
            if args.compare:
                if native:
                    specs.append({**base, "mode": "best", "bf16": False, "fp32": True, "evals": evals})
                specs.append({**base, "mode": "best", "bf16": False, "fp32": True, "nnpack": False, "evals": evals})
            if args.frontier:
                long_evals = [*evals[:-1], FRONTIER_FINAL_EVALS]
                specs.append({**base, "mode": "best", "bf16": native, "evals": long_evals, "frontier": True})
            if not args.skip_naive:
                specs.append({**base, "mode": "naive", "bf16": False, "evals": [args.naive_evals]})
            print(f"\n{pair}, size {size}, load average {os.getloadavg()[0]:.2f}", flush=True)
            rows = []
            for spec in specs:
                r = _spawn(spec)
                results.append(r)
                rows.append(r)
                print(_row(r), flush=True)
            naive_loss = next((r["final_loss"] for r in rows if r["mode"] == "naive" and "final_loss" in r), None)
            for r in rows:
                if r.get("frontier") and "frontier" in r:
                    print("\n".join(_frontier_lines(r, naive_loss)), flush=True)
            first = next((r for r in rows if "hw" in r), None)
            hw = f"{first['hw'][1]}x{first['hw'][0]}" if first else "?"
            vgg = next((r["vgg"] for r in rows if "vgg" in r), "?")
            print(f"  (content {hw}, VGG weights: {vgg}, load average now {os.getloadavg()[0]:.2f})")
            naive = next((r for r in rows if r["mode"] == "naive" and "wall_s" in r), None)
            if naive is not None:
                for r in rows:
                    if r["mode"] == "best" and "wall_s" in r and not r.get("frontier"):
                        margin = (naive["final_loss"] - r["final_loss"]) / naive["final_loss"] * 100
                        print(f"  best {_path_label(r)} vs naive: {naive['wall_s'] / r['wall_s']:.1f}x faster, "
                              f"final loss {r['final_loss']:.4f} vs {naive['final_loss']:.4f} "
                              f"({margin:+.1f} % margin)")  # fmt: skip
    print(f"\n{machine}; load average at the end: {os.getloadavg()[0]:.2f}")
    if args.json is not None:
        args.json.write_text(json.dumps({"machine": machine, "results": results}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
