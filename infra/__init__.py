"""Deployment helpers and the local stand-ins of AWS and Telegram used by local runs and tests."""
