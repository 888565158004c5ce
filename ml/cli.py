"""Command line: ``python -m ml stylize ...`` and ``python -m ml weights fetch|verify|list``.

Works offline with no bot and no cloud account; only ``weights fetch`` uses the network.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ml import imageio, weights
from ml.errors import BadImage, JobCancelled, WeightsError
from ml.progress import Progress


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ml", description="Stylebot's models, offline.")
    sub = parser.add_subparsers(dest="command", required=True)

    st = sub.add_parser("stylize", help="render CONTENT in the manner of a style image")
    st.add_argument("content", type=Path, help="the photo")
    st.add_argument("--style", type=Path, required=True, help="the style picture")
    st.add_argument("--out", type=Path, required=True, help="output file (.jpg/.jpeg or .png)")
    st.add_argument("--quality", choices=("quick", "best"), default="quick")
    st.add_argument("--size", type=int, default=512, help="long side of the result in px (default 512)")
    st.add_argument("--strength", type=float, default=1.0, help="style strength in [0, 1] (default 1)")
    st.add_argument("--keep-colors", action="store_true", help="keep the photo's original colours")
    st.add_argument("--color-method", choices=("luminance", "match"), default="luminance")
    st.add_argument("--seed", type=int, default=0)
    st.add_argument("--no-progress", action="store_true", help="no progress bar")

    wt = sub.add_parser("weights", help="manage model weights")
    wsub = wt.add_subparsers(dest="weights_command", required=True)
    fetch = wsub.add_parser("fetch", help="download and verify weights into STYLEBOT_WEIGHTS_DIR")
    fetch.add_argument("names", nargs="*", help="manifest names (default: all)")
    fetch.add_argument("--dest", type=Path, default=None, help="folder (default: STYLEBOT_WEIGHTS_DIR)")
    verify = wsub.add_parser("verify", help="check every weights file against the manifest")
    verify.add_argument("names", nargs="*")
    wsub.add_parser("list", help="list the manifest")
    return parser


def _stylize(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ml.api import stylize

    suffix = args.out.suffix.lower()
    if suffix not in {".jpg", ".jpeg", ".png"}:
        print(f"error: --out must end in .jpg, .jpeg or .png, not {args.out.name!r}", file=sys.stderr)
        return 2
    content = imageio.open_image(args.content)
    style = imageio.open_image(args.style)
    bar = None if args.no_progress else tqdm(total=100, unit="%", desc=args.quality, leave=True)

    def on_progress(p: Progress) -> None:
        if bar is None:
            return
        bar.n = round(p.fraction * 100, 1)
        if p.eta_seconds is not None:
            bar.set_postfix_str(f"{p.eta_seconds:.0f}s left", refresh=False)
        bar.refresh()

    started = time.perf_counter()
    try:
        result = stylize(
            content,
            style,
            quality=args.quality,
            size=args.size,
            strength=args.strength,
            keep_colors=args.keep_colors,
            seed=args.seed,
            progress=on_progress,
            color_method=args.color_method,
        )
    finally:
        if bar is not None:
            bar.close()
    data = imageio.encode_png(result) if suffix == ".png" else imageio.encode_jpeg(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    elapsed = time.perf_counter() - started
    print(f"wrote {args.out} ({result.width}x{result.height}, {len(data)} bytes) in {elapsed:.1f}s")
    return 0


def _weights(args: argparse.Namespace) -> int:
    if args.weights_command == "list":
        for item in weights.manifest().values():
            where = f"bundled:{item.bundled}" if item.bundled else str(weights.path_of(item))
            print(f"{item.name}\t{item.filename}\t{item.expected_hash_text()}\t{item.licence}\t{where}")
        return 0
    if args.weights_command == "fetch":
        weights.fetch(args.names or None, dest=args.dest, report=print)
        return 0
    names = args.names or list(weights.manifest())
    for name in names:
        print(f"{name}: ok ({weights.resolve(name)})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    try:
        if args.command == "stylize":
            return _stylize(args)
        return _weights(args)
    except BadImage as exc:
        print(f"error: {exc.reason}", file=sys.stderr)
        return 2
    except (WeightsError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except JobCancelled:
        print("cancelled", file=sys.stderr)
        return 130
