"""Shared fixtures: the real program run under Pulumi's mocks against a stack's config."""

import copy
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox import Sandbox, make_sandbox  # noqa: E402

from policy import PolicyConfig, Resource  # noqa: E402
from tools import offline  # noqa: E402

PROD_STACK = ROOT / "Pulumi.prod.yaml"
ROUTE_SECRET = "whsec-test-0123456789abcdef0123"


def prod_config() -> tuple[dict[str, str], list[str]]:
    """Return the prod stack's config with the route secret an operator sets by command."""
    config, secret_keys, _ = offline.load_stack_config(PROD_STACK)
    config["hardened-n8n:webhookSecrets"] = json.dumps({"flutterwave": [ROUTE_SECRET]})
    secret_keys.append("hardened-n8n:webhookSecrets")
    return config, secret_keys


def run_with(
    changes: dict[str, object] | None = None, drop: tuple[str, ...] = ()
) -> offline.Recording:
    """Run the program on the prod config with some keys changed (values as Python objects)."""
    config, secret_keys = prod_config()
    for key, value in (changes or {}).items():
        config[f"hardened-n8n:{key}"] = value if isinstance(value, str) else json.dumps(value)
    for key in drop:
        config.pop(f"hardened-n8n:{key}", None)
    return offline.run_program(config, secret_keys)


def as_policy_resources(recording: offline.Recording) -> list[Resource]:
    return [
        Resource(
            type=r.type,
            name=r.name,
            urn=r.urn,
            inputs=copy.deepcopy(r.inputs),
            secret_paths=frozenset(r.secret_paths),
            dependencies=tuple(r.dependencies),
            parent=r.parent,
        )
        for r in recording.resources
    ]


def policy_config_for(config: dict[str, str]) -> PolicyConfig:
    def value(key: str):
        return json.loads(config[f"hardened-n8n:{key}"])

    return PolicyConfig(
        require_delete_protection=value("deleteProtection"),
        require_backups=value("backups"),
        admin_cidrs=tuple(value("adminCidrs")),
    )


@pytest.fixture(scope="session")
def prod_recording() -> offline.Recording:
    recording = run_with()
    assert recording.error is None, f"the prod stack failed to run: {recording.error}"
    return recording


@pytest.fixture(scope="session")
def prod_resources(prod_recording) -> list[Resource]:
    return as_policy_resources(prod_recording)


@pytest.fixture(scope="session")
def prod_policy_config() -> PolicyConfig:
    return policy_config_for(prod_config()[0])


@pytest.fixture
def sandbox(tmp_path) -> Sandbox:
    """A throwaway overlay of the Debian 13 root with private mounts and network."""
    return make_sandbox(tmp_path)
