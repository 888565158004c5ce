"""Benchmark of the preset generators: ``python -m ml.bench presets [--quick]``.

1. Per preset, a 512 px photo (512 x 384): eager float32 vs float32 channels_last vs the chosen path
   (bfloat16 + channels_last where the CPU has native bf16), best of a few runs after a warm-up, and how far
   the chosen path's output is from float32's (max / mean absolute difference in 0..255 grey levels).
2. A 12-megapixel photo (4000 x 3000) from photo to styled photo as ``presets.apply`` runs it (tensor in,
   statistics pass, tiles, picture out), per architecture, each in a fresh process: wall and CPU time, peak RSS
   (``ru_maxrss``; the goal is 3 GB), and the seam metrics: the disagreement of neighbouring tiles where they
   are blended (grey levels; what a seam would show) and the gradient energy on tile boundaries over the
   image's average (for the result, and for the input photo as the baseline of that content).
   ``--large`` runs this part alone.
3. A 1600 x 1200 photo tiled vs untiled with the production settings (statistics from a 1.7 MP pass).

Real weights are used where present (``STYLEBOT_WEIGHTS_DIR``); otherwise seeded random weights in the
official layouts (timings and memory do not depend on the values; output differences do).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import torch
from PIL import Image

from ml import device, presets, registry
from ml.errors import WeightsError
from ml.imageio import open_image, to_tensor
from ml.tiling import seam_ratio, tile_grid

SAMPLE = presets.PREVIEW_SOURCE


def _random_state(architecture: str) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    state = {}
    for key, value in presets.ARCHITECTURES[architecture]().state_dict().items():
        if value.dim() > 1:
            state[key] = torch.randn(value.shape, generator=gen) * (2.0 / value[0].numel()) ** 0.5
        else:
            base = 1.0 if key.endswith("weight") else 0.0
            state[key] = base + 0.1 * torch.randn(value.shape, generator=gen)
    return state


def _state(preset: registry.Preset) -> tuple[dict[str, torch.Tensor], str]:
    from ml import weights

    try:
        return weights.load_state_dict(preset.weights), "real"
    except WeightsError:
        return _random_state(preset.architecture), "random"


def _machine_tag() -> str:
    from ml.bench import machine_tag

    return machine_tag()


def _photo_image(width: int, height: int) -> Image.Image:
    """The bundled sample photo, resized (upscaled for 12 MP) to width x height."""
    return open_image(SAMPLE).resize((width, height), Image.Resampling.BICUBIC)


def _photo(width: int, height: int) -> torch.Tensor:
    return to_tensor(_photo_image(width, height))


def _best(gen: presets.LoadedGenerator, x: torch.Tensor, runs: int) -> tuple[float, float, torch.Tensor]:
    """Best wall time, best process CPU time (all threads; robust on a loaded machine), last output."""
    with torch.inference_mode():
        out = gen(x)  # warm-up (oneDNN primitive creation)
        walls, cpus = [], []
        for _ in range(runs):
            start, cpu = time.perf_counter(), time.process_time()
            out = gen(x)
            walls.append(time.perf_counter() - start)
            cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus), out


def bench_512(runs: int) -> list[dict[str, object]]:
    x = _photo(512, 384)
    chosen = device.compute_dtype()
    rows = []
    states: dict[str, tuple[dict[str, torch.Tensor], str]] = {}
    for p in registry.available():
        states[p.id] = _state(p)
        state, kind = states[p.id]
        fp32 = presets.build_generator(p.architecture, state, dtype=torch.float32, channels_last=False)
        fp32_cl = presets.build_generator(p.architecture, state, dtype=torch.float32, channels_last=True)
        best = presets.build_generator(p.architecture, state, dtype=chosen, channels_last=True, nnpack=None)
        t32, c32, y32 = _best(fp32, x, runs)
        t32cl, _, _ = _best(fp32_cl, x, runs)
        tb, cb, yb = _best(best, x, runs)
        diff = (yb - y32).abs() * 255
        rows.append(
            {
                "preset": p.id,
                "weights": kind,
                "fp32_s": round(t32, 3),
                "fp32_channels_last_s": round(t32cl, 3),
                "chosen": f"{str(chosen).removeprefix('torch.')}+{'nnpack' if best.nnpack else 'channels_last'}",
                "chosen_s": round(tb, 3),
                "fp32_cpu_s": round(c32, 3),
                "chosen_cpu_s": round(cb, 3),
                "diff_max": round(float(diff.max()), 2),
                "diff_mean": round(float(diff.mean()), 3),
                "cpu": _machine_tag(),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


#: The goal for a 12-megapixel preset's peak RSS (issue: presets on CPUs without bf16).
LARGE_PEAK_RSS_GOAL_MB = 3 * 1024


def bench_large(preset_id: str, width: int, height: int) -> dict[str, object]:
    """Run in a fresh process (see main): time, peak RSS and seam metrics of one large photo, photo to photo."""
    device.configure_threads()
    p = registry.get_preset(preset_id, include_noncommercial=True)
    state, kind = _state(p)
    gen = presets.build_generator(p.architecture, state, dtype=device.compute_dtype(), channels_last=True, nnpack=None)
    del state
    photo = _photo_image(width, height)
    tiling = presets.Tiling()
    disagreement: list[float] = []
    start, cpu = time.perf_counter(), time.process_time()
    result = presets.apply_generator(gen, photo, tiling=tiling, disagreement=disagreement)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    grid = tile_grid(height, width, tiling.tile, tiling.overlap, gen.model.size_multiple)
    return {
        "preset": preset_id,
        "weights": kind,
        "size": f"{width}x{height}",
        "tiles": grid.count,
        "seconds": round(elapsed, 1),
        "cpu_seconds": round(cpu, 1),
        "peak_rss_mb": round(peak_mb),
        "peak_rss_goal_mb": LARGE_PEAK_RSS_GOAL_MB,
        "tile_disagreement_max": round(max(disagreement), 2) if disagreement else 0.0,
        "tile_disagreement_mean": round(sum(disagreement) / len(disagreement), 3) if disagreement else 0.0,
        "seam_gradient_ratio": round(seam_ratio(to_tensor(result), grid), 3),
        "seam_gradient_ratio_of_input": round(seam_ratio(to_tensor(photo), grid), 3),
        "path": f"{str(gen.dtype).removeprefix('torch.')}{'+nnpack' if gen.nnpack else ''}",
        "threads": torch.get_num_threads(),
        "load_average": [round(v, 2) for v in os.getloadavg()],
        "cpu": _machine_tag(),
    }


def _large_line(r: dict[str, object]) -> str:
    peak, goal = r["peak_rss_mb"], r["peak_rss_goal_mb"]
    assert isinstance(peak, int) and isinstance(goal, int)
    verdict = "met" if peak <= goal else "NOT met"
    return (
        f"  {r['preset']} {r['size']} ({r['path']}, {r['tiles']} tiles, {r['threads']} threads): "
        f"peak RSS {peak / 1024:.2f} GB (goal <= {goal / 1024:.0f} GB: {verdict}), "
        f"wall {r['seconds']} s, CPU {r['cpu_seconds']} s, load {r['load_average']} {r['cpu']}"
    )


def bench_tiled_vs_untiled(preset_id: str, width: int, height: int) -> dict[str, object]:
    device.configure_threads()
    p = registry.get_preset(preset_id, include_noncommercial=True)
    state, kind = _state(p)
    gen = presets.build_generator(p.architecture, state, dtype=device.compute_dtype(), channels_last=True, nnpack=None)
    image = _photo(width, height)
    untiled = presets.run_generator(gen, image, tiling=presets.Tiling(max_untiled_pixels=10**9))
    tiled = presets.run_generator(gen, image, tiling=presets.Tiling(max_untiled_pixels=0))
    diff = (tiled - untiled).abs() * 255
    return {
        "preset": preset_id,
        "weights": kind,
        "size": f"{width}x{height}",
        "tiled_vs_untiled_max": round(float(diff.max()), 2),
        "tiled_vs_untiled_mean": round(float(diff.mean()), 3),
    }


def _in_subprocess(*args: str) -> dict[str, object]:
    cmd = [sys.executable, "-m", "ml.bench_presets", "--child", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ml.bench presets")
    parser.add_argument("--quick", action="store_true", help="fewer runs; skip the 12 MP and 2 MP parts")
    parser.add_argument("--large", action="store_true", help="only the 12 MP runs (time, peak RSS, seams)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        what, preset_id, w, h = args.child
        fn = bench_large if what == "large" else bench_tiled_vs_untiled
        print(json.dumps(fn(preset_id, int(w), int(h))))
        return 0
    threads = device.configure_threads()
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    from ml.bench import machine_line

    print(f"# {machine_line()}")
    print(f"# torch {torch.__version__}, {threads} threads, load average {load}")
    if not args.large:
        print("## 512 x 384, seconds per image (best of runs)")
        bench_512(1 if args.quick else args.runs)
    if args.quick:
        return 0
    print("## 12 MP (4000 x 3000), photo to styled photo, tiled, fresh process each")
    for preset_id in ("monet", "cartoon_face"):
        large = _in_subprocess("large", preset_id, "4000", "3000")
        print(json.dumps(large), flush=True)
        print(_large_line(large), flush=True)
    if args.large:
        return 0
    print("## 1600 x 1200: tiled (production settings) vs untiled, grey levels")
    for preset_id in ("monet", "cartoon_face"):
        print(json.dumps(_in_subprocess("pair", preset_id, "1600", "1200")), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
