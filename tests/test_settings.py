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


def _key_line(key_type: str, *fields: bytes) -> str:
    blob = b"".join(struct.pack(">I", len(f)) + f for f in (key_type.encode(), *fields))
    return f"{key_type} {base64.b64encode(blob).decode()} bad@example.com"


SHORT_RSA = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQAB me@example.com"
SHORT_ED25519 = _key_line("ssh-ed25519", b"12345")
WRONG_CURVE = _key_line("ecdsa-sha2-nistp256", b"nistp384", b"\x04" + b"\x01" * 96)


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
    ("acmeEmail", "ops-at-example", "not a plain e-mail address", "pulumi config set acmeEmail"),
    ("acmeEmail", 'ops"@example.com', "not a plain e-mail address", "pulumi config set acmeEmail"),
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
    # A trailing line break must not slip past a pattern anchored with $.
    ("adminUser", "ops\n", "not a valid Linux user name", "pulumi config set adminUser"),
    ("rebootTime", "04:30\n", "HH:MM", "pulumi config set rebootTime"),
    ("domain", "n8n.example.com\n", "not a fully qualified", "pulumi config set domain"),
    ("acmeEmail", "ops@example.com\n", "not a plain e-mail address", "pulumi config set acmeEmail"),
    ("acmeEmail", "ops@example..com", "not a plain e-mail address", "pulumi config set acmeEmail"),
    ("acmeEmail", "x" * 70 + "@example.com", "longer than an e-mail address", "acmeEmail"),
    ("adminUser", "sshd", "reserved", "pulumi config set adminUser"),
    ("timezone", "localtime", "not an IANA time zone", "pulumi config set timezone"),
    ("volumeSize", 20000, "outside the allowed range", "pulumi config set volumeSize 10240"),
    ("workerCount", 40, "outside the allowed range", "pulumi config set workerCount 8"),
    ("adminSshKeys", [SHORT_RSA], "expected an exponent and a modulus", "adminSshKeys[0]"),
    ("adminSshKeys", [SHORT_ED25519], "32-byte key", "adminSshKeys[0]"),
    ("adminSshKeys", [WRONG_CURVE], "naming the curve nistp256", "adminSshKeys[0]"),
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

    assert "location: is not set, and Pulumi.yaml declares no default" in text


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


def test_key_with_line_break_rejected_early():
    two_keys = ED25519 + "\n" + ED25519.replace("a@b", "evil@b")

    text = error_of({"adminSshKeys": [two_keys]})

    assert "adminSshKeys[0]: contains a line break" in text


def test_mistyped_key_rejected_with_suggestion():
    config, secret_keys = prod_config()
    config["hardened-n8n:adminCidr"] = json.dumps(["0.0.0.0/0"])

    recording = offline.run_program(config, secret_keys)

    assert isinstance(recording.error, SettingsError)
    assert "adminCidr: is not a setting of this program; did you mean 'adminCidrs'?" in str(
        recording.error
    )
    assert "pulumi config rm adminCidr" in str(recording.error)
    assert recording.resources == []


def test_route_freshness_beyond_duplicate_window_rejected():
    route = {
        "name": "flutterwave",
        "publicPath": "/hooks/flutterwave",
        "n8nPath": "/webhook/flutterwave-payments",
        "scheme": "flutterwave-v4",
        "maxAgeSeconds": 10**12,
    }

    text = error_of({"webhookRoutes": [route]})

    assert "webhookRoutes[0].maxAgeSeconds" in text
    assert "pulumi config set --path 'webhookRoutes[0].maxAgeSeconds'" in text


def test_duplicate_route_name_points_at_entry():
    route = {"name": "gh", "publicPath": "/hooks/a", "n8nPath": "/webhook/a", "scheme": "github"}
    second = dict(route, publicPath="/hooks/b")

    text = error_of(
        {"webhookRoutes": [route, second], "webhookSecrets": json.dumps({"gh": ["s" * 20]})}
    )

    assert "webhookRoutes[1].name: 'gh' is already used by webhookRoutes[0]" in text
    assert "pulumi config set --path 'webhookRoutes[1].name' OTHER" in text


