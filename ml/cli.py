"""Command line: ``python -m ml stylize ...``, ``python -m ml weights fetch|fetch-image|verify|list``,
``python -m ml presets list|previews|weights`` and ``python -m ml paintings list|previews``.

Works offline with no bot and no cloud account; only ``weights fetch`` uses the network.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ml import imageio, paintings, registry, weights
from ml.errors import BadImage, JobCancelled, WeightsError
from ml.progress import Progress


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ml", description="Stylebot's models, offline.")
    sub = parser.add_subparsers(dest="command", required=True)

    st = sub.add_parser("stylize", help="render CONTENT in the manner of a style image")
    st.add_argument("content", type=Path, help="the photo")
    source = st.add_mutually_exclusive_group(required=True)
    source.add_argument("--style", type=Path, help="the style picture")
    source.add_argument("--preset", metavar="NAME", help="a preset style (see `presets list`)")
    source.add_argument("--painting", metavar="ID", help="a famous painting as the style picture (`paintings list`)")
    st.add_argument("--mix", type=Path, default=None, help="a second style picture, mixed with the first")
    st.add_argument(
        "--ratio", type=float, default=0.5, help="the second style's share of the mix in [0, 1] (default 0.5)"
    )
    st.add_argument("--out", type=Path, required=True, help="output file (.jpg/.jpeg or .png)")
    st.add_argument("--quality", choices=("quick", "best"), default="quick")
    st.add_argument(
        "--size",
        type=int,
        default=None,
        help="long side of the result in px (default 512 with --style or --painting, the photo's own with --preset)",
    )
    st.add_argument("--strength", type=float, default=1.0, help="style strength in [0, 1] (default 1)")
    st.add_argument("--keep-colors", action="store_true", help="keep the photo's original colours")
    st.add_argument("--color-method", choices=("luminance", "match"), default="luminance")
    st.add_argument("--seed", type=int, default=0)
    st.add_argument("--no-progress", action="store_true", help="no progress bar")

    wt = sub.add_parser("weights", help="manage model weights")
    wsub = wt.add_subparsers(dest="weights_command", required=True)
    fetch = wsub.add_parser("fetch", help="download and verify weights into STYLEBOT_WEIGHTS_DIR")
    fetch.add_argument(
        "names", nargs="*", help="manifest names (default: what this deployment offers: VGG19 and the presets)"
    )
    fetch.add_argument("--dest", type=Path, default=None, help="folder (default: STYLEBOT_WEIGHTS_DIR)")
    fetch.add_argument(
        "--pin",
        action="store_true",
        help="accepted for older instructions: an entry with no SHA-256 yet is always pinned on its first download",
    )
    wsub.add_parser(
        "fetch-image",
        help="the image build's fetch: all required weights and every allowed preset (or it fails), then SHA256SUMS",
    )
    verify = wsub.add_parser("verify", help="check every weights file against the manifest")
    verify.add_argument("names", nargs="*")
    wsub.add_parser("list", help="list the manifest")

    pr = sub.add_parser("presets", help="preset styles")
    psub = pr.add_subparsers(dest="presets_command", required=True)
    psub.add_parser("list", help="the presets offered here, with licences")
    previews = psub.add_parser("previews", help="render the gallery previews (after the weights fetch)")
    previews.add_argument("ids", nargs="*", help="preset ids (default: all offered)")
    psub.add_parser("weights", help="print the manifest names the offered presets need")

    pt = sub.add_parser("paintings", help="the famous paintings a user can take as the style picture")
    ptsub = pt.add_subparsers(dest="paintings_command", required=True)
    ptsub.add_parser("list", help="the paintings, with their sources")
    pt_previews = ptsub.add_parser("previews", help="render the gallery previews with MicroAST's bundled weights")
    pt_previews.add_argument("ids", nargs="*", help="painting ids (default: all)")
    pt_previews.add_argument("--out", type=Path, default=None, help="folder (default: the package's previews)")
    return parser


def _stylize(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ml.api import stylize

    suffix = args.out.suffix.lower()
    if suffix not in {".jpg", ".jpeg", ".png"}:
        print(f"error: --out must end in .jpg, .jpeg or .png, not {args.out.name!r}", file=sys.stderr)
        return 2
    if args.preset is not None:
        from ml.registry import get_preset

        get_preset(args.preset)  # an unknown id fails before any work
    if args.mix is not None and args.preset is not None:
        print(
            "error: --mix mixes two style pictures: give it with --style or --painting, not --preset", file=sys.stderr
        )
        return 2
    if not 0.0 <= args.ratio <= 1.0:
        print(f"error: --ratio must be between 0 and 1, not {args.ratio}", file=sys.stderr)
        return 2
    # An unknown painting fails before any work.
    style_file = args.style if args.painting is None else paintings.get_painting(args.painting).file
    content = imageio.open_image(args.content)
    style = None if style_file is None else imageio.open_image(style_file)
    mix = None if args.mix is None else imageio.open_image(args.mix)
    desc = args.quality if style is not None else args.preset
    bar = None if args.no_progress else tqdm(total=100, unit="%", desc=desc, leave=True)

    def on_progress(p: Progress) -> None:
        if bar is None:
            return
        bar.n = round(p.fraction * 100, 1)
        if p.eta_seconds is not None:
            bar.set_postfix_str(f"{p.eta_seconds:.0f}s left", refresh=False)
        bar.refresh()

    started = time.perf_counter()
    try:
        if style is None:
            from ml.api import apply_preset

            if args.size is not None:
                content = imageio.resize_long_side(content, args.size)
            result = apply_preset(content, args.preset, strength=args.strength, progress=on_progress)
        else:
            result = stylize(
                content,
                style,
                quality=args.quality,
                size=512 if args.size is None else args.size,
                strength=args.strength,
                keep_colors=args.keep_colors,
                seed=args.seed,
                progress=on_progress,
                color_method=args.color_method,
                mix=mix,
                mix_share=args.ratio,
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
        # Unpinned entries are pinned on their first download (trusted on first download, said loudly): the
        # command the bot names must make everything it offers available (ml/weights.py's docstring).
        names = args.names or registry.offered_weights_names()
        weights.fetch(names, dest=args.dest, report=print, pin=True, progress=weights.DownloadProgress(sys.stderr))
        return 0
    if args.weights_command == "fetch-image":
        required, presets = registry.image_weights_names()
        weights.fetch_image(required, presets, report=print, progress=weights.DownloadProgress(sys.stderr))
        return 0
    names = args.names or list(weights.manifest())
    for name in names:
        print(f"{name}: ok ({weights.resolve(name)})")
    return 0


def _presets(args: argparse.Namespace) -> int:
    from ml import presets

    if args.presets_command == "list":
        for p in registry.available():
            use = "commercial use ok" if p.commercial_use else "NON-COMMERCIAL"
            print(f"{p.id}\t{p.name('en')} / {p.name('ru')}\t{p.architecture}\t{p.weights}\t{use}\t{p.licence}")
        return 0
    if args.presets_command == "weights":
        print(" ".join(registry.weights_names()))
        return 0
    presets.render_previews(args.ids or None, report=print)
    return 0


def _paintings(args: argparse.Namespace) -> int:
    if args.paintings_command == "list":
        for p in paintings.available():
            print(f"{p.id}\t{p.title('en')} / {p.title('ru')}\t{p.artist('en')}\t{p.year('en')}\t{p.source}")
        return 0
    from ml.painting_previews import render_previews

    ids = args.ids or [p.id for p in paintings.available()]
    render_previews(ids, out_dir=args.out or paintings.PREVIEWS_DIR, report=print)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    try:
        if args.command == "stylize":
            return _stylize(args)
        if args.command == "presets":
            return _presets(args)
        if args.command == "paintings":
            return _paintings(args)
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
