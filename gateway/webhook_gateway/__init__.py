"""Webhook gateway between the TLS proxy and n8n.

Only the configuration checks are imported here, because they use the standard library alone
and the Pulumi program imports them without installing the service's dependencies.
"""

from .config import SCHEME_NAMES, ConfigError, validate_routes

__all__ = ["SCHEME_NAMES", "ConfigError", "validate_routes"]
