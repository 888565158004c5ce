"""The state store on DynamoDB: one table keyed by (`pk`, `sk`), items expiring through the `expires_at` TTL.

Items: `user#<id>`/`state` (the user's state, with a `version` for optimistic concurrency),
`user#<id>`/`job#<job id>` (one per job) and `update#<id>`/`update` (claims of Telegram updates).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from handler.core.job import ClaimState, Job, JobStatus
from handler.core.limits import CLAIM_STALE_SECONDS, JOB_TTL_SECONDS, STATE_TTL_SECONDS
from handler.core.ports import StoreUnavailable, UpdateInProgress
from handler.core.state import UserState

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

T = TypeVar("T")


def client_config() -> Any:
    """Timeouts for a table that answers in milliseconds: a store that does not answer in seconds is down, and
    the webhook must say so (non-2xx, so that Telegram redelivers) well before its own timeout."""
    from botocore.config import Config

    return Config(connect_timeout=2, read_timeout=4, retries={"max_attempts": 3, "mode": "standard"})


def _user_pk(user_id: int) -> dict[str, str]:
    return {"S": f"user#{user_id}"}


def job_key(user_id: int, job_id: str) -> dict[str, dict[str, str]]:
    """The key of a job's item."""
    return {"pk": _user_pk(user_id), "sk": {"S": f"job#{job_id}"}}


