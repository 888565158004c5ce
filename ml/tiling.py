"""Run a fully convolutional image model on padded inputs and on overlapping tiles.

- `run_padded`: reflection-pad (N, C, H, W) to the multiple the model's strides need, run, crop back.
- `run_tiled`: cut a large image into overlapping tiles on a grid aligned to that multiple, run each, and
  blend them with raised-cosine ramps placed in the middle of each overlap (the quarter of the overlap
  nearest each tile's inner edge, where the tile's own padding shows, gets no weight). Adjacent ramps sum to
  one, so where tiles agree the blend is exact; the norm layers' shared statistics (`ml.norms`) make them
  agree.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

TileFn = Callable[[torch.Tensor], torch.Tensor]
OnTile = Callable[[int, int], None]


def pad_to_multiple(x: torch.Tensor, multiple: int, minimum: int = 0) -> torch.Tensor:
    """Pad (N, C, H, W) on the right and bottom so that H and W are multiples of `multiple` and >= `minimum`.

    Reflection where the image is large enough, edge replication otherwise.
    """
    h, w = x.shape[-2:]
    th = max(math.ceil(h / multiple) * multiple, math.ceil(minimum / multiple) * multiple)
    tw = max(math.ceil(w / multiple) * multiple, math.ceil(minimum / multiple) * multiple)
    ph, pw = th - h, tw - w
    if ph == 0 and pw == 0:
        return x
    mode = "reflect" if ph < h and pw < w else "replicate"
    return F.pad(x, (0, pw, 0, ph), mode=mode)


def run_padded(fn: TileFn, x: torch.Tensor, multiple: int, minimum: int = 16) -> torch.Tensor:
    """Run a size-preserving model that needs sizes divisible by `multiple`; returns the input's size."""
    h, w = x.shape[-2:]
    out = fn(pad_to_multiple(x, multiple, minimum))
    return out[..., :h, :w]


