"""Raw access to this project's stack config, as the Pulumi CLI hands it to the program."""

import json
from pathlib import Path
from typing import Any

import yaml
from pulumi.runtime.config import (
    CONFIG,
    get_config,
    get_config_env,
    get_config_secret_keys_env,
    is_config_secret,
)

PROJECT = "hardened-n8n"
PROJECT_FILE = Path(__file__).resolve().parents[1] / "Pulumi.yaml"


def declared_keys() -> set[str]:
    """Return the keys Pulumi.yaml declares for this project."""
    return set(yaml.safe_load(PROJECT_FILE.read_text())["config"])


def configured_keys() -> set[str]:
    """Return the keys of this project that the stack sets, as the CLI passed them."""
    full_keys = set(CONFIG.get()) | set(get_config_env())
    prefix = f"{PROJECT}:"
    return {key.removeprefix(prefix) for key in full_keys if key.startswith(prefix)}


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
