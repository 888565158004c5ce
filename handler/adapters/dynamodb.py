"""The state store on DynamoDB: one table, items keyed by `pk`, expiring through the `expires_at` TTL."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from handler.core.ports import StoreUnavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


def update_key(update_id: int) -> dict[str, dict[str, str]]:
    return {"pk": {"S": f"update#{update_id}"}}


class DynamoDBStore:
    """Update ledger (later also per-user state) on a DynamoDB table; the client is made once, passed in."""

    def __init__(self, client: DynamoDBClient, table: str, *, claim_ttl_seconds: int) -> None:
        self._client = client
        self._table = table
        self._claim_ttl = claim_ttl_seconds

    def claim_update(self, update_id: int) -> bool:
        now = int(time.time())
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    **update_key(update_id),
                    "kind": {"S": "update"},
                    "expires_at": {"N": str(now + self._claim_ttl)},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise StoreUnavailable(str(error)) from error
        except BotoCoreError as error:
            raise StoreUnavailable(str(error)) from error
        return True

    def release_update(self, update_id: int) -> None:
        try:
            self._client.delete_item(TableName=self._table, Key=update_key(update_id))
        except (ClientError, BotoCoreError) as error:
            raise StoreUnavailable(str(error)) from error
