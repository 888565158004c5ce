"""The weights manifest and the one loader every model uses.

``ml/manifest.json`` lists every weights file: its name, file name, download URL, SHA-256, size and licence.
Small files ship inside the package (``bundled``: a path relative to ``ml/``); the others live in the folder
named by ``STYLEBOT_WEIGHTS_DIR`` under their manifest file names and are downloaded by
``python -m ml weights fetch`` (the Lambda image runs it at build time).

Every file is checked against its SHA-256 the first time a process uses it; a missing file or a wrong hash
is a :class:`~ml.errors.WeightsError` that names the file and the command that fixes it.

``STYLEBOT_MANIFEST`` may name an extra JSON manifest (same format) whose entries replace or add to the
packaged ones by name. It is the one documented way to use weights the packaged manifest does not pin, e.g.
locally trained or randomly initialised files in tests: they are still verified, against the hashes that
manifest gives. ``resolve(name, verify=False)`` skips the hash check for a caller that asks for it explicitly.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ml.errors import WeightsError
from ml.paths import WEIGHTS_DIR_ENV, weights_dir

log = logging.getLogger(__name__)

MANIFEST_ENV = "STYLEBOT_MANIFEST"
PACKAGE_DIR = Path(__file__).resolve().parent
MANIFEST_PATH = PACKAGE_DIR / "manifest.json"
FETCH_COMMAND = "python -m ml weights fetch"

_CHUNK = 1 << 20


@dataclass(frozen=True)
class WeightEntry:
    """One file of the manifest."""

    name: str
    filename: str
    url: str
    sha256: str | None
    size: int | None
    licence: str
    bundled: str | None = None
    sha256_prefix: str | None = None
    note: str | None = None

    @staticmethod
    def from_json(raw: Mapping[str, Any]) -> WeightEntry:
        try:
            entry = WeightEntry(
                name=str(raw["name"]),
                filename=str(raw["filename"]),
                url=str(raw["url"]),
                sha256=None if raw.get("sha256") is None else str(raw["sha256"]).lower(),
                size=None if raw.get("size") is None else int(raw["size"]),
                licence=str(raw["licence"]),
                bundled=None if raw.get("bundled") is None else str(raw["bundled"]),
                sha256_prefix=None if raw.get("sha256_prefix") is None else str(raw["sha256_prefix"]).lower(),
                note=None if raw.get("note") is None else str(raw["note"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise WeightsError(f"bad manifest entry {dict(raw)!r}: {exc}") from exc
        return entry

    @property
    def pinned(self) -> bool:
        """Whether the manifest gives a hash (full or prefix) to check this file against."""
        return self.sha256 is not None or self.sha256_prefix is not None

    def expected_hash_text(self) -> str:
        if not self.pinned:
            return "no pinned hash"
        return self.sha256 or f"{self.sha256_prefix}… (prefix)"

    def hash_matches(self, digest: str) -> bool:
        if self.sha256 is not None:
            return digest == self.sha256
        return self.sha256_prefix is not None and digest.startswith(self.sha256_prefix)


def _read_manifest(path: Path) -> list[WeightEntry]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise WeightsError(f"cannot read the weights manifest {path}: {exc}") from exc
    if not isinstance(raw, list):
        raise WeightsError(f"the weights manifest {path} must be a JSON list of entries")
    return [WeightEntry.from_json(item) for item in raw]


def manifest() -> dict[str, WeightEntry]:
    """All entries by name: the packaged manifest, updated by the one ``STYLEBOT_MANIFEST`` names, if any."""
    entries = {e.name: e for e in _read_manifest(MANIFEST_PATH)}
    override = os.environ.get(MANIFEST_ENV, "").strip()
    if override:
        entries.update({e.name: e for e in _read_manifest(Path(override))})
    return entries


def entry(name: str) -> WeightEntry:
    entries = manifest()
    try:
        return entries[name]
    except KeyError:
        raise WeightsError(f"no weights named {name!r} in the manifest (known: {', '.join(sorted(entries))})") from None


def path_of(item: WeightEntry) -> Path:
    """Where the file of ``item`` is expected (inside the package if bundled, else in :func:`weights_dir`)."""
    if item.bundled is not None:
        return PACKAGE_DIR / item.bundled
    return weights_dir() / item.filename


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
    digest = sha256_file(path)
    if not item.hash_matches(digest):
        raise WeightsError(
            f"weights file {path} for {item.name!r} has SHA-256 {digest}, "
            f"expected {item.expected_hash_text()}; "
            f"it is corrupt or not the right file: {_fix_hint(item)}"
        )
    _verified.add(key)


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
