"""Loopback stand-ins: a fake Telegram Bot API, a DynamoDB-compatible server, the Lambda emulator."""
