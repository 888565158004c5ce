"""Dockerfile.lambda and its lock file, read statically (building needs Docker: tests/deploy/test_events.py)."""

from __future__ import annotations

import re
import tomllib

from infra.local.lambda_emulator import ROOT
from tests.deploy.rehearsal import left_out_of_the_image

DOCKERFILE = (ROOT / "Dockerfile.lambda").read_text()


def _pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        match = re.match(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^\s;]+)", line.strip())
        if match:
            pins[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    return pins


def test_lock_file_pins_every_direct_dependency_at_pyproject_versions() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    direct = _pins(project["dependencies"] + project["optional-dependencies"]["ml"])
    lock_lines = (ROOT / "requirements-lambda.txt").read_text().splitlines()
    torch_lines = (ROOT / "requirements-torch-cpu.txt").read_text().splitlines()
    locked = _pins(lock_lines + torch_lines)
    for name, version in direct.items():
        assert name in locked, f"{name} is missing from requirements-lambda.txt"
        assert locked[name].split("+")[0] == version, f"{name}: lock {locked[name]} vs pyproject {version}"
    # torch is the CPU-only build, from PyTorch's CPU index; torchvision is not a dependency (ml/vgg.py builds
    # VGG19 itself: ml/README.md, "VGG19 without torchvision")
    assert locked["torch"].endswith("+cpu") and "torchvision" not in locked
    assert "--index-url https://download.pytorch.org/whl/cpu" in torch_lines
    assert _pins(torch_lines).keys() == {"torch"}
    # and every other line is an exact pin (nothing floats), each followed by the SHA-256 of its wheels
    requirements = [
        line for line in lock_lines + torch_lines if line.strip() and not line.lstrip().startswith(("#", "--"))
    ]
    assert len(requirements) == len(locked)
    for number, line in enumerate(lock_lines):
        if _pins([line]):
            following = lock_lines[number + 1].strip() if number + 1 < len(lock_lines) else ""
            assert following.startswith("--hash=sha256:"), (
                f"no hash for {line.split()[0]}: python -m infra.scripts.lock_lambda"
            )


def test_image_is_lean_multi_stage_from_the_lambda_base_with_verified_weights() -> None:
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", DOCKERFILE, flags=re.MULTILINE)
    assert len(stages) == 2 and all(image.startswith("public.ecr.aws/lambda/python:") for image, _ in stages)
    final = DOCKERFILE.split("\nFROM ")[-1]
    # the final stage installs nothing: no pip, no package manager, so no compilers and no caches
    assert not re.search(r"\b(pip|dnf|yum|microdnf)\b", final)
    assert "COPY --from=build /opt/weights /opt/weights" in final and "STYLEBOT_WEIGHTS_DIR=/opt/weights" in final
    # weights fetched (and SHA-256 verified) by the project's own command, at build time
    assert "python -m ml weights fetch-image" in DOCKERFILE
    assert "--no-cache-dir" in DOCKERFILE and "--only-binary=:all:" in DOCKERFILE
    assert "--require-hashes" in DOCKERFILE and "-r requirements-lambda.txt" in DOCKERFILE
    # the build context carries only what the image needs
    # (everything is left out first, and only then are the image's inputs let back in: a rule after "!x" that
    # matched x would leave it out again)
    rules = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    rules = [rule for rule in rules if rule and not rule.startswith("#")]
    let_in = {"!handler/", "!ml/", "!requirements-lambda.txt", "!requirements-torch-cpu.txt"}
    assert rules[0] == "*", f".dockerignore must start by leaving everything out, not with {rules[0]!r}"
    assert let_in <= set(rules[1:]), f"the image's inputs are not let back in: {let_in - set(rules)}"
    # and the benchmarks, development tools that import the tests' simulated user, stay out of it
    assert left_out_of_the_image("ml/bench_cold.py") and not left_out_of_the_image("ml/nst.py")


def test_the_famous_paintings_and_their_previews_travel_with_the_image_and_the_install() -> None:
    # Given the paintings' pictures and previews, inside the ml package
    from ml import paintings

    files = [path for p in paintings.PAINTINGS for path in (p.file, p.preview)]
    files += [paintings.PAINTINGS_DIR / "SOURCES.md", paintings.PAINTINGS_DIR / "SHA256SUMS"]
    assert all(path.is_file() for path in files)
    # Then the image copies the whole package (the build context lets ml/ in, and ignores nothing of it but bytecode)
    assert re.search(r"^COPY ml /asset/ml$", DOCKERFILE, flags=re.MULTILINE)
    rules = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    assert not [rule for rule in rules if "paintings" in rule or rule.endswith(("*.jpg", "*.md"))]
    # And a local install (the package data of pyproject.toml) carries every one of those files
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["*"]
    assert all(any(path.match(pattern) for pattern in package_data) for path in files)
