"""Every policy rule holds for the prod stack, and each one catches the setting it guards.

The rules run over every resource the program registers, so a new container that skips the
hardened builder fails here without a new test being written.
"""

import copy
import json
from dataclasses import replace

import pytest

from policy import RESOURCE_RULES, STACK_RULES, Resource, evaluate_all
from policy.model import CONTAINER, FIREWALL, REMOTE_COMMAND, SERVER, VOLUME

RULE_IDS = [r.id for r in RESOURCE_RULES]
STACK_RULE_IDS = [r.id for r in STACK_RULES]


def test_rule_ids_unique():
    ids = RULE_IDS + STACK_RULE_IDS
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_holds_for_every_resource(rule_id, prod_resources, prod_policy_config):
    rule = next(r for r in RESOURCE_RULES if r.id == rule_id)
    checked = [r for r in prod_resources if r.type in rule.types]
    assert checked, f"{rule_id} checked no resource of the prod stack"
    violations = [v for r in checked for v in rule.evaluate(r, prod_policy_config)]
    assert violations == [], "\n".join(map(str, violations))


@pytest.mark.parametrize("rule_id", STACK_RULE_IDS)
def test_stack_rule_holds(rule_id, prod_resources, prod_policy_config):
    rule = next(r for r in STACK_RULES if r.id == rule_id)
    violations = rule.evaluate(prod_resources, prod_policy_config)
    assert violations == [], "\n".join(map(str, violations))


def test_prod_stack_has_no_violation(prod_resources, prod_policy_config):
    assert evaluate_all(prod_resources, prod_policy_config) == []


# (rule id, resource chosen by type and name, change that breaks the rule)
def _set(path: str, value):
    def change(inputs: dict) -> None:
        *parents, last = path.split(".")
        target = inputs
        for part in parents:
            target = target.setdefault(part, {})
        if value is _DELETE:
            target.pop(last, None)
        else:
            target[last] = value

    return change


_DELETE = object()


def _env(name: str, value: str | None):
    def change(inputs: dict) -> None:
        envs = [e for e in inputs["envs"] if not e.startswith(name + "=")]
        if value is not None:
            envs.append(f"{name}={value}")
        inputs["envs"] = envs

    return change


def _ssh_from(source: str):
    def change(inputs: dict) -> None:
        for each in inputs["rules"]:
            if each["port"] == "22":
                each["sourceIps"] = [source]

    return change


def _add_rule(protocol: str, port: str):
    def change(inputs: dict) -> None:
        inputs["rules"].append(
            {"direction": "in", "protocol": protocol, "port": port, "sourceIps": ["0.0.0.0/0"]}
        )

    return change


