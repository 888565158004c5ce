"""Wiring of the `Custom::WorkerCap` resource: the Lambda control-plane client."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes import CloudFormationCustomResourceEvent

from handler.deploy.cloudformation import AWS_CONFIG, Outcome
from handler.deploy.worker_cap import WorkerCap


def apply_worker_cap(request: CloudFormationCustomResourceEvent) -> Outcome:
    """The work of one custom resource request."""
    import boto3

    return WorkerCap(boto3.client("lambda", config=AWS_CONFIG))(request)
