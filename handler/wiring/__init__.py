"""The composition root: the only code that builds adapters and hands them to the rest. One module per entry point.

- `handler.webhook` (WebhookFunction): `webhook.py` builds the DynamoDB store, the Lambda dispatcher and PTB's
  HTTP client.
- `handler.worker` (WorkerFunction): `worker.py` builds the DynamoDB store, the Bot API messenger, the ML engine
  and the idempotency layer.
- `handler.failure` (FailureFunction): `failure.py` builds the DynamoDB store and the Bot API messenger.
- `handler.webhook_registration` (WebhookRegistrationFunction): `registration.py` builds the SSM client and the
  Bot API client of registration.
- `handler.local` (`make run`): `local.py` builds the SQLite store, the process pool and the Bot API clients.

Adapters more than one entry point uses (the DynamoDB store, the Bot API messenger) are built in
`handler/wiring/parts.py`, each in one function. The modules are separate because each Lambda function's import
closure is what its IAM policy and environment are checked against (tests/deploy/): the worker must not carry the
webhook's Lambda client, nor the registration the state table. This package's `__init__` imports nothing.
"""