def tile_starts(length: int, tile: int, overlap: int, align: int) -> list[tuple[int, int]]:
    """(start, size) of tiles covering [0, length): as few as the overlap allows, spread evenly.

    Starts are multiples of `align`; neighbours overlap by at least `overlap`; the last tile ends at `length`
    (it is up to `align - 1` px longer than `tile`).
    """
    if tile % align or overlap % align:
        raise ValueError("tile and overlap must be multiples of align")
    if not 0 < overlap < tile - align:
        raise ValueError("need 0 < overlap < tile - align")
    if length <= tile:
        return [(0, length)]
    last = (length - tile) // align * align
    # Rounding a start down to the grid widens a gap by < align: keep that much in hand.
    count = math.ceil(last / (tile - overlap - align)) + 1
    starts = [round(i * last / (count - 1)) // align * align for i in range(count - 1)] + [last]
    return [(s, tile if i < count - 1 else length - s) for i, s in enumerate(starts)]


def ramp(overlap: int) -> torch.Tensor:
    """Weights rising from 0 to 1 across an overlap: zero on its first quarter, raised cosine, one after.

    ramp(o)[t] + ramp(o)[o - 1 - t] == 1, so the tile before and the tile after blend to a partition of unity.
    """
    margin = overlap // 4
    width = overlap - 2 * margin
    t = torch.arange(width, dtype=torch.float64)
    rise = 0.5 - 0.5 * torch.cos(math.pi * (t + 0.5) / width)
    return torch.cat([torch.zeros(margin, dtype=torch.float64), rise, torch.ones(margin, dtype=torch.float64)])


def axis_windows(spans: list[tuple[int, int]]) -> list[torch.Tensor]:
    """1-D blending window of each tile along one axis (flat where the tile has no neighbour)."""
    windows = []
    for i, (start, size) in enumerate(spans):
        w = torch.ones(size, dtype=torch.float64)
        if i > 0:
            prev_start, prev_size = spans[i - 1]
            o = prev_start + prev_size - start
            w[:o] *= ramp(o)
        if i < len(spans) - 1:
            next_start = spans[i + 1][0]
            o = start + size - next_start
            w[size - o :] *= ramp(o).flip(0)
        windows.append(w)
    return windows


@dataclass(frozen=True)
class TileGrid:
    rows: list[tuple[int, int]]
    cols: list[tuple[int, int]]

    @property
    def count(self) -> int:
        return len(self.rows) * len(self.cols)

    def boundaries(self) -> tuple[list[int], list[int]]:
        """Centre lines of the overlaps (y positions, x positions): where a seam would show."""

        def centres(spans: list[tuple[int, int]]) -> list[int]:
            return [(spans[i][0] + spans[i - 1][0] + spans[i - 1][1]) // 2 for i in range(1, len(spans))]

        return centres(self.rows), centres(self.cols)


def tile_grid(height: int, width: int, tile: int, overlap: int, align: int) -> TileGrid:
    return TileGrid(tile_starts(height, tile, overlap, align), tile_starts(width, tile, overlap, align))


def run_tiled(
    fn: TileFn,
    image: torch.Tensor,
    *,
    tile: int,
    overlap: int,
    align: int,
    on_tile: OnTile | None = None,
    disagreement: list[float] | None = None,
) -> torch.Tensor:
    """Apply `fn` (float (1, C, h, w) in [0, 1] -> same size) per tile and blend; float32 (1, C, H, W).

    `image` may be uint8 (0..255) or float in [0, 1]; only one tile at a time is converted to float, so the
    whole image never exists in float except for the output accumulator. `on_tile(done, total)` runs after
    each tile (it may raise to stop the work).

    If `disagreement` is a list, it receives for every pair of neighbouring tiles the mean absolute difference
    of their two outputs where the blend mixes them (in 0..255 units): the amplitude of the seam that blending
    smooths out. Near zero means no seam can show.
    """
    _, c, h, w = image.shape
    grid = tile_grid(h, w, tile, overlap, align)
    wy, wx = axis_windows(grid.rows), axis_windows(grid.cols)
    out = torch.zeros((1, c, h, w), dtype=torch.float32)
    done = 0
    above: list[torch.Tensor | None] = [None] * len(grid.cols)
    for i, ((y0, th), win_y) in enumerate(zip(grid.rows, wy, strict=True)):
        left: torch.Tensor | None = None
        for j, ((x0, tw), win_x) in enumerate(zip(grid.cols, wx, strict=True)):
            patch = image[:, :, y0 : y0 + th, x0 : x0 + tw]
            patch = patch.float() / 255.0 if patch.dtype == torch.uint8 else patch.float()
            result = fn(patch).float()
            if disagreement is not None:
                if left is not None:
                    disagreement.append(_overlap_difference(left, result, x0 - grid.cols[j - 1][0], axis=3))
                prev = above[j]
                if prev is not None:
                    y_prev = grid.rows[i - 1][0]
                    disagreement.append(_overlap_difference(prev, result, y0 - y_prev, axis=2))
                left = above[j] = result
            weight = (win_y[:, None] * win_x[None, :]).float()
            out[:, :, y0 : y0 + th, x0 : x0 + tw] += result * weight
            done += 1
            if on_tile is not None:
                on_tile(done, grid.count)
    # The windows of a Cartesian grid sum to a separable total; divide it out (it is 1 almost everywhere).
    total_y = torch.zeros(h, dtype=torch.float64)
    for (y0, th), win in zip(grid.rows, wy, strict=True):
        total_y[y0 : y0 + th] += win
    total_x = torch.zeros(w, dtype=torch.float64)
    for (x0, tw), win in zip(grid.cols, wx, strict=True):
        total_x[x0 : x0 + tw] += win
    out /= (total_y[:, None] * total_x[None, :]).float()
    return out


def _overlap_difference(first: torch.Tensor, second: torch.Tensor, offset: int, axis: int) -> float:
    """Mean |first - second| (0..255) over the blended middle half of their overlap along `axis`."""
    overlap = first.shape[axis] - offset
    lo, hi = overlap // 4, overlap - overlap // 4
    a = first.narrow(axis, offset + lo, hi - lo)
    b = second.narrow(axis, lo, hi - lo)
    other = 2 if axis == 3 else 3
    n = min(a.shape[other], b.shape[other])
    return float((a.narrow(other, 0, n) - b.narrow(other, 0, n)).abs().mean()) * 255.0


def seam_ratio(image: torch.Tensor, grid: TileGrid, band: int = 2) -> float:
    """Mean gradient magnitude across the tile boundaries divided by the mean over the whole image.

    `image` is (1, C, H, W) or (C, H, W). About 1.0 means the boundaries look like any other place; a visible
    seam (a step in colour or texture between tiles) pushes it well above 1.
    """
    img = image.float().reshape(-1, *image.shape[-2:])
    gx = (img[:, :, 1:] - img[:, :, :-1]).abs().mean(dim=(0, 1))  # per column boundary x|x+1
    gy = (img[:, 1:, :] - img[:, :-1, :]).abs().mean(dim=(0, 2))  # per row boundary y|y+1
    ys, xs = grid.boundaries()

    def near(lines: list[int], size: int) -> list[int]:
        return sorted({p for c in lines for p in range(c - band, c + band) if 0 <= p < size})

    parts = []
    counts = 0
    if xs:
        idx = near(xs, gx.numel())
        parts.append(gx[idx].sum())
        counts += len(idx)
    if ys:
        idx = near(ys, gy.numel())
        parts.append(gy[idx].sum())
        counts += len(idx)
    if not counts:
        return 1.0
    at_seams = float(torch.stack(parts).sum()) / counts
    overall = float(torch.cat([gx, gy]).mean())
    return at_seams / overall if overall > 0 else 1.0
