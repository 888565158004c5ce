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
available to the manifest's author: the preset checkpoints, whose publishers give none. Such a file is never
loaded. Its first download is trusted: the download's SHA-256 and size are written into the manifest file that
holds the entry (``STYLEBOT_MANIFEST``'s, else ``ml/manifest.json``), and a line starting ``WARNING`` prints the
hash with "trusted on first download, review and commit the pin". From then on the entry is pinned, and every
fetch and load verifies it. Every path that makes weights available takes that trust, so that what the bot
offers can always be made available by the command it names: ``python -m ml weights fetch`` (FETCH_COMMAND, named
by /help and the console), local mode's first-run fetch, and the image build's ``fetch-image``. A pinned entry is
never trusted: a download with another hash is refused. The API's ``fetch(names)`` still refuses an unpinned
entry unless the caller passes ``pin=True``, so that no caller takes that trust without saying so.

The image build requires every file: VGG19, the bundled models and each preset the licence settings allow. A
download that fails fails the build (:class:`~ml.errors.WeightsError`, naming the file): an image never ships
without a preset it is meant to offer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

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

if TYPE_CHECKING:  # torch is imported where a file is loaded: fetching and checking weights need none of it
    import torch

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
            f"`{FETCH_COMMAND} {item.name}` pins it on its first download; review and commit the manifest change"
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
    import torch

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


class WeightsUnreachable(WeightsError):
    """A download failed before any answer came: no network, no name resolution, refused, timed out. (A server
    that answered, with a 404 say, or a file with the wrong hash is a plain :class:`WeightsError`.)"""


# What a download's progress is told: the file's name, the bytes so far, the total (None: unknown).
ProgressReport = Callable[[str, int, "int | None"], None]


def _human(size: int) -> str:
    if size < 1000:
        return f"{size} B"
    value = float(size)
    for unit in ("kB", "MB", "GB"):
        value /= 1000
        if value < 1000 or unit == "GB":
            break
    return f"{value:.1f} {unit}"


class DownloadProgress:
    """A progress bar per downloaded file on ``stream`` (stderr): its name, percent and size.

    On a terminal the line is redrawn in place; elsewhere (a pipe, a log, ``docker build``) a line is written
    per 10 % (per 10 MB when the size is unknown), so the output stays readable.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self._last: tuple[str, int] | None = None  # (file, last step written)

    def __call__(self, filename: str, done: int, total: int | None) -> None:
        if total:
            step = min(100, done * 100 // total)
            step -= 0 if self.tty else step % 10
            text = f"{filename}: {step:3d}% of {_human(total)}"
        else:
            step = done // (1 if self.tty else 10_000_000)
            text = f"{filename}: {_human(done)}"
        if self._last == (filename, step):
            return
        self._last = (filename, step)
        finished = bool(total) and done >= (total or 0)
        if self.tty:
            self.stream.write("\r" + text + ("\n" if finished else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


def _unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` means the server was never reached (as opposed to an answer that was a refusal)."""
    if isinstance(exc, urllib.error.HTTPError):
        return False
    return isinstance(exc, (urllib.error.URLError, TimeoutError, socket.timeout, ConnectionError))


def fetch(
    names: Iterable[str] | None = None,
    *,
    dest: Path | None = None,
    report: Callable[[str], None] | None = None,
    timeout: float = 60.0,
    pin: bool = False,
    progress: ProgressReport | None = None,
) -> list[Path]:
    """Download the named (default: all not bundled) weights into ``dest`` (default :func:`weights_dir`).

    Files already present with the right hash are kept. Each download goes to a temporary file in the same
    folder, is verified, then renamed into place atomically. Bundled entries are verified in place.
    An unpinned entry is refused unless ``pin`` is true; then its download is trusted and its SHA-256 and size
    are recorded in the manifest file that defines it, and a loud line says so (see the module docstring).
    ``progress`` is told each file's bytes as they arrive (:class:`DownloadProgress`); it replaces the lines on
    the download's start and end. A download that never reached its server is :class:`WeightsUnreachable`.
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
                f"unverified. `{FETCH_COMMAND} {name}` pins it on its first download (review and commit the pin)."
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
        hexdigest, size = _download(item, path, timeout=timeout, say=None if progress else say, progress=progress)
        if not item.pinned:
            where = _record_pin(name, hexdigest, size)
            say(
                f"WARNING: {name} has no published SHA-256: trusted on first download, SHA-256 {hexdigest} "
                f"({size} bytes) pinned in {where}; review and commit the pin"
            )
        elif item.sha256 is None:
            say(f"{name}: full SHA-256 {hexdigest}, size {size}: pin these in the manifest")
        if progress is None:
            say(f"{name}: saved {path}")
        done.append(path)
    return done


def _download(
    item: WeightEntry,
    path: Path,
    *,
    timeout: float,
    say: Callable[[str], None] | None,
    progress: ProgressReport | None,
) -> tuple[str, int]:
    """Download ``item`` to ``path`` through a temporary file, checked against its pins; (SHA-256, size)."""
    what = f"{item.name!r} ({item.filename})"
    path.parent.mkdir(parents=True, exist_ok=True)
    if say is not None:
        say(f"{item.name}: downloading {item.url}")
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(prefix=f".{item.filename}.", suffix=".part", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(item.url, timeout=timeout) as resp:
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else item.size
            if progress is not None:
                progress(item.filename, 0, total)
            while chunk := resp.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
                if progress is not None:
                    progress(item.filename, size, total)
        hexdigest = digest.hexdigest()
        bad_hash = item.pinned and not item.hash_matches(hexdigest)
        if bad_hash or (item.size is not None and size != item.size):
            raise WeightsError(
                f"download of {what} from {item.url} has SHA-256 {hexdigest} and {size} bytes, "
                f"expected {item.expected_hash_text()}" + ("" if item.size is None else f" and {item.size} bytes")
            )
        os.replace(tmp, path)
    except OSError as exc:
        kind = WeightsUnreachable if _unreachable(exc) else WeightsError
        raise kind(f"download of {what} from {item.url} failed: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return hexdigest, size


def fetch_image(
    required: Iterable[str],
    presets: Iterable[str],
    *,
    dest: Path | None = None,
    report: Callable[[str], None] | None = None,
    timeout: float = 60.0,
    progress: ProgressReport | None = None,
) -> dict[str, str]:
    """The image build's fetch: every ``required`` entry and every one of ``presets`` (those the licence
    settings allow) must arrive verified, or the build fails (:class:`WeightsError`, naming the file): an image
    never ships without a preset it is meant to offer.

    An unpinned preset is pinned on this download (trusted on first download, see :func:`fetch`). Last,
    ``SHA256SUMS`` is written into the folder: the files the image holds and their hashes. Returns those
    (file name -> SHA-256).
    """
    say = report or log.info
    target = dest if dest is not None else weights_dir()
    held = [*required, *presets]
    fetch(held, dest=target, report=say, timeout=timeout, pin=True, progress=progress)
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
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            for item in raw:
                if isinstance(item, dict) and item.get("name") == name:
                    item["sha256"] = sha256
                    item["size"] = size
                    path.write_text(json.dumps(raw, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
                    return path
        except (OSError, ValueError) as exc:
            raise WeightsError(f"cannot record the pin of {name!r} (SHA-256 {sha256}) in {path}: {exc}") from exc
    raise WeightsError(f"cannot record the pin of {name!r}: no manifest file defines it")
