"""Gatys NST on seeded random VGG19 weights in the official layout (the real file is not available here)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from PIL import Image

from ml import fastconv, imageio
from ml.errors import JobCancelled
from ml.microast import load_microast, run_microast
from ml.nst import STYLE_WEIGHT, NSTConfig, Objective, evaluate_loss, level_sizes, run_nst
from ml.progress import Progress
from ml.vgg import VGG19Features, load_vgg19_features, seeded_random_state_dict
from tests.ml_helpers import needs_nnpack


@pytest.fixture(scope="module")
def vgg(random_vgg_env: Path) -> VGG19Features:
    return load_vgg19_features()


@pytest.fixture(scope="module")
def pair(cat: Image.Image, brick: Image.Image) -> tuple[torch.Tensor, torch.Tensor]:
    return (
        imageio.to_tensor(imageio.resize_long_side(cat, 64)),
        imageio.to_tensor(imageio.resize_long_side(brick, 64)),
    )


def test_loss_decreases(vgg: VGG19Features, pair: tuple[torch.Tensor, torch.Tensor]) -> None:
    # Given the photo as the starting point
    content, style = pair
    objective = Objective(vgg, content, style, style_weight=STYLE_WEIGHT)
    start = evaluate_loss(objective, content)
    # When L-BFGS runs 12 evaluations
    result = run_nst(vgg, content, style, config=NSTConfig(evals=(12,), warm_start=False, bf16=False))
    # Then the loss of the delivered image is well below the start's
    assert result.evaluations == 12
    assert evaluate_loss(objective, result.image) < 0.5 * start


def test_warm_start_and_pyramid_beat_the_cold_start(
    vgg: VGG19Features, pair: tuple[torch.Tensor, torch.Tensor]
) -> None:
    # Given the same budget of full-size evaluations
    content, style = pair
    microast = load_microast()
    objective = Objective(vgg, content, style, style_weight=STYLE_WEIGHT)
    cold = run_nst(vgg, content, style, config=NSTConfig(evals=(10,), warm_start=False, bf16=False))
    warm = run_nst(
        vgg,
        content,
        style,
        config=NSTConfig(evals=(10, 10), bf16=False, min_level_side=16),
        warm_start=lambda c, s: run_microast(microast, c, s, 1.0, bf16=False),
    )
    # Then the warm-started pyramid reaches a lower loss, and ran at two sizes
    assert warm.level_sizes == [(30, 45), (43, 64)]
    assert evaluate_loss(objective, warm.image) < evaluate_loss(objective, cold.image)


def test_keep_best_returns_the_lowest_loss_seen(vgg: VGG19Features, pair: tuple[torch.Tensor, torch.Tensor]) -> None:
    # Given a start far from the optimum, where L-BFGS's first steps overshoot
    content, style = pair
    best = run_nst(vgg, content, style, config=NSTConfig(evals=(12,), warm_start=False, bf16=False))
    last = run_nst(vgg, content, style, config=NSTConfig(evals=(12,), warm_start=False, bf16=False, keep_best=False))
    # Then "keep best" returns the lowest loss evaluated, the plain run whatever came last
    assert best.history == last.history
    assert best.loss == min(best.history)
    assert last.loss == last.history[-1]
    # (every evaluation has its wall and CPU time since the start, for the benchmark's frontier)
    assert len(best.times) == len(best.cpu_times) == len(best.history)
    assert best.cpu_times == sorted(best.cpu_times) and best.cpu_times[0] >= 0
    # And the image returned is the one that had that loss
    objective = Objective(vgg, content, style, style_weight=STYLE_WEIGHT)
    assert evaluate_loss(objective, best.image) == pytest.approx(best.loss, rel=0.05)


def test_progress_is_monotonic_with_eta_and_previews(
    vgg: VGG19Features, pair: tuple[torch.Tensor, torch.Tensor]
) -> None:
    content, style = pair
    reports: list[Progress] = []
    run_nst(
        vgg,
        content,
        style,
        config=NSTConfig(evals=(6, 6), bf16=False, min_level_side=16),
        progress=reports.append,
    )
    fractions = [r.fraction for r in reports]
    # One report per evaluation plus one per level end, never going back, ending at 1
    assert len(reports) >= 12
    assert fractions == sorted(fractions)
    assert fractions[-1] == pytest.approx(1.0)
    assert all(r.eta_seconds is None or r.eta_seconds >= 0 for r in reports)
    previews = [r.preview for r in reports if r.preview is not None]
    assert len(previews) == 2 and previews[-1].size == (64, 43)


def test_cancel_stops_within_one_step(vgg: VGG19Features, pair: tuple[torch.Tensor, torch.Tensor]) -> None:
    # Given a user who presses Cancel after the third evaluation
    content, style = pair
    state = {"evals": 0, "cancelled": False, "evals_after_cancel": 0}

    def on_progress(p: Progress) -> None:
        if p.preview is not None:
            return
        state["evals"] += 1
        if state["cancelled"]:
            state["evals_after_cancel"] += 1
        if state["evals"] == 3:
            state["cancelled"] = True

    # When the job runs, Then it stops with JobCancelled before another evaluation completes
    with pytest.raises(JobCancelled):
        run_nst(
            vgg,
            content,
            style,
            config=NSTConfig(evals=(50,), warm_start=False, bf16=False),
            progress=on_progress,
            should_cancel=lambda: bool(state["cancelled"]),
        )
    assert state["evals"] == 3 and state["evals_after_cancel"] == 0


def test_cancel_before_start(vgg: VGG19Features, pair: tuple[torch.Tensor, torch.Tensor]) -> None:
    content, style = pair
    with pytest.raises(JobCancelled):
        run_nst(vgg, content, style, config=NSTConfig(evals=(5,)), should_cancel=lambda: True)


def test_deterministic_for_a_seed(vgg: VGG19Features, pair: tuple[torch.Tensor, torch.Tensor]) -> None:
    content, style = pair
    cfg = NSTConfig(evals=(5, 5), bf16=False, init_noise=0.05, min_level_side=16)
    a = run_nst(vgg, content, style, config=cfg, seed=7)
    b = run_nst(vgg, content, style, config=cfg, seed=7)
    c = run_nst(vgg, content, style, config=cfg, seed=8)
    assert torch.equal(a.image, b.image)
    assert not torch.equal(a.image, c.image)


def test_bf16_only_where_supported(
    vgg: VGG19Features, cat: Image.Image, brick: Image.Image, monkeypatch: pytest.MonkeyPatch
) -> None:
    # (32 px: bf16 is emulated, and slow, on CPUs without it)
    content, style = (imageio.to_tensor(imageio.resize_long_side(image, 32)) for image in (cat, brick))
    cfg = NSTConfig(evals=(2,), warm_start=False)
    # Given a CPU without native bf16 (as the override reports it), Then the optimisation runs in fp32
    monkeypatch.setenv("STYLEBOT_BF16", "0")
    assert run_nst(vgg, content, style, config=cfg).dtype == torch.float32
    # Given a CPU with native bf16, Then the convolutions run in bf16 and the loss still decreases
    monkeypatch.setenv("STYLEBOT_BF16", "1")
    result = run_nst(vgg, content, style, config=NSTConfig(evals=(6,), warm_start=False))
    assert result.dtype == torch.bfloat16
    objective = Objective(vgg, content, style, style_weight=STYLE_WEIGHT)
    assert evaluate_loss(objective, result.image) < evaluate_loss(objective, content)
    # And an explicit bf16=False wins
    assert run_nst(vgg, content, style, config=NSTConfig(evals=(2,), bf16=False)).dtype == torch.float32


def test_pyramid_sizes() -> None:
    # The default pyramid grows by sqrt(2) per level, the classic one by 2; levels too small are dropped
    assert level_sizes(341, 512, 4, 64, math.sqrt(2)) == [(121, 181), (170, 256), (241, 362), (341, 512)]
    assert level_sizes(341, 512, 3, 64) == [(85, 128), (170, 256), (341, 512)]
    assert level_sizes(43, 64, 3, 64) == [(43, 64)]


@pytest.mark.slow  # two runs, NNPACK's set-up per shape; FastConv2d against F.conv2d: test_fastconv.py
@needs_nnpack
def test_fp32_path_through_nnpack_lowers_the_loss_as_the_plain_one_does(
    vgg: VGG19Features, pair: tuple[torch.Tensor, torch.Tensor], monkeypatch: pytest.MonkeyPatch
) -> None:
    content, style = pair
    monkeypatch.setenv("STYLEBOT_BF16", "0")
    objective = Objective(vgg, content, style, style_weight=STYLE_WEIGHT)
    # Given the fp32 path forced through NNPACK, and forced off it
    fast = run_nst(vgg, content, style, config=NSTConfig(evals=(12,), warm_start=False, nnpack=True))
    plain = run_nst(vgg, content, style, config=NSTConfig(evals=(12,), warm_start=False, nnpack=False))
    # Then both ran as asked, and reach about the same loss, well below the start's
    assert fast.nnpack and not plain.nnpack
    start = evaluate_loss(objective, content)
    fast_loss, plain_loss = evaluate_loss(objective, fast.image), evaluate_loss(objective, plain.image)
    assert fast_loss < 0.5 * start
    assert abs(fast_loss - plain_loss) < 0.05 * plain_loss
    # And the shared VGG is left with plain convolutions
    assert all(type(m) is not fastconv.FastConv2d for m in vgg.modules())


def test_the_benchmarks_seeded_random_vgg_is_real_and_gives_finite_features() -> None:
    # Given the seeded random VGG19 weights the benchmark uses when the real file is absent
    state = seeded_random_state_dict(0)

    # Then every tensor is a real (CPU) one, biases zero, and the model built from them computes finite features
    assert all(t.device.type == "cpu" for t in state.values())
    assert all(not t.any() for k, t in state.items() if k.endswith(".bias"))
    vgg = VGG19Features()
    vgg.load_torchvision_state_dict(state)
    with torch.no_grad():
        feats = vgg(torch.rand(1, 3, 64, 80, generator=torch.Generator().manual_seed(0)), ("relu1_1", "relu5_1"))
    assert all(torch.isfinite(f).all() and f.abs().max() > 0 for f in feats.values())
