"""Payment webhook gateway: verifies provider signatures before events reach n8n.

The service itself is the ``webhook_gateway`` package. This file makes ``gateway`` importable
from the repository root, so the Pulumi program can reuse
``gateway.webhook_gateway.config.validate_routes`` and pytest can import the tests as
``gateway.tests``.
"""
