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


def docker_bridge_gateway() -> str:
    """The host's address on Docker's default bridge network, which the containers `sam local invoke` starts
    are on: from a container, the host's own services are reached there."""
    result = subprocess.run(
        ["docker", "network", "inspect", "bridge", "--format", "{{range .IPAM.Config}}{{.Gateway}}{{end}}"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return result.stdout.strip()
