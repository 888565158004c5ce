"""The one loader every model uses, and the downloads that fill the weights folder.

What each file is (name, URL, SHA-256, size, licence) is in ``ml/manifest.json``, read by :mod:`ml.manifest`.
The downloaded files live in the folder named by ``STYLEBOT_WEIGHTS_DIR`` and are fetched by
``python -m ml weights fetch``; the image build runs ``python -m ml weights fetch-image`` instead, which also
writes the folder's ``SHA256SUMS``.

A file is checked the first time a process uses it. Where the image build listed it in ``SHA256SUMS`` with the
hash the manifest expects, the check is its size alone: the build hashed it, and the image is read-only, so no
cold start hashes the 548 MB VGG19 again. Elsewhere (local runs, tests) its SHA-256 is computed. A missing
file, a wrong size or a wrong hash is a :class:`~ml.errors.WeightsError` that names the file and the command
that fixes it. ``resolve(name, verify=False)`` skips the check for a caller that asks for it explicitly.

An entry may be *unpinned* (``"sha256": null`` and no prefix) when no trustworthy hash of its public file was
available to the manifest's author. Such a file is never loaded, and ``fetch`` refuses it unless called with
``pin=True`` (``python -m ml weights fetch NAME --pin``): then the download's SHA-256 and size are written
into the manifest file that holds the entry, to be reviewed and committed like any other pin.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import torch

from ml.errors import WeightsError
from ml.manifest import (
    FETCH_COMMAND,
    MANIFEST_PATH,
    SUMS_FILE,
    format_sums,
    read_sums,
)
from ml.manifest import MANIFEST_ENV as MANIFEST_ENV  # re-exported: the loader's callers name them here
from ml.manifest import PACKAGE_DIR as PACKAGE_DIR
from ml.manifest import WeightEntry as WeightEntry
from ml.manifest import entry as entry
from ml.manifest import manifest as manifest
from ml.manifest import path_of as path_of
from ml.paths import WEIGHTS_DIR_ENV, weights_dir

log = logging.getLogger(__name__)

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# (path, size, mtime_ns, expected hash) of files already verified by this process.
_verified: set[tuple[str, int, int, str]] = set()


def _fix_hint(item: WeightEntry) -> str:
    if item.bundled is not None:
        return "this file ships with the package; reinstall it or restore the file from version control"
    return f"run `{FETCH_COMMAND} {item.name}` (or set {WEIGHTS_DIR_ENV} to the folder that holds {item.filename})"


def verify_file(item: WeightEntry, path: Path) -> None:
    """Check the SHA-256 (and size, if known) of ``path`` once per process; :class:`WeightsError` if wrong."""
    if not item.pinned:
        raise WeightsError(
            f"weights {item.name!r} have no pinned SHA-256 in the manifest, so {path} cannot be trusted; "
            f"pin it once with `{FETCH_COMMAND} {item.name} --pin` and commit the manifest change"
        )
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns, item.expected_hash_text())
    if key in _verified:
        return
    if item.size is not None and stat.st_size != item.size:
        raise WeightsError(
            f"weights file {path} for {item.name!r} has {stat.st_size} bytes, expected {item.size}; "
            f"it is incomplete or not the right file: {_fix_hint(item)}"
        )
    if _hashed_by_the_image_build(item, path):
        _verified.add(key)
        return
    digest = sha256_file(path)
    if not item.hash_matches(digest):
        raise WeightsError(
            f"weights file {path} for {item.name!r} has SHA-256 {digest}, "
            f"expected {item.expected_hash_text()}; "
            f"it is corrupt or not the right file: {_fix_hint(item)}"
        )
    _verified.add(key)


def _hashed_by_the_image_build(item: WeightEntry, path: Path) -> bool:
    """Whether the image build hashed this very file: listed in its folder's SHA256SUMS with the expected hash.

    Its size was compared with the manifest's just before; without a known size the file is hashed again.
    """
    if item.size is None or item.bundled is not None:
        return False
    sums = read_sums(path.parent)
    return sums is not None and path.name in sums and item.hash_matches(sums[path.name])


def resolve(name: str, *, verify: bool = True) -> Path:
    """The verified path of the weights file ``name``.

    Raises :class:`WeightsError` if the name is unknown, the file is missing or its hash is wrong.
    ``verify=False`` skips the hash check; only pass it deliberately.
    """
    item = entry(name)
    path = path_of(item)
    if not path.is_file():
        raise WeightsError(f"weights file for {item.name!r} is missing: {path}; {_fix_hint(item)}")
    if verify:
        verify_file(item, path)
    return path


def load_state_dict(name: str, *, verify: bool = True) -> dict[str, torch.Tensor]:
    """The state dict in the weights file ``name`` (on the CPU, loaded with ``weights_only=True``).

    Files in torch's zip format are memory-mapped (``mmap=True``): only the tensors a model copies are read
    from disk (VGG19's 400 MB classifier never is), and nothing is held twice. Legacy-format files (some
    public checkpoints predate the zip format) are read whole.
    """
    path = resolve(name, verify=verify)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True, mmap=zipfile.is_zipfile(path))
    except Exception as exc:  # torch raises many types for a bad pickle
        raise WeightsError(f"weights file {path} for {name!r} cannot be loaded: {exc}") from exc
    if isinstance(obj, Mapping) and "state_dict" in obj and isinstance(obj["state_dict"], Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise WeightsError(f"weights file {path} for {name!r} is not a state dict of tensors")
    return {str(k): v for k, v in obj.items()}


def fetch(
    names: Iterable[str] | None = None,
    *,
    dest: Path | None = None,
    report: Callable[[str], None] | None = None,
    timeout: float = 60.0,
    pin: bool = False,
) -> list[Path]:
    """Download the named (default: all not bundled) weights into ``dest`` (default :func:`weights_dir`).

    Files already present with the right hash are kept. Each download goes to a temporary file in the same
    folder, is verified, then renamed into place atomically. Bundled entries are verified in place.
    An unpinned entry is refused unless ``pin`` is true; then its download is trusted and its SHA-256 and size
    are recorded in the manifest file that defines it (see the module docstring).
    """
    say = report or log.info
    entries = manifest()
    wanted = list(names) if names is not None else list(entries)
    target_dir = dest if dest is not None else weights_dir()
    done: list[Path] = []
    for name in wanted:
        if name not in entries:
            raise WeightsError(f"no weights named {name!r} in the manifest (known: {', '.join(sorted(entries))})")
        item = entries[name]
        if not item.pinned and not pin:
            raise WeightsError(
                f"weights {name!r} have no pinned SHA-256 in the manifest; refusing to download them "
                f"unverified. Run `{FETCH_COMMAND} {name} --pin` once on a trusted network to pin it."
            )
        if item.bundled is not None:
            path = resolve(name)
            say(f"{name}: bundled, verified ({path.name})")
            done.append(path)
            continue
        path = target_dir / item.filename
        if path.is_file() and item.pinned:
            try:
                verify_file(item, path)
            except WeightsError:
                say(f"{name}: present but wrong hash, downloading again")
            else:
                say(f"{name}: present, verified")
                done.append(path)
                continue
        target_dir.mkdir(parents=True, exist_ok=True)
        say(f"{name}: downloading {item.url}")
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(prefix=f".{item.filename}.", suffix=".part", dir=target_dir)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(item.url, timeout=timeout) as resp:
                while chunk := resp.read(_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            hexdigest = digest.hexdigest()
            bad_hash = item.pinned and not item.hash_matches(hexdigest)
            if bad_hash or (item.size is not None and size != item.size):
                raise WeightsError(
                    f"download of {item.name!r} from {item.url} has SHA-256 {hexdigest} and {size} bytes, "
                    f"expected {item.expected_hash_text()}" + ("" if item.size is None else f" and {item.size} bytes")
                )
            os.replace(tmp, path)
        except OSError as exc:
            raise WeightsError(f"download of {item.name!r} from {item.url} failed: {exc}") from exc
        finally:
            tmp.unlink(missing_ok=True)
        if not item.pinned:
            where = _record_pin(name, hexdigest, size)
            say(f"{name}: pinned SHA-256 {hexdigest}, size {size} in {where}; review and commit it")
        elif item.sha256 is None:
            say(f"{name}: full SHA-256 {hexdigest}, size {size}: pin these in the manifest")
        say(f"{name}: saved {path}")
        done.append(path)
    return done


def fetch_image(
    required: Iterable[str],
    optional: Iterable[str],
    *,
    dest: Path | None = None,
    report: Callable[[str], None] | None = None,
    timeout: float = 60.0,
) -> dict[str, str]:
    """The image build's fetch: every ``required`` entry must arrive verified; the ``optional`` ones (presets)
    are fetched where they can be.

    A required file that cannot be fetched fails the build (:class:`WeightsError`). An optional one whose
    download fails is left out of the image with a loud warning, and the catalogue then does not offer it. An
    unpinned optional entry is pinned on this download (see :func:`fetch`). Last, ``SHA256SUMS`` is written
    into the folder: the files the image holds and their hashes. Returns those (file name -> SHA-256).
    """
    say = report or log.info
    target = dest if dest is not None else weights_dir()
    required = list(required)
    fetch(required, dest=target, report=say, timeout=timeout)
    held = list(required)
    for name in optional:
        try:
            fetch([name], dest=target, report=say, timeout=timeout, pin=True)
        except WeightsError as exc:
            say(f"WARNING: {name} LEFT OUT OF THE IMAGE: {exc}; the bot will not offer it")
            continue
        held.append(name)
    sums: dict[str, str] = {}
    for name in held:
        item = entry(name)  # read again: a pin taken just now is in the manifest
        if item.bundled is None:
            sums[item.filename] = item.sha256 or sha256_file(target / item.filename)
    target.mkdir(parents=True, exist_ok=True)
    (target / SUMS_FILE).write_text(format_sums(sums), encoding="utf-8")
    say(f"{SUMS_FILE}: {len(sums)} files in {target}")
    return sums


def _record_pin(name: str, sha256: str, size: int) -> Path:
    """Write ``sha256`` and ``size`` into the manifest file that defines ``name`` (the override wins)."""
    override = os.environ.get(MANIFEST_ENV, "").strip()
    candidates = ([Path(override)] if override else []) + [MANIFEST_PATH]
    for path in candidates:
        raw = json.loads(path.read_text(encoding="utf-8"))
        for item in raw:
            if isinstance(item, dict) and item.get("name") == name:
                item["sha256"] = sha256
                item["size"] = size
                path.write_text(json.dumps(raw, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
                return path
    raise WeightsError(f"cannot record the pin of {name!r}: no manifest file defines it")
