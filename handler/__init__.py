"""Stylebot's Telegram side: Lambda entry points, the conversation, and adapters to the outside world."""
