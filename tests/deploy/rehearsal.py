"""The image build rehearsed on this host, without Docker.

`Dockerfile.lambda` is read as Docker reads it (instructions, line continuations, stages). Its build stage is
then carried out here: WORKDIR, ENV and COPY as Docker does them, and each RUN line as written, by bash, with
PATH limited to a folder holding only the commands of `infra/image/base-image-commands.txt` (what the base image
has). Absolute paths of the image (`/asset`, `/opt/weights`, the WORKDIR) are mapped into a temporary folder.
Two commands stand in for the image's own, because this host is not the image:

- `python` is this host's interpreter without its site-packages (`-S`): only the standard library and what the
  build put on PYTHONPATH are importable, as in the image.
- `pip` installs the locked wheels for the image's platform (CPython 3.12, manylinux x86_64, hash-checked,
  `--only-binary=:all:`) into a folder of their own, from a wheel cache filled from the package index on first
  use; the later steps, which run on this host's Python 3.11, get this host's copies of the same locked
  distributions in the target instead (files linked, folders real, so `rm` removes only links). Where a lock
  file names an index that cannot be reached from here (PyTorch's), its pins resolve no further and the step
  says so.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from infra.local.lambda_emulator import ROOT

DOCKERFILE = ROOT / "Dockerfile.lambda"
DOCKERIGNORE = ROOT / ".dockerignore"
BASE_IMAGE_COMMANDS = ROOT / "infra" / "image" / "base-image-commands.txt"
WHEEL_CACHE = ROOT / ".cache" / "image-wheels"
STAND_IN_PIP = Path(__file__).with_name("rehearsal_pip.py")

# What bash runs itself: never looked up on PATH.
SHELL_BUILTINS = frozenset(
    {"cd", "echo", "test", "[", "set", "export", "true", "false", "printf", "command", "exit", ":", "source"}
    | {".", "eval", "exec", "read", "unset", "shift"}
)
# The image's paths that the rehearsal maps into its own folder.
IMAGE_PATHS = ("/asset", "/opt/weights")


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction: its keyword, its arguments (continuations joined), its line and stage."""

    keyword: str
    arguments: str
    line: int
    stage: int


def instructions(text: str) -> list[Instruction]:
    """The instructions of a Dockerfile, as Docker reads them (comments and blank lines left out)."""
    result: list[Instruction] = []
    stage = -1
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1])
            continue
        pending.append(stripped)
        keyword, _, arguments = " ".join(pending).partition(" ")
        pending = []
        if keyword.upper() == "FROM":
            stage += 1
        result.append(Instruction(keyword.upper(), arguments.strip(), start, stage))
    return result