def _is_conflict(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code")
    return code in ("ConditionalCheckFailedException", "TransactionCanceledException")


def call(operation: Callable[[], T]) -> T:
    """Run one DynamoDB call: a failed condition is raised as it is, anything else as StoreUnavailable."""
    try:
        return operation()
    except ClientError as error:
        if _is_conflict(error):
            raise
        raise StoreUnavailable(f"DynamoDB: {error.response.get('Error', {}).get('Code')}") from error
    except BotoCoreError as error:
        raise StoreUnavailable(f"DynamoDB: {type(error).__name__}") from error


# Job items that are queued or running carry these two attributes, which the sparse index QUEUE_INDEX (one
# partition, `queue` = ACTIVE_QUEUE, sorted by `enqueued_at`) holds; a job that ends loses `queue` and leaves it.
QUEUE_INDEX = "queue"
QUEUE_ATTRIBUTE = "queue"
ACTIVE_QUEUE = "active"
# A job item's attribute naming the message its progress moved to (a photo that replaced the text message).
PROGRESS_MESSAGE = "progress_message_id"
ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


class DynamoDBStore:
    """Update ledger, per-user state and job items on one table; the client is made once and passed in."""

    def __init__(self, client: DynamoDBClient, table: str, *, claim_ttl_seconds: int) -> None:
        self._client = client
        self._table = table
        self._claim_ttl = claim_ttl_seconds

    def _call(self, operation: Callable[[], T]) -> T:
        return call(operation)

    # --- update ledger ----------------------------------------------------------------------------------------
    def claim_update(self, update_id: int, *, stale_after: float = CLAIM_STALE_SECONDS) -> bool:
        now = time.time()
        key = {"pk": {"S": f"update#{update_id}"}, "sk": {"S": "update"}}
        item = {
            **key,
            "state": {"S": ClaimState.PROCESSING.value},
            "claimed_at": {"N": f"{now:.3f}"},
            "expires_at": {"N": str(int(now) + self._claim_ttl)},
        }
        try:
            self._call(
                lambda: self._client.put_item(
                    TableName=self._table,
                    Item=item,
                    ConditionExpression="attribute_not_exists(pk) OR (#s = :processing AND claimed_at < :stale)",
                    ExpressionAttributeNames={"#s": "state"},
                    ExpressionAttributeValues={
                        ":processing": {"S": ClaimState.PROCESSING},
                        ":stale": {"N": f"{now - stale_after:.3f}"},
                    },
                )
            )
        except ClientError:
            found = self._call(lambda: self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True))
            if found.get("Item", {}).get("state", {}).get("S") == ClaimState.PROCESSING:
                raise UpdateInProgress(str(update_id)) from None
            return False
        return True

    def finish_update(self, update_id: int) -> None:
        key = {"pk": {"S": f"update#{update_id}"}, "sk": {"S": "update"}}
        self._call(
            lambda: self._client.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression="SET #s = :done",
                ExpressionAttributeNames={"#s": "state"},
                ExpressionAttributeValues={":done": {"S": ClaimState.DONE}},
            )
        )

    def release_update(self, update_id: int) -> None:
        key = {"pk": {"S": f"update#{update_id}"}, "sk": {"S": "update"}}
        self._call(lambda: self._client.delete_item(TableName=self._table, Key=key))

    # --- user state -------------------------------------------------------------------------------------------
    def load(self, user_id: int) -> UserState:
        key = {"pk": _user_pk(user_id), "sk": {"S": "state"}}
        response = self._call(lambda: self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True))
        item = response.get("Item")
        if item is None:
            return UserState(user_id=user_id)
        return UserState.from_body(user_id, int(item["version"]["N"]), item["body"]["S"])

    def save(self, state: UserState) -> UserState | None:
        new_version = state.version + 1
        item = {
            "pk": _user_pk(state.user_id),
            "sk": {"S": "state"},
            "version": {"N": str(new_version)},
            "body": {"S": state.to_body()},
            "expires_at": {"N": str(int(time.time()) + STATE_TTL_SECONDS)},
        }
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(pk)"}
            if state.version == 0
            else {
                "ConditionExpression": "version = :read",
                "ExpressionAttributeValues": {":read": {"N": str(state.version)}},
            }
        )
        try:
            self._call(lambda: self._client.put_item(TableName=self._table, Item=item, **condition))
        except ClientError:
            return None
        return state.with_(version=new_version)

    # --- jobs -------------------------------------------------------------------------------------------------
    def put_job(self, job: Job, status: JobStatus) -> None:
        now = int(time.time())
        item = {
            "pk": _user_pk(job.user_id),
            "sk": {"S": f"job#{job.job_id}"},
            "status": {"S": status.value},
            "spec": {"S": job.to_json()},
            "created_at": {"N": str(now)},
            "expires_at": {"N": str(now + JOB_TTL_SECONDS)},
        }
        if status in ACTIVE and job.enqueued_at is not None:
            item[QUEUE_ATTRIBUTE] = {"S": ACTIVE_QUEUE}
            item["enqueued_at"] = {"N": f"{job.enqueued_at:.3f}"}
        self._call(lambda: self._client.put_item(TableName=self._table, Item=item))

    def job_status(self, user_id: int, job_id: str) -> JobStatus | None:
        key = {"pk": _user_pk(user_id), "sk": {"S": f"job#{job_id}"}}
        response = self._call(lambda: self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True))
        item = response.get("Item")
        return JobStatus(item["status"]["S"]) if item else None

    def load_job(self, user_id: int, job_id: str) -> Job | None:
        key = {"pk": _user_pk(user_id), "sk": {"S": f"job#{job_id}"}}
        response = self._call(lambda: self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True))
        item = response.get("Item")
        if not item or "spec" not in item:
            return None
        job = Job.model_validate_json(item["spec"]["S"])
        moved = item.get(PROGRESS_MESSAGE)
        return job.model_copy(update={"progress_message_id": int(moved["N"])}) if moved else job

    def move_progress(self, user_id: int, job_id: str, message_id: int) -> None:
        key = {"pk": _user_pk(user_id), "sk": {"S": f"job#{job_id}"}}
        with contextlib.suppress(ClientError):  # the job was erased (/forget): nothing to keep
            self._call(
                lambda: self._client.update_item(
                    TableName=self._table,
                    Key=key,
                    UpdateExpression=f"SET {PROGRESS_MESSAGE} = :id",
                    ConditionExpression="attribute_exists(pk)",  # never recreate a job /forget erased
                    ExpressionAttributeValues={":id": {"N": str(message_id)}},
                )
            )

    def beat(self, user_id: int, job_id: str, at: float) -> None:
        key = {"pk": _user_pk(user_id), "sk": {"S": f"job#{job_id}"}}
        with contextlib.suppress(ClientError):  # the job was erased (/forget): nothing to keep alive
            self._call(
                lambda: self._client.update_item(
                    TableName=self._table,
                    Key=key,
                    UpdateExpression="SET beat_at = :at",
                    ConditionExpression="attribute_exists(pk)",  # never recreate a job /forget erased
                    ExpressionAttributeValues={":at": {"N": f"{at:.3f}"}},
                )
            )

    def last_beat(self, user_id: int, job_id: str) -> float | None:
        key = {"pk": _user_pk(user_id), "sk": {"S": f"job#{job_id}"}}
        response = self._call(lambda: self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True))
        value = response.get("Item", {}).get("beat_at")
        return float(value["N"]) if value else None

    def set_job_status(self, user_id: int, job_id: str, status: JobStatus, *, only_from: tuple[JobStatus, ...]) -> bool:
        key = {"pk": _user_pk(user_id), "sk": {"S": f"job#{job_id}"}}
        names = {f":from{i}": {"S": s} for i, s in enumerate(only_from)}
        try:
            self._call(
                lambda: self._client.update_item(
                    TableName=self._table,
                    Key=key,
                    # A job that ends leaves the queue's index.
                    UpdateExpression="SET #s = :status" + ("" if status in ACTIVE else " REMOVE #q"),
                    ConditionExpression=f"#s IN ({', '.join(names)})",
                    ExpressionAttributeNames={"#s": "status", **({} if status in ACTIVE else {"#q": QUEUE_ATTRIBUTE})},
                    ExpressionAttributeValues={":status": {"S": status}, **names},
                )
            )
        except ClientError:
            return False
        return True

    # --- erasure ----------------------------------------------------------------------------------------------
    def forget(self, user_id: int) -> int:
        deleted = 0
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": _user_pk(user_id)},
            "ProjectionExpression": "pk, sk",
            "ConsistentRead": True,
        }
        while True:
            page = self._call(lambda: self._client.query(**query))
            for item in page.get("Items", []):
                key = {"pk": item["pk"], "sk": item["sk"]}
                self._call(lambda key=key: self._client.delete_item(TableName=self._table, Key=key))  # type: ignore[misc]
                deleted += 1
            if "LastEvaluatedKey" not in page:
                return deleted
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
