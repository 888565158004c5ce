"""`pip` in the image build's rehearsal (tests/deploy/rehearsal.py): run as `pip install ... --target DIR -r FILE`.

For each lock file: the locked wheels are installed for the image's platform (CPython 3.12, manylinux x86_64,
hash-checked where the file has hashes) into REHEARSAL_PLATFORM_TARGET, from the wheel cache REHEARSAL_WHEEL_CACHE,
which is filled from the file's index when a wheel is missing; an install made before from the same lock,
options and platform is reused, as a Docker layer is. Then this host's installed copies of the same
distributions are linked into the --target folder, for the later steps that run on this host's Python. A lock
file whose `--index-url` cannot be reached from here is said so and installed from this host alone.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

IMAGE_PLATFORM = [
    "--python-version",
    "3.12",
    "--implementation",
    "cp",
    "--abi",
    "cp312",
    *[arg for minor in range(34, 16, -1) for arg in ("--platform", f"manylinux_2_{minor}_x86_64")],
    "--platform",
    "manylinux2014_x86_64",
]
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)", re.MULTILINE)
# Options that take a value, whose value is not a requirement file.
VALUED = {"--target", "-t", "-r", "--requirement", "--index-url", "-i", "--extra-index-url", "--find-links", "-f"}


def say(text: str) -> None:
    print(f"pip (rehearsal): {text}", flush=True)


def pip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True, check=False)


def reachable(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5):
            return True
    except (urllib.error.URLError, OSError, ValueError):
        return False


def install_for_the_image(options: list[str], lock: Path) -> bool:
    """The locked wheels for the image's platform, from the cache (filled first if needed).

    An install is a function of the lock file, the options and the platform alone, so, as Docker's layer cache
    does, one made before from the same three is reused (its files linked into the target) instead of being
    made again; any change to them makes a new one."""
    cache = Path(os.environ["REHEARSAL_WHEEL_CACHE"])
    target = Path(os.environ["REHEARSAL_PLATFORM_TARGET"])
    cache.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256("\0".join([lock.read_text(), *options, *IMAGE_PLATFORM]).encode()).hexdigest()[:16]
    layer = cache.parent / f"{cache.name}-installed" / key
    if not layer.is_dir():
        building = layer.with_name(f"{key}.{os.getpid()}.partial")
        shutil.rmtree(building, ignore_errors=True)
        if not _install(options, lock, cache, building):
            return False
        try:
            building.rename(layer)
        except OSError:  # another test process made the same layer meanwhile
            shutil.rmtree(building, ignore_errors=True)
    else:
        say(f"the locked wheels of {lock.name} were installed for the image's platform before: layer {key} reused")
    shutil.copytree(layer, target, copy_function=os.link, dirs_exist_ok=True)
    return True


def _install(options: list[str], lock: Path, cache: Path, target: Path) -> bool:
    install = [
        "install",
        *options,
        "--no-index",
        "--find-links",
        str(cache),
        "--target",
        str(target),
        "--upgrade",
        *IMAGE_PLATFORM,
        "-r",
        str(lock),
    ]
    result = pip(*install)
    if result.returncode != 0:
        say(f"filling the wheel cache from the index for {lock.name}")
        download = pip(
            "download", "--no-deps", "--only-binary=:all:", *IMAGE_PLATFORM, "-d", str(cache), "-r", str(lock)
        )
        if download.returncode != 0:
            print(download.stdout[-3000:], download.stderr[-3000:], file=sys.stderr)
            return False
        result = pip(*install)
    print(result.stdout[-3000:], result.stderr[-3000:], file=sys.stderr if result.returncode else sys.stdout)
    return result.returncode == 0


def newer_python_only(filename: str) -> bool:
    """A module written for a newer Python than this host's (torch's `py312_intrinsics.py`): the image's
    Python compiles it, this host's cannot, so the rehearsal leaves it out."""
    match = re.fullmatch(r"py3(\d+)_\w*\.py", filename)
    return match is not None and int(match.group(1)) > sys.version_info.minor


def link_host_copies(lock_text: str, target: Path) -> None:
    """This host's files of every locked distribution, linked into `target` (folders made, files linked)."""
    for name, version in PIN.findall(lock_text):
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            say(f"{name} is not installed on this host")
            raise SystemExit(1) from None
        if distribution.version.split("+")[0] != version.split("+")[0]:
            say(f"{name}: this host has {distribution.version}, the lock {version}")
        names = [distribution]
        if name == "torch":  # this host's torch may be the CUDA build: its CUDA libraries come along
            names += [
                other
                for other in importlib.metadata.distributions()
                if re.match(r"(nvidia|cuda)-|triton$", other.metadata["Name"] or "")
            ]
        for item in names:
            for file in item.files or []:
                if ".." in file.parts or "__pycache__" in file.parts or newer_python_only(file.name):
                    continue
                source = Path(str(item.locate_file(file)))
                destination = target.joinpath(*file.parts)
                if destination.exists() or destination.is_symlink() or not source.is_file():
                    continue
                destination.parent.mkdir(parents=True, exist_ok=True)
                destination.symlink_to(source)


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "install":
        say(f"only `pip install` is rehearsed, not {argv[:1]}")
        return 2
    options: list[str] = []
    locks: list[Path] = []
    target: Path | None = None
    args = iter(argv[1:])
    for arg in args:
        if arg in {"-r", "--requirement"}:
            locks.append(Path(next(args)))
        elif arg in {"--target", "-t"}:
            target = Path(next(args))
        elif arg in VALUED:
            options += [arg, next(args)]
        else:
            options.append(arg)
    if target is None or not locks:
        say("expected --target DIR and -r FILE")
        return 2
    for lock in locks:
        text = lock.read_text()
        index = re.search(r"^--index-url\s+(\S+)", text, flags=re.MULTILINE)
        if index and not reachable(index.group(1)):
            say(
                f"{index.group(1)} cannot be reached from here: the pins of {lock.name} "
                f"({', '.join(n for n, _ in PIN.findall(text))}) are not installed for the image's platform"
            )
        elif not install_for_the_image(options, lock):
            say(f"the locked wheels of {lock.name} do not install for the image's platform")
            return 1
        link_host_copies(text, target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