BREAKS = [
    ("container-non-root", CONTAINER, "postgres", _set("user", "0:0")),
    ("container-non-root", CONTAINER, "n8n-main", _set("user", _DELETE)),
    ("container-read-only-root", CONTAINER, "n8n-worker-1", _set("readOnly", False)),
    ("container-tmpfs-scratch", CONTAINER, "redis", _set("tmpfs", {"/tmp": "rw,noexec,nosuid"})),
    ("container-tmpfs-scratch", CONTAINER, "redis", _set("tmpfs./tmp", "rw,nosuid")),
    ("container-capabilities-dropped", CONTAINER, "caddy", _set("capabilities.drops", [])),
    (
        "container-capabilities-dropped",
        CONTAINER,
        "caddy",
        _set("capabilities.adds", ["SYS_ADMIN"]),
    ),
    ("container-no-new-privileges", CONTAINER, "n8n-main", _set("securityOpts", [])),
    ("container-isolated", CONTAINER, "n8n-main", _set("privileged", True)),
    ("container-isolated", CONTAINER, "n8n-main", _set("networkMode", "host")),
    ("container-isolated", CONTAINER, "n8n-main", _set("pidMode", "host")),
    ("container-isolated", CONTAINER, "n8n-main", _set("networkMode", _DELETE)),
    (
        "container-no-docker-socket",
        CONTAINER,
        "n8n-main",
        _set(
            "volumes",
            [{"hostPath": "/var/run/docker.sock", "containerPath": "/var/run/docker.sock"}],
        ),
    ),
    (
        "container-mounts-confined",
        CONTAINER,
        "postgres",
        _set("volumes", [{"hostPath": "/etc", "containerPath": "/host-etc"}]),
    ),
    ("container-resource-limits", CONTAINER, "redis", _set("memory", _DELETE)),
    ("container-resource-limits", CONTAINER, "redis", _set("cgroupParent", _DELETE)),
    ("container-resource-limits", CONTAINER, "redis", _set("memorySwap", -1)),
    ("container-health-check", CONTAINER, "n8n-runner-main", _set("healthcheck", _DELETE)),
    ("container-restart-policy", CONTAINER, "n8n-main", _set("restart", "no")),
    ("container-log-rotation", CONTAINER, "n8n-main", _set("logOpts", {})),
    (
        "image-pinned",
        CONTAINER,
        "postgres",
        _set("labels", [{"label": "hardened-n8n.image", "value": "postgres:latest"}]),
    ),
    ("image-pinned", "docker:index/remoteImage:RemoteImage", None, _set("name", "caddy")),
    (
        "container-ports-proxy-only",
        CONTAINER,
        "n8n-main",
        _set("ports", [{"internal": 5678, "external": 5678, "protocol": "tcp"}]),
    ),
    ("firewall-ssh-admin-only", FIREWALL, None, _ssh_from("0.0.0.0/0")),
    ("firewall-ssh-admin-only", FIREWALL, None, _ssh_from("::/0")),
    ("firewall-ssh-admin-only", FIREWALL, None, _ssh_from("198.51.100.99/32")),
    ("firewall-web-only", FIREWALL, None, _add_rule("tcp", "5678")),
    ("firewall-web-only", FIREWALL, None, _add_rule("icmp", "")),
    ("server-firewall-attached", SERVER, None, _set("firewallIds", [])),
    ("server-protection", SERVER, None, _set("deleteProtection", False)),
    ("server-protection", SERVER, None, _set("rebuildProtection", False)),
    ("server-protection", VOLUME, None, _set("deleteProtection", False)),
    ("server-backups", SERVER, None, _set("backups", False)),
    (
        "n8n-nodes-exclude",
        CONTAINER,
        "n8n-main",
        _env("NODES_EXCLUDE", "ExecuteCommand,HTTPRequest"),
    ),
    (
        "n8n-nodes-exclude",
        CONTAINER,
        "n8n-worker-2",
        _env("NODES_EXCLUDE", '["n8n-nodes-base.httpRequest"]'),
    ),
    ("n8n-nodes-exclude", CONTAINER, "n8n-main", _env("NODES_EXCLUDE", None)),
    ("n8n-hardened-settings", CONTAINER, "n8n-main", _env("N8N_RUNNERS_MODE", "internal")),
    (
        "n8n-hardened-settings",
        CONTAINER,
        "n8n-worker-1",
        _env("N8N_BLOCK_ENV_ACCESS_IN_NODE", "false"),
    ),
    ("n8n-hardened-settings", CONTAINER, "n8n-main", _env("EXECUTIONS_MODE", "regular")),
    ("secrets-not-in-plain-fields", CONTAINER, "postgres", lambda inputs: None),
    (
        "secrets-not-in-plain-fields",
        REMOTE_COMMAND,
        None,
        _set("stdin", "-----BEGIN OPENSSH PRIVATE KEY-----"),
    ),
]


def _pick(resources: list[Resource], type_token: str, name: str | None) -> Resource:
    for resource in resources:
        matches_name = name is None or resource.inputs.get("name") == name
        if resource.type == type_token and matches_name:
            return resource
    raise AssertionError(f"no {type_token} named {name} in the prod stack")


