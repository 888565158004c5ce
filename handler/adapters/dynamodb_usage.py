"""Daily counters and the queue's view of job items, on the state table.

Counters of a UTC day share one partition, `day#<YYYY-MM-DD>`: `budget` (worker-seconds and GB-seconds used),
`refusals` (Starts refused by a quota, by kind), `quota#<hash of the user id>` (a user's jobs by kind) and
`job#<job id>` (one record per job a worker ran, for /stats; nothing about the user). Every change is a single
UpdateItem with ADD (atomic), and a quota is taken with a condition on the count, so concurrent webhooks and
workers never lose or overshoot a count. Items expire after DAILY_COUNTER_TTL_SECONDS.

A job's pace (the Paces port, `handler.core.pace`) is one item of its key's partition, `pace#<key>`, sorted by
when it was measured; it expires like the counters.

The queue reads the sparse index of active job items (`handler.adapters.dynamodb.QUEUE_INDEX`), and keeps on a
queued job's own item the count its message should show, the count it shows, and the lease of the one writer that
edits it (`PositionAttribute`), each changed by one conditional UpdateItem.
"""

from __future__ import annotations

import re
import time
import uuid
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from handler.adapters.dynamodb import ACTIVE_QUEUE, QUEUE_ATTRIBUTE, QUEUE_INDEX, call, job_key
from handler.core.job import Job, JobStatus
from handler.core.limits import DAILY_COUNTER_TTL_SECONDS
from handler.core.pace import RECENT_PACES
from handler.core.ports import ActiveJob, PositionLease
from handler.core.quotas import QuotaKind, user_key
from handler.core.stats import DaySummary, JobRecord

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

BUDGET = "budget"
REFUSALS = "refusals"
QUOTA_PREFIX = "quota#"
JOB_PREFIX = "job#"
PACE_PREFIX = "pace#"


def _day_pk(day: str) -> dict[str, str]:
    return {"S": f"day#{day}"}


def _expires() -> dict[str, str]:
    return {"N": str(int(time.time()) + DAILY_COUNTER_TTL_SECONDS)}


def _number(item: dict[str, Any], name: str) -> float:
    value = item.get(name, {}).get("N")
    return float(value) if value is not None else 0.0


