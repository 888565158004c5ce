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
import signal
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
        niceness: int = 0,
    ) -> None:
        """``niceness`` > 0 runs the environment at a lower CPU priority: on one machine, the stand-in for
        functions that in AWS run on CPUs of their own (the load script's workers)."""
        self.logical_id = logical_id
        self._niceness = niceness
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
                *(["nice", "-n", str(self._niceness)] if self._niceness else []),
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
            start_new_session=True,  # its own process group, so that kill() takes the runtime too
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

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole environment (emulator and runtime), as Lambda does on timeout or out of memory."""
        self._signal_session(signal.SIGKILL)

    def freeze(self) -> None:
        """SIGSTOP the whole environment, as Lambda freezes one between invocations."""
        self._signal_session(signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT: the environment runs on where it stopped, as a reused Lambda environment does."""
        self._signal_session(signal.SIGCONT)

    def _signal_session(self, sig: int) -> None:
        """Signal every process of the environment's session: the emulator puts the runtime in a process
        group of its own, but in its session."""
        if self._process is None:
            return
        session = self._process.pid
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if os.getsid(int(entry.name)) == session:
                    os.kill(int(entry.name), sig)
            except (ProcessLookupError, PermissionError):
                continue

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def runtime_cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the function's runtime process: the handler's own work and
        the runtime client's, not the emulator's."""
        if self._process is None:
            return 0.0
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for entry in Path("/proc").iterdir():
            try:
                if not entry.name.isdigit() or os.getsid(int(entry.name)) != self._process.pid:
                    continue
                # `python -m awslambdaric <handler>`, not the emulator (whose arguments name it too)
                if (entry / "cmdline").read_bytes().split(b"\0")[1:3] != [b"-m", b"awslambdaric"]:
                    continue
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, ProcessLookupError):
                continue
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        return total

    def stop(self) -> None:
        if self._process is not None:
            self._signal_session(signal.SIGTERM)
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._signal_session(signal.SIGKILL)
                self._process.wait(10)
            self._signal_session(signal.SIGKILL)  # a runtime that outlived its emulator
            self._process = None


class FunctionError(RuntimeError):
    """The function raised (the emulator answers 200 with Lambda's error document)."""

    def __init__(self, document: dict[str, Any]) -> None:
        super().__init__(f"{document.get('errorType')}: {document.get('errorMessage')}")
        self.document = document


def raise_for_function_error(result: Any) -> Any:
    if isinstance(result, dict) and {"errorType", "errorMessage"} <= result.keys() and "requestId" in result:
        raise FunctionError(result)
    return result


class EmulatorPool:
    """Execution environments of one function, as Lambda scales them: an idle warm one is reused, a busy
    one makes a new one, and one whose process died (killed, out of memory) is replaced."""

    def __init__(
        self, logical_id: str, environment: dict[str, str], *, timeout_seconds: int = 120, niceness: int = 0
    ) -> None:
        self.logical_id = logical_id
        self._environment = environment
        self._timeout = timeout_seconds
        self._niceness = niceness
        self._idle: list[EmulatedFunction] = []
        self.busy: list[EmulatedFunction] = []
        self.started = 0
        self._closed = False
        self._lock = __import__("threading").Lock()

    def invoke(self, event: dict[str, Any]) -> Any:
        """Invoke like Lambda: a function error raises FunctionError, a dead environment raises OSError."""
        with self._lock:
            if self._closed:  # an event delivered after the pool was stopped must not start an environment
                raise ConnectionRefusedError(f"{self.logical_id} is stopped")
            function = self._idle.pop() if self._idle else None
            if function is None:
                function = EmulatedFunction(
                    self.logical_id, self._environment, timeout_seconds=self._timeout, niceness=self._niceness
                ).start()
                self.started += 1
            self.busy.append(function)
        alive = True
        try:
            return raise_for_function_error(function.invoke(event, timeout=self._timeout + 30))
        except OSError:
            alive = False
            raise
        finally:
            with self._lock:
                self.busy.remove(function)
                if alive and function.running():
                    self._idle.append(function)
                else:
                    function.stop()

    def environments(self) -> list[EmulatedFunction]:
        """Every live environment, idle or busy."""
        with self._lock:
            return self._idle + self.busy

    def kill_busy(self) -> int:
        """Kill every environment that is running an invocation (SIGKILL: no cleanup, like an OOM kill)."""
        with self._lock:
            victims = list(self.busy)
        for function in victims:
            function.kill()
        return len(victims)

    def stop(self) -> None:
        with self._lock:
            self._closed = True
            for function in self._idle + self.busy:
                function.stop()
            self._idle.clear()
