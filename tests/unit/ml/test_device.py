from __future__ import annotations

import pytest
import torch

from ml import device

X86_WITH_BF16 = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16 amx_tile\n"
X86_WITHOUT = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512bw\n"
ARM_WITH_BF16 = "processor\t: 0\nFeatures\t: fp asimd sve bf16 i8mm\n"
ARM_WITHOUT = "processor\t: 0\nFeatures\t: fp asimd evtstrm aes\n"


@pytest.mark.parametrize(
    ("cpuinfo", "expected"),
    [(X86_WITH_BF16, True), (X86_WITHOUT, False), (ARM_WITH_BF16, True), (ARM_WITHOUT, False), ("", False)],
)
def test_bf16_detection_reads_cpu_flags(cpuinfo: str, expected: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given no override, When the CPU flags say whether bf16 is native, Then the answer follows them
    monkeypatch.delenv("STYLEBOT_BF16", raising=False)
    assert device.native_bf16_supported(cpuinfo) is expected


@pytest.mark.parametrize(
    ("cpuinfo", "isa"),
    [
        (X86_WITH_BF16, "avx512"),
        ("flags\t\t: fpu sse2 sse4_2 avx avx2 fma f16c\n", "avx2"),
        (ARM_WITH_BF16, "sve"),
        (ARM_WITHOUT, "neon"),
    ],
)
def test_vector_isa_is_the_widest_the_flags_name(cpuinfo: str, isa: str) -> None:
    assert device.vector_isa(cpuinfo) == isa


def test_bf16_mode_says_whether_the_answer_was_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STYLEBOT_BF16", "0")
    assert device.bf16_mode() == "forced off"
    monkeypatch.setenv("STYLEBOT_BF16", "1")
    assert device.bf16_mode() == "forced on"
    monkeypatch.delenv("STYLEBOT_BF16")
    assert device.bf16_mode() == ("native" if device.native_bf16_supported() else "absent")


def test_bf16_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STYLEBOT_BF16", "0")
    assert device.native_bf16_supported(X86_WITH_BF16) is False
    assert device.compute_dtype() == torch.float32
    monkeypatch.setenv("STYLEBOT_BF16", "1")
    assert device.native_bf16_supported(X86_WITHOUT) is True
    assert device.compute_dtype() == torch.bfloat16
    # An explicit "no" wins over a capable CPU
    assert device.compute_dtype(False) == torch.float32
    monkeypatch.setenv("STYLEBOT_BF16", "yes")
    with pytest.raises(ValueError, match="STYLEBOT_BF16"):
        device.native_bf16_supported()


def test_threads_follow_available_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STYLEBOT_THREADS", raising=False)
    n = device.available_cpus()
    assert n >= 1
    assert device.configure_threads() == n == torch.get_num_threads()
    monkeypatch.setenv("STYLEBOT_THREADS", "1")
    assert device.configure_threads() == 1 == torch.get_num_threads()
    with pytest.raises(ValueError):
        device.configure_threads(0)
