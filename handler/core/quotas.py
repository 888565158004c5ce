"""Per-user daily quotas and the global daily budget: what a user may start now, and why not.

The day is the UTC day: every counter is keyed by it and resets at 00:00 UTC. The user is told the reset time in
their time zone when one is known (Telegram's Bot API does not give one, so it is UTC unless a caller has one).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from handler.core.job import Job, Kind, Quality
from handler.core.texts import text

DAY_SECONDS = 24 * 3600
# Past this share of the daily budget, best quality is paused for everyone; at 1.0, only quick jobs run.
BEST_PAUSE_SHARE = 0.8
# The defaults of the stack's parameters (a test checks template.yaml agrees) and of local mode's variables.
DEFAULT_QUICK_PER_DAY = 50
DEFAULT_BEST_PER_DAY = 5
DEFAULT_PRESET_PER_DAY = 30
# Two hours of worker time a day: at 10 GB, 72,000 GB-s, about $1.20 a day (README, "Costs").
DEFAULT_DAILY_BUDGET_SECONDS = 7200
# Lambda's x86 price per GB-second in us-east-1 (and most regions) when this was written.
DEFAULT_PRICE_PER_GB_SECOND = 0.0000166667


class QuotaKind(StrEnum):
    """What a job costs: the unit of quotas, of the budget's pauses and of the job metrics' `kind` dimension."""

    QUICK = "quick"  # own style, quick quality (MicroAST, well under a second)
    BEST = "best"  # own style, best quality (Gatys, a minute or two)
    PRESET = "preset"  # a pretrained generator (a second or two)


def quota_kind(kind: Kind, quality: Quality) -> QuotaKind:
    if kind == Kind.PRESET:
        return QuotaKind.PRESET
    return QuotaKind.BEST if quality == Quality.BEST else QuotaKind.QUICK


def counted_quota(job: Job) -> QuotaKind | None:
    """The daily quota a job takes when it is handed over; None: a preview, which takes no quota."""
    return None if job.preview else quota_kind(job.kind, job.quality)


class BudgetLevel(StrEnum):
    OPEN = "open"
    BEST_PAUSED = "best_paused"  # past BEST_PAUSE_SHARE of the budget
    QUICK_ONLY = "quick_only"  # the budget is spent: only quick own-style jobs run


def budget_level(used_seconds: float, budget_seconds: float) -> BudgetLevel:
    """The budget's state after `used_seconds` of `budget_seconds` worker-seconds (0: no budget)."""
    if budget_seconds <= 0:
        return BudgetLevel.OPEN
    if used_seconds >= budget_seconds:
        return BudgetLevel.QUICK_ONLY
    if used_seconds >= BEST_PAUSE_SHARE * budget_seconds:
        return BudgetLevel.BEST_PAUSED
    return BudgetLevel.OPEN


class RefusalReason(StrEnum):
    QUOTA = "quota"  # the user's daily quota of the kind is used up
    BUDGET = "budget"  # the global budget pauses the kind


@dataclass(frozen=True)
class Refusal:
    reason: RefusalReason
    kind: QuotaKind


@dataclass(frozen=True)
class Limits:
    """The operator's caps (stack parameters / environment variables); a limit of 0 or less means none."""

    per_day: Mapping[QuotaKind, int] = field(default_factory=dict)
    budget_seconds: float = 0.0
    admins: frozenset[int] = frozenset()

    def limit(self, user_id: int, kind: QuotaKind) -> int | None:
        """The user's daily limit of `kind`; None: unlimited (an administrator, or no limit configured)."""
        value = self.per_day.get(kind, 0)
        return None if user_id in self.admins or value <= 0 else value


@dataclass(frozen=True)
class Allowance:
    """What today's counters leave one user: the decision's input, read before `decide`."""

    used: Mapping[QuotaKind, int] = field(default_factory=dict)
    limits: Mapping[QuotaKind, int | None] = field(default_factory=dict)  # None or absent: unlimited
    budget: BudgetLevel = BudgetLevel.OPEN
    resets_at: float = 0.0  # the next 00:00 UTC
    time_zone: str | None = None

    def refusal(self, kind: QuotaKind) -> Refusal | None:
        """Why a job of `kind` cannot start now; None: it can."""
        if kind == QuotaKind.BEST and self.budget != BudgetLevel.OPEN:
            return Refusal(RefusalReason.BUDGET, kind)
        if kind == QuotaKind.PRESET and self.budget == BudgetLevel.QUICK_ONLY:
            return Refusal(RefusalReason.BUDGET, kind)
        limit = self.limits.get(kind)
        if limit is not None and self.used.get(kind, 0) >= limit:
            return Refusal(RefusalReason.QUOTA, kind)
        return None


def day_key(now: float) -> str:
    """The UTC day of `now` (seconds since the epoch): the key of every daily counter."""
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")


def next_reset(now: float) -> float:
    """The next 00:00 UTC after `now`: when the daily counters start again."""
    return (math.floor(now / DAY_SECONDS) + 1) * DAY_SECONDS


def past_days(now: float, days: int) -> list[str]:
    """The keys of today and the `days - 1` days before it, newest first."""
    today = datetime.fromtimestamp(now, UTC)
    return [(today - timedelta(days=i)).strftime("%Y-%m-%d") for i in range(days)]


def clock_time(at: float, time_zone: str | None) -> str:
    """`at` as a wall-clock time in `time_zone` ("03:00 Europe/Moscow"), or in UTC ("00:00 UTC")."""
    zone_name = "UTC"
    if time_zone:
        try:
            zone = ZoneInfo(time_zone)
            zone_name = time_zone
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("UTC")
    else:
        zone = ZoneInfo("UTC")
    return f"{datetime.fromtimestamp(at, zone):%H:%M} {zone_name}"


def hours_minutes(seconds: float) -> tuple[int, int]:
    """A duration as whole hours and minutes, rounded up to the minute."""
    minutes = max(1, math.ceil(seconds / 60))
    return divmod(minutes, 60)


def user_key(user_id: int) -> str:
    """The key of a user's daily quota counter: a one-way hash of the id, so that the counter (which outlives
    /forget, or forgetting would reset the quota) holds no id in clear. Pseudonymous, not anonymous: ids are
    few enough to be hashed one by one."""
    return hashlib.sha256(f"stylebot-quota:{user_id}".encode()).hexdigest()[:24]


def quota_text(kind: QuotaKind, limit: int | None, now: float, time_zone: str | None, language: str) -> str:
    """The polite refusal of a Start past the user's daily quota of `kind`, naming when it resets."""
    resets_at = next_reset(now)
    hours, minutes = hours_minutes(resets_at - now)
    return text(
        "quota_reached",
        language,
        kind=text(f"quota_kind_{kind}", language),
        limit=limit,
        reset=clock_time(resets_at, time_zone),
        hours=hours,
        minutes=minutes,
    )
