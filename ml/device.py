"""CPU capabilities and threading.

Device and precision are always parameters of the model code; this module only answers questions about the
machine: how many CPUs this process may use, and whether the CPU computes bfloat16 natively (emulated bf16 is
several times slower than fp32, so it must only be chosen where the hardware has it).
"""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported by the two functions that need it: the CPU questions do not
    import torch

#: Set to "1" or "0" to force the bf16 answer (for tests, or to opt out on a machine that has it).
BF16_ENV = "STYLEBOT_BF16"
#: Set to a positive integer to force the number of intra-op threads.
THREADS_ENV = "STYLEBOT_THREADS"

_X86_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
_ARM_BF16_FEATURES = frozenset({"bf16"})


def cpu_flags(cpuinfo_text: str) -> frozenset[str]:
    """The set of CPU feature flags in a ``/proc/cpuinfo`` text (x86 ``flags`` or ARM ``Features`` lines)."""
    flags: set[str] = set()
    for line in cpuinfo_text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() in {"flags", "features"}:
            flags.update(value.split())
    return frozenset(flags)


def _read_cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _macos_arm_bf16() -> bool:
    try:
        out = subprocess.run(
            ["sysctl", "-n", "hw.optional.arm.FEAT_BF16"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return out.stdout.strip() == "1"


def native_bf16_supported(cpuinfo_text: str | None = None) -> bool:
    """Whether the CPU has native bfloat16 arithmetic that PyTorch's CPU kernels use.

    x86: the ``avx512_bf16`` or ``amx_bf16`` flags; ARM: the ``bf16`` feature (Armv8.6 BF16). The environment
    variable ``STYLEBOT_BF16`` ("1"/"0") overrides the detection. ``cpuinfo_text`` replaces ``/proc/cpuinfo``.
    """
    forced = os.environ.get(BF16_ENV, "").strip()
    if forced in {"0", "1"}:
        return forced == "1"
    if forced:
        raise ValueError(f"{BF16_ENV} must be 0 or 1, not {forced!r}")
    if cpuinfo_text is None:
        if platform.system() == "Darwin":
            return platform.machine() == "arm64" and _macos_arm_bf16()
        cpuinfo_text = _read_cpuinfo()
    flags = cpu_flags(cpuinfo_text)
    return bool(flags & (_X86_BF16_FLAGS | _ARM_BF16_FEATURES))


def vector_isa(cpuinfo_text: str | None = None) -> str:
    """The widest vector instruction set of the CPU: "avx512", "avx2", "avx" or "sse" on x86, "sve" or "neon" on
    Arm, else the machine's name. ``cpuinfo_text`` replaces ``/proc/cpuinfo``."""
    if cpuinfo_text is None:
        if platform.system() == "Darwin":
            return "neon" if platform.machine() == "arm64" else platform.machine()
        cpuinfo_text = _read_cpuinfo()
    flags = cpu_flags(cpuinfo_text)
    for flag, name in (("avx512f", "avx512"), ("avx2", "avx2"), ("avx", "avx"), ("sse4_2", "sse"), ("sve", "sve")):
        if flag in flags:
            return name
    if flags & {"asimd", "neon"}:
        return "neon"
    return platform.machine() or "unknown"


def bf16_mode() -> str:
    """How the bf16 answer came about, for reports: "native", "forced on", "forced off" or "absent"."""
    forced = os.environ.get(BF16_ENV, "").strip()
    if forced in {"0", "1"}:
        return "forced on" if forced == "1" else "forced off"
    return "native" if native_bf16_supported() else "absent"


def _cgroup_cpu_limit() -> float | None:
    """CPUs allowed by a cgroup quota (v2 ``cpu.max`` or v1 ``cfs_quota_us``), or None without a quota."""
    v2 = Path("/sys/fs/cgroup/cpu.max")
    try:
        quota, period = v2.read_text().split()[:2]
        if quota != "max":
            return int(quota) / int(period)
        return None
    except (OSError, ValueError):
        pass
    try:
        quota_us = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text())
        period_us = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota_us / period_us if quota_us > 0 and period_us > 0 else None


def available_cpus() -> int:
    """CPUs this process may use: CPU affinity, capped by a cgroup quota (as in a container), at least 1."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        count = os.cpu_count() or 1
    limit = _cgroup_cpu_limit()
    if limit is not None:
        count = min(count, max(1, int(limit + 0.5)))
    return max(1, count)


def configure_threads(threads: int | None = None) -> int:
    """Set PyTorch's intra-op thread count (``threads``, ``STYLEBOT_THREADS`` or the available CPUs).

    Returns the count now in force. Safe to call many times.
    """
    if threads is None:
        env = os.environ.get(THREADS_ENV, "").strip()
        threads = int(env) if env else available_cpus()
    if threads < 1:
        raise ValueError(f"thread count must be positive, not {threads}")
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads


def compute_dtype(prefer_bf16: bool | None = None) -> torch.dtype:
    """The dtype for heavy convolutions: bfloat16 only where native (``prefer_bf16=None`` asks the CPU).

    ``prefer_bf16=False`` always gives fp32; ``True`` gives bf16 only if the CPU supports it natively.
    """
    import torch

    if prefer_bf16 is False:
        return torch.float32
    return torch.bfloat16 if native_bf16_supported() else torch.float32
