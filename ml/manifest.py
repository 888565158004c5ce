"""The weights manifest, torch-free: what every weights file is, where it lives, and what the image holds.

``ml/manifest.json`` lists every weights file: its name, file name, download URL, SHA-256, size and licence.
Small files ship inside the package (``bundled``: a path relative to ``ml/``); the others live in the folder
named by ``STYLEBOT_WEIGHTS_DIR`` under their manifest file names. ``STYLEBOT_MANIFEST`` may name an extra
JSON manifest (same format) whose entries replace or add to the packaged ones by name.

The image build writes ``SHA256SUMS`` (``sha256sum`` format) into the weights folder: the files it fetched and
verified, and nothing else. Where that file exists, it is what the image holds: the build fails without any
preset it is meant to hold, so this only matters for presets switched off by the licence settings when it ran,
which the catalogue then does not offer (:func:`not_in_image`). The webhook reads this
module (through ``ml.registry``), so it imports no torch.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ml.errors import WeightsError
from ml.paths import weights_dir

MANIFEST_ENV = "STYLEBOT_MANIFEST"
PACKAGE_DIR = Path(__file__).resolve().parent
MANIFEST_PATH = PACKAGE_DIR / "manifest.json"
FETCH_COMMAND = "python -m ml weights fetch"
# What the image build fetched and verified, in the weights folder (`sha256sum -c SHA256SUMS` checks it).
SUMS_FILE = "SHA256SUMS"


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


def format_sums(sums: Mapping[str, str]) -> str:
    """``sha256sum``'s format: one ``<hash>  <file name>`` line per file, sorted by name."""
    return "".join(f"{digest}  {filename}\n" for filename, digest in sorted(sums.items()))


def read_sums(folder: Path) -> dict[str, str] | None:
    """File name -> SHA-256 of the ``SHA256SUMS`` the image build wrote into ``folder``; None if there is none."""
    path = folder / SUMS_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise WeightsError(f"cannot read {path}: {exc}") from exc
    sums: dict[str, str] = {}
    for line in text.splitlines():
        digest, sep, filename = line.strip().partition("  ")
        if not sep or len(digest) != 64:
            raise WeightsError(f"bad line in {path}: {line!r}")
        sums[filename.lstrip("*")] = digest.lower()
    return sums


def not_in_image(names: Iterable[str]) -> set[str]:
    """Those of the entries ``names`` that an image build's ``SHA256SUMS`` exists and does not list.

    Without that file (local runs, tests), every entry counts as present; loading it still checks it. The
    manifest and the sums are each read once, whatever the number of names.
    """
    sums = read_sums(weights_dir())
    if sums is None:
        return set()
    entries = manifest()
    return {name for name in names if entries[name].bundled is None and entries[name].filename not in sums}


# (path, size, mtime_ns, expected hash) of files this process found whole and as pinned.
_runnable: set[tuple[str, int, int, str]] = set()


def _present_and_verified(item: WeightEntry, sums: Mapping[str, str] | None) -> bool:
    """Whether the file of ``item`` is there and is the pinned one: listed by the image build's sums where they
    exist, else hashed here (once per process and file version)."""
    path = path_of(item)
    if not item.pinned or not path.is_file():
        return False
    if item.bundled is None and sums is not None:
        return item.filename in sums and item.hash_matches(sums[item.filename])
    stat = path.stat()
    if item.size is not None and stat.st_size != item.size:
        return False
    key = (str(path), stat.st_size, stat.st_mtime_ns, item.expected_hash_text())
    if key not in _runnable:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
        if not item.hash_matches(digest.hexdigest()):
            return False
        _runnable.add(key)
    return True


def missing(names: Iterable[str]) -> set[str]:
    """Those of the entries ``names`` whose files are absent, incomplete or not the pinned ones: what cannot run
    here. In the image, its ``SHA256SUMS`` says what it holds; elsewhere each file is hashed (once)."""
    sums = read_sums(weights_dir())
    entries = manifest()
    return {name for name in names if not _present_and_verified(entries[name], sums)}