@pytest.mark.parametrize(
    ("rule_id", "type_token", "name", "change"),
    BREAKS,
    ids=[f"{b[0]}-{i}" for i, b in enumerate(BREAKS)],
)
def test_rule_rejects_broken_resource(
    rule_id, type_token, name, change, prod_resources, prod_policy_config
):
    rule = next(r for r in RESOURCE_RULES if r.id == rule_id)
    compliant = _pick(prod_resources, type_token, name)
    assert rule.evaluate(compliant, prod_policy_config) == []

    inputs = copy.deepcopy(dict(compliant.inputs))
    change(inputs)
    broken = replace(compliant, inputs=inputs)
    if rule_id == "secrets-not-in-plain-fields" and type_token == CONTAINER:
        broken = replace(compliant, secret_paths=frozenset())
    violations = rule.evaluate(broken, prod_policy_config)

    assert violations, f"{rule_id} accepted the broken {type_token} {name}"
    assert all(v.rule_id == rule_id for v in violations)
    assert all(compliant.urn in str(v) for v in violations)


def test_every_rule_has_a_breaking_case():
    broken = {b[0] for b in BREAKS}
    assert set(RULE_IDS) <= broken, f"rules without a breaking case: {set(RULE_IDS) - broken}"


def test_second_publisher_breaks_stack_rule(prod_resources, prod_policy_config):
    rule = next(r for r in STACK_RULES if r.id == "stack-one-publisher")
    main = _pick(prod_resources, CONTAINER, "n8n-main")
    inputs = copy.deepcopy(dict(main.inputs))
    inputs["ports"] = [{"internal": 5678, "external": 5678, "protocol": "tcp"}]
    resources = [replace(main, inputs=inputs) if r is main else r for r in prod_resources]

    violations = rule.evaluate(resources, prod_policy_config)

    assert [v.rule_id for v in violations] == ["stack-one-publisher"]


def test_missing_runner_breaks_stack_rule(prod_resources, prod_policy_config):
    rule = next(r for r in STACK_RULES if r.id == "stack-runner-per-n8n")
    runner = _pick(prod_resources, CONTAINER, "n8n-runner-worker-2")
    resources = [r for r in prod_resources if r is not runner]

    violations = rule.evaluate(resources, prod_policy_config)

    assert len(violations) == 1
    assert violations[0].urn == _pick(prod_resources, CONTAINER, "n8n-worker-2").urn


def test_container_without_gate_breaks_stack_rule(prod_resources, prod_policy_config):
    rule = next(r for r in STACK_RULES if r.id == "stack-ready-gate")
    redis = _pick(prod_resources, CONTAINER, "redis")
    resources = [replace(redis, dependencies=()) if r is redis else r for r in prod_resources]

    violations = rule.evaluate(resources, prod_policy_config)

    assert [v.urn for v in violations] == [redis.urn]


def _with_caddyfile(resources, edit):
    """Return the resources with the bundled Caddyfile passed through edit."""
    changed = []
    for resource in resources:
        if resource.type == REMOTE_COMMAND and resource.inputs.get("stdin"):
            bundle = json.loads(resource.inputs["stdin"])
            for entry in bundle["files"]:
                if entry["path"].endswith("/Caddyfile"):
                    entry["content"] = edit(entry["content"])
            inputs = dict(resource.inputs, stdin=json.dumps(bundle))
            resource = replace(resource, inputs=inputs)
        changed.append(resource)
    return changed


def test_open_webhook_path_breaks_gateway_rule(prod_resources, prod_policy_config):
    rule = next(r for r in STACK_RULES if r.id == "webhooks-through-gateway")
    resources = _with_caddyfile(
        prod_resources, lambda text: text.replace("path /webhook*", "path /webhook/")
    )

    violations = rule.evaluate(resources, prod_policy_config)

    assert len(violations) == 1
    assert "404" in violations[0].message


def test_unrouted_gateway_path_breaks_gateway_rule(prod_resources, prod_policy_config):
    rule = next(r for r in STACK_RULES if r.id == "webhooks-through-gateway")
    resources = _with_caddyfile(
        prod_resources, lambda text: text.replace("path /hooks/flutterwave", "path /hooks/other")
    )

    violations = rule.evaluate(resources, prod_policy_config)

    assert len(violations) == 1
    assert "/hooks/other" in violations[0].message
