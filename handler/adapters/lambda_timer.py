"""The timer on AWS Lambda: an asynchronous invocation of the webhook function itself, carrying the wakeup.

The webhook cannot wait in the invocation that asks (Telegram sends the chat's next update only once it is
answered), so another invocation, in another execution environment, sleeps out the rest of the time and acts
(`handler.bot.endpoint.WebhookEndpoint.handle`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from handler.core.wakeup import Wakeup

if TYPE_CHECKING:
    from mypy_boto3_lambda.client import LambdaClient


class LambdaTimer:
    """Queues a wakeup on `function_name` (InvocationType=Event: Lambda answers 202 and queues it)."""

    def __init__(self, client: LambdaClient, function_name: str) -> None:
        self._client = client
        self._function = function_name

    def schedule(self, wakeup: Wakeup) -> None:
        response = self._client.invoke(
            FunctionName=self._function,
            InvocationType="Event",
            Payload=json.dumps(wakeup.to_event(), separators=(",", ":")).encode(),
        )
        if response.get("StatusCode") != 202:
            raise RuntimeError(f"the wakeup was not queued (status {response.get('StatusCode')})")
