"""How fast jobs really run here, learned from the recent ones: the time priors' correction per kind, size and
compute path.

The first "about N s left" a job shows comes from a prior (`ml.priors`: the benchmarks' figures on a 2-core
machine). A deployment's CPUs may be faster (Lambda gives more cores with more memory) or slower (a loaded
machine). So each job that ran on a warm engine leaves its pace, the seconds it took over the seconds the prior
expected, under its key; the next job of that key multiplies its prior by the median of the last few paces. A
median of a few samples ignores one odd job (a cancelled neighbour, a noisy host); a pace outside
`PACE_BOUNDS` is not taken (a clock jump, a job starved for CPU).
"""

from __future__ import annotations

from collections.abc import Sequence
from statistics import median

#: Paces kept per key (newest first); the prior's correction is their median.
RECENT_PACES = 5
#: A pace outside these bounds is dropped, not learned.
PACE_BOUNDS = (0.05, 20.0)


def pace_key(kind: str, size: int, path: str) -> str:
    """The key of a job's pace: what ran (``quick``, ``best`` or ``preset:<architecture>``), at which size (long
    side, px, as the user chose it) and on which compute path (`ml.priors.ComputePath`)."""
    return f"{kind}:{size}:{path}"


def usable(pace: float) -> bool:
    """Whether a measured pace is worth learning."""
    low, high = PACE_BOUNDS
    return low <= pace <= high


def learned_pace(paces: Sequence[float]) -> float:
    """The factor the next job's prior is multiplied by: the median of the recent paces (1.0: none yet)."""
    kept = [p for p in paces[:RECENT_PACES] if usable(p)]
    return median(kept) if kept else 1.0
