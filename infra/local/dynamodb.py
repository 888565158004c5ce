"""A DynamoDB-compatible server on loopback (moto's server mode), with the tables of template.yaml."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from infra.local.template import resources


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LocalDynamoDB:
    """A moto server in its own process, keeping connections alive; `url` goes into AWS_ENDPOINT_URL_DYNAMODB."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> LocalDynamoDB:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "infra.local.moto_server", "--port", str(self.port)],
            cwd=Path(__file__).resolve().parents[2],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/moto-api/", timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the local DynamoDB server did not start")

    def pause(self) -> None:
        """Make the endpoint go away (SIGSTOP): calls hang or time out, as in an outage."""
        assert self._process is not None
        self._process.send_signal(19)

    def resume(self) -> None:
        assert self._process is not None
        self._process.send_signal(18)

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(10)
            self._process = None


def table_definitions() -> dict[str, dict[str, Any]]:
    """CreateTable arguments for every AWS::DynamoDB::Table of template.yaml, by logical id."""
    definitions = {}
    for name, resource in resources("AWS::DynamoDB::Table").items():
        props = resource["Properties"]
        args: dict[str, Any] = {
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if "GlobalSecondaryIndexes" in props:
            args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        definitions[name] = {"create": args, "ttl": props.get("TimeToLiveSpecification")}
    return definitions


def create_tables(client: Any, prefix: str) -> dict[str, str]:
    """Create the template's tables as `<prefix><LogicalId>`; returns {logical id: table name}."""
    names = {}
    for logical_id, definition in table_definitions().items():
        table = f"{prefix}{logical_id}"
        client.create_table(TableName=table, **definition["create"])
        client.get_waiter("table_exists").wait(TableName=table)
        if definition["ttl"]:
            client.update_time_to_live(TableName=table, TimeToLiveSpecification=definition["ttl"])
        names[logical_id] = table
    return names


def local_aws_environment(dynamodb_url: str) -> dict[str, str]:
    """Environment for boto3 to reach the local server, with dummy credentials and no outside calls."""
    return {
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


if __name__ == "__main__":  # pragma: no cover - manual use: python -m infra.local.dynamodb
    server = LocalDynamoDB(int(os.environ.get("PORT", "8000"))).start()
    print(f"DynamoDB-compatible server on {server.url}; Ctrl+C stops it.")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