class DynamoDBUsage:
    """The Usage port on the state table."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def _add(self, day: str, sk: str, counts: dict[str, float], **extra: Any) -> Any:
        names = {f"#a{i}": name for i, name in enumerate(counts)}
        numbers = {f":a{i}": {"N": f"{value:.3f}"} for i, value in enumerate(counts.values())}
        return call(
            lambda: self._client.update_item(
                TableName=self._table,
                Key={"pk": _day_pk(day), "sk": {"S": sk}},
                UpdateExpression="ADD "
                + ", ".join(f"#a{i} :a{i}" for i in range(len(counts)))
                + " SET expires_at = :expires",
                ExpressionAttributeNames={**names, **extra.pop("names", {})},
                ExpressionAttributeValues={**numbers, ":expires": _expires(), **extra.pop("values", {})},
                **extra,
            )
        )

    def todays_counts(self, user_id: int, day: str) -> tuple[dict[QuotaKind, int], float]:
        quota, budget = (
            call(
                lambda sk=sk: self._client.get_item(  # type: ignore[misc]
                    TableName=self._table, Key={"pk": _day_pk(day), "sk": {"S": sk}}, ConsistentRead=True
                )
            ).get("Item", {})
            for sk in (QUOTA_PREFIX + user_key(user_id), BUDGET)
        )
        return {kind: int(_number(quota, kind)) for kind in QuotaKind}, _number(budget, "seconds")

    def take_quota(self, user_id: int, day: str, kind: QuotaKind, limit: int | None) -> bool:
        condition: dict[str, Any] = {}
        if limit is not None:
            condition = {
                "ConditionExpression": "attribute_not_exists(#a0) OR #a0 < :limit",
                "values": {":limit": {"N": str(limit)}},
            }
        try:
            self._add(day, QUOTA_PREFIX + user_key(user_id), {kind: 1}, **condition)
        except ClientError:  # the condition failed: the quota is used up
            return False
        return True

    def count_refusal(self, day: str, kind: QuotaKind) -> None:
        self._add(day, REFUSALS, {kind: 1})

    def add_worker_seconds(self, day: str, seconds: float, gb_seconds: float) -> float:
        response = self._add(day, BUDGET, {"seconds": seconds, "gb_seconds": gb_seconds}, ReturnValues="UPDATED_NEW")
        return _number(response.get("Attributes", {}), "seconds")

    def record_job(self, day: str, record: JobRecord) -> None:
        item: dict[str, Any] = {
            "pk": _day_pk(day),
            "sk": {"S": JOB_PREFIX + record.record_id},
            "kind": {"S": record.kind},
            "size": {"N": str(record.size)},
            "status": {"S": record.status},
            "seconds": {"N": f"{record.seconds:.3f}"},
            "expires_at": _expires(),
        }
        if record.wait_seconds is not None:
            item["wait_seconds"] = {"N": f"{record.wait_seconds:.3f}"}
        call(lambda: self._client.put_item(TableName=self._table, Item=item))

    def day_summary(self, day: str) -> DaySummary:
        items = self._query({"KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": _day_pk(day)}})
        jobs, refusals, budget = [], {}, {}
        for item in items:
            sk = item["sk"]["S"]
            if sk.startswith(JOB_PREFIX):
                wait = item.get("wait_seconds")
                jobs.append(
                    JobRecord(
                        record_id=sk.removeprefix(JOB_PREFIX),
                        kind=QuotaKind(item["kind"]["S"]),
                        size=int(_number(item, "size")),
                        status=JobStatus(item["status"]["S"]),
                        seconds=_number(item, "seconds"),
                        wait_seconds=float(wait["N"]) if wait else None,
                    )
                )
            elif sk == REFUSALS:
                refusals = {kind: int(_number(item, kind)) for kind in QuotaKind}
            elif sk == BUDGET:
                budget = item
        return DaySummary(
            day=day,
            jobs=tuple(jobs),
            refusals=refusals,
            worker_seconds=_number(budget, "seconds"),
            gb_seconds=_number(budget, "gb_seconds"),
        )

    def recent_paces(self, key: str) -> list[float]:
        page = call(
            lambda: self._client.query(
                TableName=self._table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": PACE_PREFIX + key}},
                ScanIndexForward=False,  # newest first
                Limit=RECENT_PACES,
            )
        )
        return [_number(item, "pace") for item in page.get("Items", [])]

    def add_pace(self, key: str, pace: float, at: float) -> None:
        item = {
            "pk": {"S": PACE_PREFIX + key},
            "sk": {"S": f"{at:020.6f}#{uuid.uuid4().hex[:8]}"},  # fixed width: sorts as the time does
            "pace": {"N": f"{pace:.4f}"},
            "expires_at": _expires(),
        }
        call(lambda: self._client.put_item(TableName=self._table, Item=item))

    def _query(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        query = {"TableName": self._table, **query}
        while True:
            page = call(lambda: self._client.query(**query))
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


class PositionAttribute(StrEnum):
    """The attributes of a queued job's item that order the edits of its "N pictures ahead" message
    (`handler.core.queue.positions_to_show`): the count wanted, the count shown, and the refresh lease."""

    WANTED = "wanted_ahead"
    SHOWN = "shown_ahead"
    HOLDER = "refresh_holder"
    UNTIL = "refresh_until"


class DynamoDBJobQueue:
    """The JobQueue port: one query of the sparse index of active job items (eventually consistent, as every
    read of a global secondary index is: a position may lag a change by a fraction of a second), and conditional
    UpdateItems of a job's position attributes (atomic, so exact however many writers race)."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def _update(self, user_id: int, job_id: str, update: str, condition: str, values: dict[str, Any]) -> Any:
        """One conditional UpdateItem of the job's item, on its position attributes (`#wanted`, `#shown`,
        `#holder`, `#until`) and status (`#status`, `:queued`): the item as it is after it, or None if the
        condition failed."""
        names = {"#status": "status", **{f"#{a.name.lower()}": a.value for a in PositionAttribute}}
        used = set(re.findall(r"[#:]\w+", update + " " + condition))  # only what is used, as DynamoDB asks
        values = {":queued": {"S": JobStatus.QUEUED.value}, **values}
        try:
            return call(
                lambda: self._client.update_item(
                    TableName=self._table,
                    Key=job_key(user_id, job_id),
                    UpdateExpression=update,
                    ConditionExpression=condition,
                    ExpressionAttributeNames={k: v for k, v in names.items() if k in used},
                    ExpressionAttributeValues={k: v for k, v in values.items() if k in used},
                    ReturnValues="ALL_NEW",
                )
            ).get("Attributes", {})
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None
            raise

    @staticmethod
    def _lease(item: dict[str, Any] | None) -> PositionLease | None:
        if item is None:
            return None
        shown = item.get(PositionAttribute.SHOWN)
        return PositionLease(int(item[PositionAttribute.WANTED]["N"]), None if shown is None else int(shown["N"]))

    def want_position(self, user_id: int, job_id: str, ahead: int) -> bool:
        return (
            self._update(
                user_id,
                job_id,
                "SET #wanted = :n",
                # `#status = :queued` fails on a missing item too: a job erased by /forget is never written back.
                "#status = :queued AND (attribute_not_exists(#wanted) OR #wanted > :n)",
                {":n": {"N": str(ahead)}},
            )
            is not None
        )

    def take_refresh(self, user_id: int, job_id: str, holder: str, *, now: float, until: float) -> PositionLease | None:
        return self._lease(
            self._update(
                user_id,
                job_id,
                "SET #holder = :me, #until = :until",
                "#status = :queued AND attribute_exists(#wanted) AND (attribute_not_exists(#until) OR #until < :now)",
                {":me": {"S": holder}, ":now": {"N": f"{now:.3f}"}, ":until": {"N": f"{until:.3f}"}},
            )
        )

    def end_refresh(self, user_id: int, job_id: str, holder: str, shown: int, *, until: float) -> PositionLease | None:
        values = {":me": {"S": holder}, ":shown": {"N": str(shown)}}
        released = self._update(
            user_id,
            job_id,
            "SET #shown = :shown REMOVE #holder, #until",
            "#holder = :me AND (#wanted = :shown OR #status <> :queued)",
            values,
        )
        if released is not None:
            return None
        # Not released: a lower count is wanted (keep the lease and show it), or the lease is no longer ours.
        return self._lease(
            self._update(
                user_id,
                job_id,
                "SET #shown = :shown, #until = :until",
                "#holder = :me AND #status = :queued",
                values | {":until": {"N": f"{until:.3f}"}},
            )
        )

    def release_refresh(self, user_id: int, job_id: str, holder: str) -> None:
        self._update(user_id, job_id, "REMOVE #holder, #until", "#holder = :me", {":me": {"S": holder}})

    def active_jobs(self, since: float) -> list[ActiveJob]:
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": QUEUE_INDEX,
            "KeyConditionExpression": "#q = :active AND enqueued_at >= :since",
            "ExpressionAttributeNames": {"#q": QUEUE_ATTRIBUTE, "#s": "status"},
            "ExpressionAttributeValues": {":active": {"S": ACTIVE_QUEUE}, ":since": {"N": f"{since:.3f}"}},
            "ProjectionExpression": "#s, spec, enqueued_at",
        }
        found = []
        while True:
            page = call(lambda: self._client.query(**query))
            for item in page.get("Items", []):
                found.append(
                    ActiveJob(
                        job=Job.model_validate_json(item["spec"]["S"]),
                        status=JobStatus(item["status"]["S"]),
                        enqueued_at=float(item["enqueued_at"]["N"]),
                    )
                )
            if "LastEvaluatedKey" not in page:
                return found
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
