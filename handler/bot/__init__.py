"""The conversation: python-telegram-bot handlers, one module per user-facing feature."""
