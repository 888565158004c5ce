from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch

from ml import weights
from ml.errors import WeightsError


def _manifest(path: Path, entries: list[dict[str, object]]) -> Path:
    path.write_text(json.dumps(entries), encoding="utf-8")
    return path


def _entry(name: str, filename: str, url: str, sha: str | None, size: int | None) -> dict[str, object]:
    return {"name": name, "filename": filename, "url": url, "sha256": sha, "size": size, "licence": "test"}


@pytest.fixture
def tiny_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str, int]:
    """A small state dict served from a local 'remote' folder, and a manifest override that pins it."""
    remote = tmp_path / "remote"
    remote.mkdir()
    source = remote / "tiny.pth"
    torch.save({"w": torch.arange(6.0).view(2, 3)}, source)
    data = source.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    manifest = _manifest(tmp_path / "manifest.json", [_entry("tiny", "tiny-1234.pth", source.as_uri(), sha, len(data))])
    monkeypatch.setenv("STYLEBOT_MANIFEST", str(manifest))
    monkeypatch.setenv("STYLEBOT_WEIGHTS_DIR", str(tmp_path / "weights"))
    return source, sha, len(data)


def test_packaged_manifest_pins_every_file(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the manifest that ships with the package (not a test override a session fixture may have set)
    monkeypatch.delenv("STYLEBOT_MANIFEST", raising=False)
    entries = weights.manifest()
    # Then every entry has a URL, a licence and a full hash, or is unpinned on purpose
    assert {"vgg19", "microast_content_encoder", "microast_decoder"} <= set(entries)
    for item in entries.values():
        assert item.url.startswith("https://") and item.licence
        pinned = (item.sha256 is not None and len(item.sha256) == 64) or item.sha256_prefix
        # or unpinned on purpose (no trustworthy public hash), saying its first download pins it
        assert pinned or (not item.pinned and item.note is not None and "first download" in item.note)
    assert entries["vgg19"].filename == "vgg19-dcbb9e9d.pth"
    # And the VGG is pinned in full: its file name's prefix alone would let a different file through
    assert entries["vgg19"].hash_matches("dcbb9e9dad569fff7a846263a77324fc34978fea2bfb039c012d710e1776ae44")
    assert not entries["vgg19"].hash_matches("dcbb9e9d" + "0" * 56)


def test_bundled_microast_files_verify() -> None:
    # Given the MicroAST weights shipped in the package, When resolved,
    # Then their SHA-256 matches the manifest
    for name in (
        "microast_content_encoder",
        "microast_style_encoder",
        "microast_modulator",
        "microast_decoder",
    ):
        path = weights.resolve(name)
        assert path.is_file()
        assert hashlib.sha256(path.read_bytes()).hexdigest() == weights.entry(name).sha256


def test_missing_file_names_the_file_and_the_fix(tiny_weights: tuple[Path, str, int]) -> None:
    with pytest.raises(WeightsError) as info:
        weights.resolve("tiny")
    message = str(info.value)
    assert "tiny-1234.pth" in message and "missing" in message
    assert "python -m ml weights fetch tiny" in message


def test_wrong_hash_is_refused(tiny_weights: tuple[Path, str, int]) -> None:
    # Given a file of the right name and size but other bytes
    _, _, size = tiny_weights
    target = weights.weights_dir() / "tiny-1234.pth"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"x" * size)
    # When it is resolved, Then the hash mismatch is an error that names the file and the fix
    with pytest.raises(WeightsError, match="SHA-256") as info:
        weights.load_state_dict("tiny")
    assert str(target) in str(info.value) and "fetch" in str(info.value)
    # And only an explicit verify=False skips the check
    assert weights.resolve("tiny", verify=False) == target


