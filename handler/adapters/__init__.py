"""Adapters: the ports of `handler.core` implemented on DynamoDB, SQLite and the Bot API."""
