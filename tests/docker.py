"""Whether this machine can run the Docker-based tests (`sam build`, `sam local invoke`)."""

from __future__ import annotations

import shutil
import subprocess
from functools import cache


@cache
def docker_engine_available() -> bool:
    """A Docker client that reaches a running engine (a client alone cannot build or run images)."""
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=30, check=False).returncode == 0
