"""Pin every wheel of the Lambda image by SHA-256: `python -m infra.scripts.lock_lambda`.

Reads the exact pins of `requirements-lambda.txt` (the closure of the image's packages, one `name==version` a
line) and writes them back, each followed by `--hash=sha256:...` for every wheel of that release that pip may
choose in the image (CPython 3.12, manylinux x86_64 up to glibc 2.34, the base image's; or pure Python). The
hashes come from the package index's JSON API (PEP 691), so the script downloads no wheel. With the hashes,
`pip install -r requirements-lambda.txt` runs in hash-checking mode: a wheel that differs from the one locked
fails the image build.

torch is installed from PyTorch's CPU index through `requirements-torch-cpu.txt`: run with
`--torch` where that index can be reached to pin it too (`--index https://download.pytorch.org/whl/cpu`).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.request
from pathlib import Path

from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements-lambda.txt"
TORCH_LOCK = ROOT / "requirements-torch-cpu.txt"
PYPI = "https://pypi.org/simple"
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)")

# The image: CPython 3.12 on Amazon Linux 2023 (glibc 2.34), x86_64.
PLATFORMS = [f"manylinux_2_{minor}_x86_64" for minor in range(34, 4, -1)] + [
    "manylinux2014_x86_64",
    "manylinux2010_x86_64",
    "manylinux1_x86_64",
    "linux_x86_64",
]
IMAGE_TAGS: frozenset[Tag] = frozenset(
    [*cpython_tags((3, 12), platforms=PLATFORMS), *compatible_tags((3, 12), "cp312", platforms=PLATFORMS)]
)


def wheel_hashes(name: str, version: str, index: str) -> list[str]:
    """SHA-256 of every wheel of `name==version` on `index` that fits the image."""
    request = urllib.request.Request(
        f"{index}/{canonicalize_name(name)}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        files = json.load(response)["files"]
    hashes = []
    for file in files:
        if not file["filename"].endswith(".whl") or file.get("yanked"):
            continue
        try:
            wheel_name, wheel_version, _, tags = parse_wheel_filename(file["filename"])
        except InvalidWheelFilename:  # old uploads with tags no current pip accepts
            continue
        same_release = canonicalize_name(wheel_name) == canonicalize_name(name) and str(wheel_version) == version
        if same_release and tags & IMAGE_TAGS:
            hashes.append(file["hashes"]["sha256"])
    if not hashes:
        raise SystemExit(f"{name}=={version}: no wheel for CPython 3.12 on manylinux x86_64 at {index}")
    return sorted(hashes)


def lock(path: Path, index: str) -> None:
    """Rewrite `path` with the hashes of each pin; comments and options stay as they are."""
    out: list[str] = []
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("--hash="):
            continue
        match = PIN.match(stripped)
        if not match:
            out.append(line)
            continue
        name, version = match.groups()
        hashes = wheel_hashes(name, version, index)
        out.append(f"{name}=={version} \\")
        out.extend(
            f"    --hash=sha256:{digest}" + (" \\" if i < len(hashes) - 1 else "") for i, digest in enumerate(hashes)
        )
        print(f"{name}=={version}: {len(hashes)} wheel(s)", file=sys.stderr)
    path.write_text("\n".join(out) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torch", action="store_true", help="also pin requirements-torch-cpu.txt")
    parser.add_argument("--index", default="https://download.pytorch.org/whl/cpu", help="the index of torch")
    args = parser.parse_args()
    lock(LOCK, PYPI)
    if args.torch:
        lock(TORCH_LOCK, args.index)


if __name__ == "__main__":
    main()
