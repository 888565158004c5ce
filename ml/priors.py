"""How long a job takes, before it starts: the benchmarks' figures as priors, per kind, size and compute path.

The conversation can quote them before a job runs ("about a minute") and the first progress report carries one
as its time left. Figures are seconds of model work on two cores (the worker's own start, downloads and
uploads not included; see :data:`COLD_START_SECONDS`), measured with ``python -m ml.bench`` (best, quick) and
``python -m ml.bench presets`` at 512 px; other sizes scale with the pixel count (the work of every model here is
proportional to it). Lambda gives the worker more cores, so in AWS these are upper bounds.

Paths (:func:`current_path`): ``"bf16"`` where the CPU has native bf16, ``"fp32+nnpack"`` on AVX2 CPUs (NNPACK's
Winograd/FFT convolutions, :mod:`ml.fastconv`), ``"fp32"`` elsewhere (oneDNN).
"""

from __future__ import annotations

import platform
import sys
from typing import Literal

Kind = Literal["quick", "best", "preset"]
ComputePath = Literal["bf16", "fp32+nnpack", "fp32"]

#: The size the table's figures were measured at (long side, px) and the photo's shape then (long side / short).
REFERENCE_SIZE = 512
REFERENCE_ASPECT = 1.5
#: *quick* never runs below this size (it stylises at 512 px and scales down): no saving under it.
QUICK_MIN_SIZE = 512

#: Seconds at :data:`REFERENCE_SIZE` (a 3:2 photo, 512x341; a square one has 1.5x the pixels) on two cores, per
#: kind (presets: per architecture) and path. bf16: the 2-core avx512_bf16 development machine, quiet; fp32+nnpack
#: and fp32: a 2-core AMD EPYC (Zen 3) with AVX2 only, shared with other jobs (a quiet one is up to 1.7x faster).
SECONDS_AT_512: dict[str, dict[ComputePath, float]] = {
    "quick": {"bf16": 0.19, "fp32+nnpack": 0.3, "fp32": 0.3},
    "best": {"bf16": 55.0, "fp32+nnpack": 125.0, "fp32": 143.0},
    "preset:cyclegan_resnet9": {"bf16": 0.80, "fp32+nnpack": 1.5, "fp32": 2.1},
    "preset:animeganv2": {"bf16": 0.50, "fp32+nnpack": 1.1, "fp32": 1.4},
}

#: What a fresh worker environment adds before the result, seconds: its start, its imports (torch included, which
#: now comes after the first progress edit, ``ml.api``) and claiming the job (``python -m ml.bench cold-start``,
#: the AVX2 machine above, under the Lambda emulator: result time less the model's).
COLD_START_SECONDS: dict[Kind, float] = {"quick": 3.5, "preset": 3.4, "best": 3.0}
#: The part of that start that comes after the job's first progress report, in a worker that has not run a job
#: yet: importing the model code and torch (1.60-1.75 s, ``python -X importtime``; ml/README.md) and reading the
#: weights (memory-mapped: milliseconds). The first report's time left includes it.
ENGINE_LOAD_SECONDS = 1.7


def current_path() -> ComputePath:
    """The path this machine takes for the heavy convolutions.

    Answered without importing torch where it is not loaded yet (the worker's first progress report goes out
    before): then NNPACK is assumed present on AVX2 x86 CPUs, as it is in torch's x86 wheels.
    """
    from ml import device

    if device.native_bf16_supported():
        return "bf16"
    if "torch" not in sys.modules:
        return "fp32+nnpack" if device.vector_isa() == "avx2" and platform.machine() in ("x86_64", "AMD64") else "fp32"
    from ml import fastconv

    return "fp32+nnpack" if fastconv.nnpack_wanted() else "fp32"


def expected_seconds(
    kind: Kind,
    size: int,
    *,
    path: ComputePath | None = None,
    architecture: str | None = None,
    cold: bool = False,
    aspect: float = REFERENCE_ASPECT,
) -> float:
    """Expected seconds of a ``kind`` job whose result is ``size`` px on its long side and ``aspect`` times as
    long as it is wide (or high): the work is proportional to the pixels.

    Presets need their ``architecture`` (``ml.registry.Preset.architecture``); ``path=None`` asks this machine;
    ``cold=True`` adds a fresh worker's start.
    """
    if kind == "preset":
        if architecture is None:
            raise ValueError("a preset's prior needs its architecture")
        key = f"preset:{architecture}"
    elif kind in ("quick", "best"):
        key = kind
    else:
        raise ValueError(f"unknown kind {kind!r}")
    if key not in SECONDS_AT_512:
        raise ValueError(f"no prior for {key!r}")
    chosen = path or current_path()
    if kind == "quick":
        size = max(size, QUICK_MIN_SIZE)
    pixels = size * size / max(aspect, 1.0)
    seconds = SECONDS_AT_512[key][chosen] * pixels / (REFERENCE_SIZE * REFERENCE_SIZE / REFERENCE_ASPECT)
    return seconds + (COLD_START_SECONDS[kind] if cold else 0.0)