def test_fetch_downloads_verifies_and_loads(tiny_weights: tuple[Path, str, int]) -> None:
    # When the weights are fetched from their URL
    paths = weights.fetch(["tiny"])
    # Then the file is in STYLEBOT_WEIGHTS_DIR under its manifest name, no temporary file is left,
    # and it loads
    assert paths == [weights.weights_dir() / "tiny-1234.pth"]
    assert sorted(p.name for p in weights.weights_dir().iterdir()) == ["tiny-1234.pth"]
    state = weights.load_state_dict("tiny")
    assert torch.equal(state["w"], torch.arange(6.0).view(2, 3))


def test_fetch_refuses_a_corrupt_download(tiny_weights: tuple[Path, str, int]) -> None:
    # Given the remote file changed since the manifest pinned it
    source, _, _ = tiny_weights
    torch.save({"w": torch.zeros(2, 3)}, source)
    # When fetched, Then the download is refused and nothing is left behind
    with pytest.raises(WeightsError, match="SHA-256"):
        weights.fetch(["tiny"])
    folder = weights.weights_dir()
    assert not folder.exists() or list(folder.iterdir()) == []


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(WeightsError, match=r"known: .*vgg19"):
        weights.resolve("monet")


def test_weights_dir_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STYLEBOT_WEIGHTS_DIR", str(tmp_path / "w"))
    assert weights.weights_dir() == tmp_path / "w"
    monkeypatch.delenv("STYLEBOT_WEIGHTS_DIR")
    assert weights.weights_dir().parts[-2:] == ("stylebot", "weights")


def test_the_image_fetch_fails_without_a_required_file_or_a_preset_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a manifest whose VGG19 cannot be downloaded
    from ml import registry

    gone = (tmp_path / "gone.pth").as_uri()
    vgg = weights.entry("vgg19")
    required, preset_names = registry.image_weights_names()
    entries = [_entry("vgg19", vgg.filename, gone, vgg.sha256, vgg.size)]
    monkeypatch.setenv("STYLEBOT_MANIFEST", str(_manifest(tmp_path / "manifest.json", entries)))
    lines: list[str] = []
    assert "vgg19" in required
    # When the image build's fetch runs, Then it fails, naming VGG19's file, and writes no SHA256SUMS
    with pytest.raises(WeightsError, match=f"download of 'vgg19' \\({vgg.filename}\\)"):
        weights.fetch_image(required, preset_names, dest=tmp_path / "weights", report=lines.append)
    assert not (tmp_path / "weights" / weights.SUMS_FILE).exists()
    # Given every file reachable but one preset (unpinned, as the packaged presets are)
    published = tmp_path / "published"
    published.mkdir()
    entries = []
    for seed, name in enumerate(["vgg19", *preset_names]):
        item = weights.entry(name)
        torch.save({"w": torch.full((2,), float(seed))}, published / item.filename)
        data = (published / item.filename).read_bytes()
        sha = hashlib.sha256(data).hexdigest() if name == "vgg19" else None
        entries.append(_entry(name, item.filename, (published / item.filename).as_uri(), sha, sha and len(data)))
    lost = weights.entry(preset_names[1])
    (published / lost.filename).unlink()
    monkeypatch.setenv("STYLEBOT_MANIFEST", str(_manifest(tmp_path / "manifest.json", entries)))
    # When the image build's fetch runs, Then the build fails, naming that preset's file: no image without it
    with pytest.raises(WeightsError) as info:
        weights.fetch_image(required, preset_names, dest=tmp_path / "weights", report=lines.append)
    assert lost.filename in str(info.value) and "LEFT OUT" not in "\n".join(lines)
    assert not (tmp_path / "weights" / weights.SUMS_FILE).exists()


