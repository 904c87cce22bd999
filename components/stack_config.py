"""Raw access to this project's stack config, as the Pulumi CLI hands it to the program."""

import json
from typing import Any

from pulumi.runtime.config import get_config, get_config_secret_keys_env, is_config_secret

PROJECT = "hardened-n8n"


def raw_value(key: str) -> Any:
    """Return a key's value as the CLI passes it (text, or JSON text for lists and maps)."""
    return get_config(f"{PROJECT}:{key}")


def parse_json(value: Any) -> Any:
    # The CLI passes numbers, booleans, lists and maps as JSON text; tests may pass Python values.
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def secret_value(key: str) -> str | None:
    """Return the plaintext of a config value for validation only; never log it."""
    value = raw_value(key)
    return None if value in (None, "") else str(value)


def is_secret(key: str) -> bool:
    """Tell whether the stack stores the key encrypted (set with `pulumi config set --secret`)."""
    full_key = f"{PROJECT}:{key}"
    return is_config_secret(full_key) or full_key in get_config_secret_keys_env()
