"""The job dispatcher on AWS Lambda: an asynchronous invocation of the worker with ids and options only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handler.core.job import Job

if TYPE_CHECKING:
    from mypy_boto3_lambda.client import LambdaClient


class LambdaDispatcher:
    """Queues a job on the worker function (InvocationType=Event: Lambda answers 202 and queues it)."""

    def __init__(self, client: LambdaClient, function_name: str) -> None:
        self._client = client
        self._function = function_name

    def dispatch(self, job: Job) -> None:
        response = self._client.invoke(
            FunctionName=self._function,
            InvocationType="Event",
            Payload=job.to_json().encode(),
        )
        if response.get("StatusCode") != 202:
            raise RuntimeError(f"the worker was not queued (status {response.get('StatusCode')})")