def test_the_fetch_command_makes_every_offered_file_available_pinning_the_unpinned_on_first_download(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a manifest like the packaged one: VGG19 pinned, the presets with no published hash (tiny files here)
    from ml import cli, registry
    from tests.ml_helpers import publish_tiny_weights

    manifest = publish_tiny_weights(tmp_path)
    monkeypatch.setenv("STYLEBOT_MANIFEST", str(manifest))
    monkeypatch.setenv("STYLEBOT_WEIGHTS_DIR", str(tmp_path / "weights"))
    monkeypatch.delenv(registry.NONCOMMERCIAL_ENV, raising=False)
    assert registry.runnable() == []
    # When the command the bot names runs, as it is named
    assert weights.FETCH_COMMAND == "python -m ml weights fetch"
    status = cli.main(["weights", "fetch"])
    out, err = capsys.readouterr()
    # Then it succeeds, each unpinned preset trusted on this download, saying so loudly with the hash it pinned
    assert status == 0, out + err
    pins = {item["name"]: item["sha256"] for item in json.loads(manifest.read_text())}
    for preset in registry.PRESETS:
        assert pins[preset.weights] and f"{preset.weights}" in out
        (line,) = [x for x in (out + err).splitlines() if preset.weights in x and "trusted on first download" in x]
        assert pins[preset.weights] in line and "review and commit the pin" in line
    # And a progress line per file reached 100 %, on stderr
    assert all(f"{weights.entry(p.weights).filename}: 100%" in err for p in registry.PRESETS), err
    # And every preset and the best quality can run now
    assert [p.id for p in registry.runnable()] == [p.id for p in registry.PRESETS]
    assert registry.runnable_qualities() == ["quick", "best"]
    # And a second run verifies what is there against the pins, downloading nothing
    assert cli.main(["weights", "fetch"]) == 0
    out, err = capsys.readouterr()
    assert "trusted" not in out + err and "100%" not in err


def test_download_progress_says_each_tenth_on_a_line_of_its_own_without_a_terminal() -> None:
    import io

    # Given the progress of a 1000-byte file written to a pipe (no terminal)
    stream = io.StringIO()
    bar = weights.DownloadProgress(stream)
    # When its bytes arrive a few at a time
    for done in range(0, 1001, 7):
        bar("big.pth", done, 1000)
    bar("big.pth", 1000, 1000)
    # Then there is one line per 10 %, each with the file's name, to 100 %
    lines = stream.getvalue().splitlines()
    assert [line.split(": ")[1].split("%")[0].strip() for line in lines] == [str(n) for n in range(0, 101, 10)]
    assert all(line.startswith("big.pth: ") for line in lines) and "\r" not in stream.getvalue()
    assert lines[-1] == "big.pth: 100% of 1.0 kB"


def test_the_image_build_neither_needs_nor_fetches_presets_the_licence_settings_switch_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ml import registry

    # Given a commercial deployment (non-commercial presets off)
    monkeypatch.setenv(registry.NONCOMMERCIAL_ENV, "0")
    required, optional = registry.image_weights_names()
    # Then the image build requires VGG19 and the bundled models, tries the commercial presets, and never the others
    assert "vgg19" in required and "microast_decoder" in required
    for preset in registry.PRESETS:
        assert preset.weights not in required
        assert (preset.weights in optional) == preset.commercial_use


@pytest.mark.parametrize("zip_format", [True, False], ids=["zip", "legacy"])
def test_checkpoints_in_either_torch_format_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zip_format: bool
) -> None:
    # Given a checkpoint saved in torch's zip format (memory-mapped when loaded) or its legacy one (old public
    # checkpoints), pinned by a manifest
    folder = tmp_path / "weights"
    folder.mkdir()
    path = folder / "ckpt.pth"
    torch.save({"w": torch.arange(4.0)}, path, _use_new_zipfile_serialization=zip_format)
    data = path.read_bytes()
    entry = _entry("ckpt", "ckpt.pth", path.as_uri(), hashlib.sha256(data).hexdigest(), len(data))
    monkeypatch.setenv("STYLEBOT_MANIFEST", str(_manifest(tmp_path / "manifest.json", [entry])))
    monkeypatch.setenv("STYLEBOT_WEIGHTS_DIR", str(folder))
    # When it is loaded, Then the tensors are there
    assert torch.equal(weights.load_state_dict("ckpt")["w"], torch.arange(4.0))