def test_secret_for_unknown_route_removed_by_fix():
    secrets = {"flutterwave": ["f" * 20], "stripe": ["s" * 20]}

    text = error_of({"webhookSecrets": json.dumps(secrets)})

    assert "webhookSecrets.stripe: names no route" in text
    assert "pulumi config rm --path 'webhookSecrets.stripe'" in text


def test_blocked_node_typo_names_its_entry():
    text = error_of({"blockedNodes": ["ExecuteCommand", "HTTPRequst"]})

    assert "blockedNodes[1]" in text
    assert "pulumi config set --path 'blockedNodes[1]' NAME" in text


def test_retired_type_fix_suggests_successor():
    text = error_of({"serverType": "cpx21"})

    assert "pulumi config set serverType cpx22" in text


def test_wrong_list_type_reported_once():
    text = error_of({"adminCidrs": "198.51.100.24/32"})

    assert "1 stack setting is invalid" in text
    assert "adminCidrs: must be a list of strings" in text


def test_renderer_problem_stops_before_resources(monkeypatch):
    from components import host_files

    def reject(spec):
        raise ValueError("invalid host settings: stand-in problem")

    monkeypatch.setattr(host_files, "render_host_files", reject)

    text = error_of()

    assert "settings: invalid host settings: stand-in problem" in text


def test_plaintext_override_fix_keeps_value():
    text = error_of({"n8nEncryptionKey": "k" * 40})

    assert (
        'pulumi config set --secret n8nEncryptionKey "$(pulumi config get n8nEncryptionKey)"'
        in text
    )


def test_default_webhook_block_fix_rewrites_list():
    config, secret_keys = prod_config()
    guide = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]["blockedNodes"]["default"]
    config["hardened-n8n:blockedNodes"] = json.dumps(guide + ["webhook"])

    text = str(offline.run_program(config, secret_keys).error)

    assert "blockedNodes: blocks the Webhook node" in text
    assert "pulumi config rm blockedNodes; pulumi config set-all --path" in text
    assert "--plaintext 'blockedNodes[5]=HTTPRequest'" in text
    assert "=Webhook'" not in text
    assert "=webhook'" not in text


def test_hmac_field_problem_names_nested_field():
    route = {
        "name": "scheme-x",
        "publicPath": "/hooks/x",
        "n8nPath": "/webhook/x",
        "scheme": "hmac",
        "hmac": {"header": "X-Sig", "encoding": "hex", "idHeader": "x-sig"},
    }

    text = error_of(
        {"webhookRoutes": [route], "webhookSecrets": json.dumps({"scheme-x": ["s" * 20]})}
    )

    assert "webhookRoutes[0].hmac.idHeader" in text or "webhookRoutes[0].hmac.header" in text
    assert "webhookRoutes[0].scheme:" not in text


def test_unknown_hmac_field_removed_by_fix():
    route = {
        "name": "h",
        "publicPath": "/hooks/h",
        "n8nPath": "/webhook/h",
        "scheme": "hmac",
        "hmac": {"header": "X-Sig", "encoding": "hex", "id_header": "X-Id"},
    }

    text = error_of({"webhookRoutes": [route], "webhookSecrets": json.dumps({"h": ["s" * 20]})})

    assert "webhookRoutes[0].hmac.id_header: is not a route field" in text
    assert "pulumi config rm --path 'webhookRoutes[0].hmac.id_header'" in text


def test_secrets_not_a_map_reset_by_fix():
    text = error_of({"webhookSecrets": json.dumps(["s" * 20])})

    assert "webhookSecrets: must map each route name" in text
    fix = "pulumi config rm webhookSecrets; pulumi config set --secret --path"
    assert fix + " 'webhookSecrets.flutterwave[0]' SECRET" in text
