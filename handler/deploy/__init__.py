"""Deployment-time code that runs inside the stack: the CloudFormation custom resource registering the webhook."""
