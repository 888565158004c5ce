"""Stylebot's models and image pipeline (torch); the webhook never imports this package."""
