"""Running a function of template.yaml the way its container does, without Docker.

The AWS Lambda Runtime Interface Emulator (shipped inside the aws-sam-cli package) serves the Invoke API on
loopback and runs `python -m awslambdaric <ImageConfig.Command>`, exactly the entry point of the Lambda base
image. One emulator runs one execution environment: invocations are serial and share the process, so module
state (event loop, clients, caches) lives across invocations as it does in a warm Lambda container.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from infra.local.dynamodb import free_port
from infra.local.template import function_command

ROOT = Path(__file__).resolve().parents[2]


def emulator_binary() -> Path:
    import samcli

    arch = "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"
    return Path(samcli.__file__).parent / "local" / "rapid" / f"aws-lambda-rie-{arch}"


class EmulatedFunction:
    """One emulated execution environment of a template function."""

    def __init__(
        self,
        logical_id: str,
        environment: dict[str, str],
        *,
        timeout_seconds: int = 30,
        memory_mb: int = 512,
    ) -> None:
        self.logical_id = logical_id
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/2015-03-31/functions/function/invocations"
        self._environment = environment
        self._timeout = timeout_seconds
        self._memory = memory_mb
        self._process: subprocess.Popen[bytes] | None = None
        self.log_path = ROOT / ".local-state" / f"{logical_id}-{self.port}.log"

    def start(self) -> EmulatedFunction:
        command = function_command(self.logical_id)
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/tmp"),
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(ROOT),
            "AWS_LAMBDA_FUNCTION_NAME": self.logical_id,
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(self._timeout),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self._memory),
            **self._environment,
        }
        self.log_path.parent.mkdir(exist_ok=True)
        log = self.log_path.open("wb")
        self._process = subprocess.Popen(
            [
                str(emulator_binary()),
                "--log-level",
                "error",
                "--runtime-interface-emulator-address",
                f"127.0.0.1:{self.port}",
                "--runtime-api-address",
                f"127.0.0.1:{free_port()}",
                sys.executable,
                "-m",
                "awslambdaric",
                *command,
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        return self

    def invoke(self, event: dict[str, Any], timeout: float = 60.0) -> Any:
        """Invoke synchronously (RequestResponse) and return the decoded result."""
        request = urllib.request.Request(self.url, data=json.dumps(event).encode(), method="POST")
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    return json.loads(response.read() or b"null")
            except urllib.error.URLError as error:
                # The emulator needs a moment to listen after start.
                if isinstance(error, urllib.error.HTTPError) or time.monotonic() > deadline:
                    raise
                if isinstance(error.reason, ConnectionRefusedError):
                    time.sleep(0.05)
                    continue
                raise

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
            self._process = None