def commands_of(shell: str) -> list[str]:
    """The names of the commands a shell line runs (first words of each simple command, after assignments)."""
    lexer = shlex.shlex(shell, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    names: list[str] = []
    expecting = True
    for token in lexer:
        if token in {"&&", "||", ";", "|", "&", "(", ")", "{", "}", "!"}:
            expecting = True
            continue
        if not expecting:
            continue
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", token):
            continue  # VAR=value before the command
        names.append(token)
        expecting = False
    return names


def allowed_commands() -> frozenset[str]:
    lines = BASE_IMAGE_COMMANDS.read_text().splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def commands_the_base_image_lacks(text: str) -> list[str]:
    """`line N: command` for every command a RUN line calls that the base image does not have."""
    allowed = allowed_commands() | SHELL_BUILTINS
    return [
        f"line {step.line}: {name}"
        for step in instructions(text)
        if step.keyword == "RUN"
        for name in commands_of(step.arguments)
        if name not in allowed
    ]


@dataclass
class Rehearsal:
    """One run of the build stage in `root`; `log` holds every step's command and output."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    @property
    def asset(self) -> Path:
        return self.root / "asset"

    @property
    def weights(self) -> Path:
        return self.root / "opt" / "weights"

    def output(self) -> str:
        return "\n".join(self.log)

    def map_paths(self, text: str) -> str:
        for image_path in IMAGE_PATHS:
            text = re.sub(rf"(?<![\w/]){re.escape(image_path)}(?![\w])", str(self.root) + image_path, text)
        return text


def _bin_folder(folder: Path, env_python: Path) -> None:
    """Each allowed command this host has, linked; python and pip as the stand-ins described above."""
    folder.mkdir(parents=True)
    host_python = Path(getattr(sys, "_base_executable", sys.executable))
    for name in allowed_commands():
        target = folder / name
        if name.startswith("python"):
            target.write_text(f'#!/bin/sh\nexec {shlex.quote(str(host_python))} -S "$@"\n')
        elif name.startswith("pip"):
            target.write_text(f'#!/bin/sh\nexec {shlex.quote(str(env_python))} {shlex.quote(str(STAND_IN_PIP))} "$@"\n')
        else:
            found = shutil.which(name)
            if found is None:
                continue
            target.symlink_to(found)
            continue
        target.chmod(0o755)


def rehearse(root: Path, *, extra_env: dict[str, str], until_failure: bool = True) -> tuple[Rehearsal, int]:
    """Carry out the build stage of Dockerfile.lambda in `root`; returns the rehearsal and the exit status of
    the last RUN line run (non-zero: the build would stop there)."""
    rehearsal = Rehearsal(root)
    bin_folder = root / "bin"
    _bin_folder(bin_folder, Path(sys.executable))
    workdir = root
    env = {
        "PATH": str(bin_folder),
        "HOME": str(root / "home"),
        "LANG": "C.UTF-8",
        "REHEARSAL_WHEEL_CACHE": str(WHEEL_CACHE),
        "REHEARSAL_PLATFORM_TARGET": str(root / "image-site-packages"),
        **extra_env,
    }
    (root / "home").mkdir(exist_ok=True)
    build_stage = [step for step in instructions(DOCKERFILE.read_text()) if step.stage == 0]
    status = 0
    for step in build_stage:
        if step.keyword == "WORKDIR":
            workdir = root / step.arguments.lstrip("/")
            workdir.mkdir(parents=True, exist_ok=True)
        elif step.keyword == "ENV":
            for name, value in re.findall(r"(\w+)=(\S+)", step.arguments):
                env[name] = rehearsal.map_paths(value)
        elif step.keyword == "COPY":
            *sources, destination = shlex.split(step.arguments)
            _copy(sources, destination, workdir, rehearsal)
        elif step.keyword == "RUN":
            command = rehearsal.map_paths(step.arguments)
            result = subprocess.run(
                ["/bin/bash", "-c", command],
                cwd=workdir,
                env=env,
                capture_output=True,
                text=True,
                timeout=1200,
                check=False,
            )
            rehearsal.log.append(f"$ {command}\n{result.stdout}{result.stderr}(exit {result.returncode})")
            status = result.returncode
            if status != 0 and until_failure:
                break
    rehearsal.env = env
    return rehearsal, status


def left_out_of_the_image(path: str) -> bool:
    """Whether .dockerignore keeps `path` (relative to the repository, with /) out of the build context: the
    last rule that matches it decides, as in Docker (`!` lets back in; `**/` matches any folders)."""
    excluded = False
    for line in DOCKERIGNORE.read_text().splitlines():
        rule = line.strip()
        if not rule or rule.startswith("#"):
            continue
        keep, pattern = rule.startswith("!"), rule.lstrip("!").rstrip("/")
        parts = path.split("/")
        candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]  # a rule on a folder covers its files
        if pattern.startswith("**/"):
            candidates += ["/".join(parts[i : j + 1]) for i in range(len(parts)) for j in range(i, len(parts))]
            pattern = pattern[3:]
        if any(fnmatch.fnmatchcase(candidate, pattern) for candidate in candidates):
            excluded = not keep
    return excluded


def _copy(sources: list[str], destination: str, workdir: Path, rehearsal: Rehearsal) -> None:
    """COPY as Docker does it, from the build context (.dockerignore applied): files into a folder (trailing
    slash or several sources), a folder's content."""
    target = Path(rehearsal.map_paths(destination)) if destination.startswith("/") else workdir / destination

    def ignored(folder: str, names: list[str]) -> set[str]:
        relative = Path(folder).resolve().relative_to(ROOT).as_posix()
        return {name for name in names if left_out_of_the_image(f"{relative}/{name}")}

    for source in sources:
        path = ROOT / source
        if left_out_of_the_image(source):
            raise FileNotFoundError(f"COPY {source}: .dockerignore leaves it out of the build context")
        if path.is_dir():
            shutil.copytree(path, target, ignore=ignored, dirs_exist_ok=True)
        elif destination.endswith("/") or len(sources) > 1:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target / path.name)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    rehearsal.log.append(f"COPY {' '.join(sources)} {target}")
