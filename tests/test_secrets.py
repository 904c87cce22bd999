"""Secrets are generated once, marked secret everywhere, and never appear in plaintext."""

import json

from conftest import prod_config, run_with

from tools import offline
from tools.plan import decode_user_data

GENERATED = ("n8n-encryption-key", "postgres-password", "redis-password", "runners-auth-token")


def _plain_strings(value, path=""):
    """Yield (path, text) for every string in an input tree."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield from _plain_strings(inner, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _plain_strings(inner, f"{path}[{index}]")


def _leaks(recording: offline.Recording) -> list[str]:
    secrets = {s for s in recording.secret_values if len(s) >= 8}
    found = []
    for resource in recording.resources:
        for path, text in _plain_strings(resource.inputs):
            top = path.split("[")[0].split(".")[0]
            if resource.is_secret(top) or resource.is_secret(path):
                continue
            for secret in secrets:
                if secret in text:
                    found.append(f"{resource.urn} input {path}")
    for urn, outputs, secret_paths in recording.outputs:
        for path, text in _plain_strings(outputs):
            if any(path == p or path.startswith(p) for p in secret_paths):
                continue
            if any(secret in text for secret in secrets):
                found.append(f"{urn} output {path}")
    return found


def test_each_secret_generated_once(prod_recording):
    passwords = prod_recording.of_type("random:index/randomPassword:RandomPassword")

    assert sorted(p.name.split("-", 2)[2] for p in passwords) == sorted(GENERATED)


def test_no_secret_in_plain_input_or_output(prod_recording):
    assert prod_recording.secret_values, "the mocks produced no secret to look for"
    assert _leaks(prod_recording) == []


def test_leak_check_finds_plain_secret(prod_recording):
    leaked = offline.Recording(
        resources=[
            offline.Registered(
                urn="urn:test",
                type="docker:index/container:Container",
                name="leaky",
                parent="",
                inputs={
                    "labels": [{"label": "x", "value": sorted(prod_recording.secret_values)[0]}]
                },
                secret_paths=set(),
            )
        ],
        secret_values=prod_recording.secret_values,
    )

    assert _leaks(leaked) == ["urn:test input labels[0].value"]


def test_containers_with_secrets_mark_env_secret(prod_recording):
    for container in prod_recording.of_type("docker:index/container:Container"):
        env = " ".join(container.inputs.get("envs", []))
        if any(secret in env for secret in prod_recording.secret_values):
            assert container.is_secret("envs"), container.urn


def test_user_data_is_secret(prod_recording):
    (server,) = prod_recording.of_type("hcloud:index/server:Server")

    assert server.is_secret("userData")
    assert "PRIVATE KEY" in decode_user_data(server.inputs["userData"])


def test_secret_override_replaces_generated_value():
    override = "Zx9" * 12
    config, secret_keys = prod_config()
    config["hardened-n8n:n8nEncryptionKey"] = override
    secret_keys.append("hardened-n8n:n8nEncryptionKey")

    recording = offline.run_program(config, secret_keys)

    assert recording.error is None
    names = [p.name for p in recording.of_type("random:index/randomPassword:RandomPassword")]
    assert not any(name.endswith("n8n-encryption-key") for name in names)
    main = next(
        c for c in recording.of_type("docker:index/container:Container") if c.name == "n8n-main"
    )
    assert f"N8N_ENCRYPTION_KEY={override}" in main.inputs["envs"]
    assert main.is_secret("envs")


def test_two_runs_register_identical_inputs():
    first = run_with()
    second = run_with()

    def inputs_by_urn(recording):
        return sorted((r.urn, json.dumps(r.inputs, sort_keys=True)) for r in recording.resources)

    assert inputs_by_urn(first) == inputs_by_urn(second)
