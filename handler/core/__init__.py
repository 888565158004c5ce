"""The bot's core: ports and rules. Imports neither boto3 nor telegram."""
