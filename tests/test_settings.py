"""A bad stack setting stops the run before any resource, with the key and the fixing command."""

import base64
import json
import struct

import pytest
import yaml
from conftest import ROOT, prod_config, run_with

from components.settings import SettingsError
from tools import offline

ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGnJk0Yy0XF3cZ3w3nVqg0yB3H9hbN7w2jv4cP0wL8Qb a@b"


def _rsa_key_line(bits: int) -> str:
    """Build an ssh-rsa public key line whose modulus has the given size (not a usable key)."""

    def field(data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + data

    modulus = b"\x00" + (1 << (bits - 1)).to_bytes(bits // 8, "big")
    blob = field(b"ssh-rsa") + field(b"\x01\x00\x01") + field(modulus)
    return "ssh-rsa " + base64.b64encode(blob).decode() + " weak@example.com"


RSA_1024 = _rsa_key_line(1024)


def error_of(changes=None, drop=()) -> str:
    recording = run_with(changes, drop)
    assert isinstance(recording.error, SettingsError), (
        f"expected SettingsError, got {recording.error!r}"
    )
    assert recording.resources == [], "resources were declared before the settings were checked"
    return str(recording.error)


CASES = [
    ("serverType", "cx22", "no longer sold", "pulumi config set serverType"),
    ("serverType", "cpx31", "cpx32", "pulumi config set serverType"),
    ("serverType", "t2.micro", "not a Hetzner server type", "pulumi config set serverType"),
    ("location", "us-east-1", "not a Hetzner Cloud location", "pulumi config set location"),
    ("image", "ubuntu-24.04", "debian-13", "pulumi config set image"),
    ("adminUser", "root", "reserved", "pulumi config set adminUser"),
    ("adminCidrs", ["0.0.0.0/0"], "whole internet", "pulumi config set --path 'adminCidrs[0]'"),
    ("adminCidrs", ["::/0"], "whole internet", "pulumi config set --path 'adminCidrs[0]'"),
    ("adminCidrs", ["198.51.100.7/24"], "host bits", "pulumi config set --path 'adminCidrs[0]'"),
    ("adminCidrs", ["10.0.0.0/300"], "not an IPv4 or IPv6 network", "adminCidrs[0]"),
    ("adminCidrs", ["0.0.0.0/1"], "broader than /8", "adminCidrs[0]"),
    ("adminCidrs", [], "is empty", "pulumi config set --path 'adminCidrs[0]'"),
    ("adminSshKeys", [], "is empty", "pulumi config set --path 'adminSshKeys[0]'"),
    ("adminSshKeys", ["ssh-dss AAAAB3NzaC1kc3M= old"], "not accepted", "adminSshKeys[0]"),
    ("adminSshKeys", ["ssh-ed25519 not-base64!"], "not valid base64", "adminSshKeys[0]"),
    ("adminSshKeys", [RSA_1024], "1024 bits", "adminSshKeys[0]"),
    ("domain", "", "is required", "pulumi config set domain"),
    ("domain", "https://n8n.example.com", "not a fully qualified", "pulumi config set domain"),
    ("acmeEmail", "ops-at-example", "not an e-mail address", "pulumi config set acmeEmail"),
    ("timezone", "Mars/Olympus", "not an IANA time zone", "pulumi config set timezone"),
    ("n8nVersion", "latest", "not an exact n8n release", "pulumi config set n8nVersion"),
    ("n8nVersion", "1.0.0", "generate_node_catalogue", "tools/generate_node_catalogue.py 1.0.0"),
    ("workerCount", 0, "outside the allowed range 1 to 8", "pulumi config set workerCount"),
    ("workerCount", 40, "outside the allowed range 1 to 8", "pulumi config set workerCount"),
    ("blockedNodes", ["ExecuteComand"], "ExecuteCommand", "blockedNodes"),
    (
        "rebuildProtection",
        False,
        "must equal deleteProtection",
        "pulumi config set rebuildProtection true",
    ),
    ("volumeSize", 5, "outside the allowed range 10 to 10240", "pulumi config set volumeSize"),
    ("rebootTime", "4am", "HH:MM", "pulumi config set rebootTime"),
    ("backups", "maybe", "not true or false", "pulumi config set backups true"),
]


@pytest.mark.parametrize(
    ("key", "value", "message", "fix"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_bad_setting_names_key_and_fix(key, value, message, fix):
    text = error_of({key: value})

    assert key in text
    assert message in text
    assert fix in text


def test_every_problem_reported_at_once():
    text = error_of(
        {"serverType": "cx22", "adminCidrs": ["0.0.0.0/0"], "domain": "", "workerCount": 99}
    )

    assert "4 stack settings are invalid" in text
    for key in ("serverType", "adminCidrs[0]", "domain", "workerCount"):
        assert f"- {key}:" in text


def test_missing_declared_key_reported():
    text = error_of(drop=("location",))

    assert "location: is not set and has no default" in text


def test_plaintext_secret_override_rejected():
    text = error_of({"postgresPassword": "a" * 40})

    assert "postgresPassword: is stored in plaintext" in text
    assert "pulumi config set --secret postgresPassword" in text


def test_route_without_secret_rejected():
    config, secret_keys = prod_config()
    del config["hardened-n8n:webhookSecrets"]
    recording = offline.run_program(config, secret_keys)

    assert isinstance(recording.error, SettingsError)
    assert "webhookSecrets.flutterwave: is missing" in str(recording.error)
    assert recording.resources == []


def test_route_with_blocked_webhook_node_rejected():
    guide = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]["blockedNodes"]["default"]

    text = error_of({"blockedNodes": guide})

    assert "blocks the Webhook node" in text


def test_route_outside_hooks_prefix_rejected():
    route = {
        "name": "pay",
        "publicPath": "/rest/pay",
        "n8nPath": "/webhook/pay",
        "scheme": "github",
    }

    text = error_of({"webhookRoutes": [route], "webhookSecrets": json.dumps({"pay": ["s" * 20]})})

    assert "webhookRoutes[0]" in text
    assert "/hooks/" in text


def test_error_names_stack_and_deploys_nothing():
    text = error_of({"domain": ""})

    assert "stack 'prod'" in text
    assert "nothing was deployed" in text


def test_prod_stack_is_valid(prod_recording):
    assert prod_recording.error is None
