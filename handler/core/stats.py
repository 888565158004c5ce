"""The operator's numbers: one finished job's record, a day's summary, and /stats as text (pure, no I/O)."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from handler.core.job import JobStatus
from handler.core.quotas import Limits, QuotaKind
from handler.core.texts import text

# /stats shows today and the days before it, this many in all.
STATS_DAYS = 7
# The statuses /stats counts, in the order it shows them.
SHOWN_STATUSES = (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)


@dataclass(frozen=True)
class JobRecord:
    """One worker invocation that ran a job, as the worker measured it: nothing that leads to the user (not even
    the job's id, which the worker's idempotency record keeps after /forget)."""

    record_id: str  # random
    kind: QuotaKind
    size: int
    status: JobStatus
    seconds: float  # the invocation's run time
    wait_seconds: float | None  # from Start to the worker's claim


@dataclass(frozen=True)
class DaySummary:
    """A UTC day's counters: the jobs run, the refusals, and the worker time billed."""

    day: str
    jobs: Sequence[JobRecord] = ()
    refusals: Mapping[QuotaKind, int] = field(default_factory=dict)
    worker_seconds: float = 0.0
    gb_seconds: float = 0.0


def percentile(values: Sequence[float], share: float) -> float | None:
    """The `share` quantile (0.5: the median) of `values`, None for none."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    cuts = statistics.quantiles(sorted(values), n=100, method="inclusive")
    return cuts[round(share * 100) - 1]


def _seconds(value: float | None) -> str:
    return "–" if value is None else (f"{value:.1f}" if value < 100 else f"{value:.0f}")


def _block(title: str, days: Sequence[DaySummary], language: str, budget_seconds: float, price: float) -> str:
    jobs = [job for day in days for job in day.jobs]
    lines = [title]
    counts = []
    for kind in QuotaKind:
        of_kind = [j for j in jobs if j.kind == kind]
        parts = [
            f"{sum(1 for j in of_kind if j.status == s)} {text(f'stats_{s.lower()}', language)}" for s in SHOWN_STATUSES
        ]
        counts.append(f"{text(f'quota_kind_{kind}', language)}: " + " · ".join(parts))
    lines.append(text("stats_jobs", language, counts="; ".join(counts)))
    durations = []
    for kind in QuotaKind:
        seconds = [j.seconds for j in jobs if j.kind == kind]
        durations.append(
            f"{text(f'quota_kind_{kind}', language)} {_seconds(percentile(seconds, 0.5))}/"
            f"{_seconds(percentile(seconds, 0.95))}"
        )
    lines.append(text("stats_seconds", language, values="; ".join(durations)))
    waits = [j.wait_seconds for j in jobs if j.wait_seconds is not None]
    lines.append(
        text("stats_wait", language, p50=_seconds(percentile(waits, 0.5)), p95=_seconds(percentile(waits, 0.95)))
    )
    refusals = " · ".join(
        f"{text(f'quota_kind_{k}', language)} {sum(d.refusals.get(k, 0) for d in days)}" for k in QuotaKind
    )
    lines.append(text("stats_refusals", language, values=refusals))
    used = sum(d.worker_seconds for d in days)
    budget = budget_seconds * len(days)
    share = f" ({used / budget:.0%})" if budget > 0 else ""
    lines.append(text("stats_budget", language, used=f"{used:,.0f}", budget=f"{budget:,.0f}", share=share))
    gb_seconds = sum(d.gb_seconds for d in days)
    lines.append(
        text("stats_cost", language, cost=f"{gb_seconds * price:.2f}", gb_seconds=f"{gb_seconds:,.0f}", price=price)
    )
    return "\n".join(lines)


def render_stats(days: Sequence[DaySummary], language: str, *, budget_seconds: float, price: float) -> str:
    """/stats: today (the first of `days`, newest first) and all of `days` together."""
    today = _block(text("stats_today", language, day=days[0].day), days[:1], language, budget_seconds, price)
    week = _block(text("stats_week", language, days=len(days)), days, language, budget_seconds, price)
    return f"{today}\n\n{week}"


def shows_stats(user_id: int, limits: Limits) -> bool:
    """Whether /stats answers this user: only an administrator; anyone else gets the unknown-command answer."""
    return user_id in limits.admins
