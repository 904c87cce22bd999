"""Rules on n8n's settings and secrets, and rules over the whole set of resources."""

import json
import re

from components import nodes
from policy.container_rules import IMAGE_LABEL
from policy.model import (
    CONTAINER,
    REMOTE_COMMAND,
    SERVER,
    Resource,
    env_map,
    items,
    labels,
    rule,
    stack_rule,
)

N8N_IMAGE = "n8nio/n8n:"
RUNNER_IMAGE = "n8nio/runners:"
READY_GATE_SUFFIX = "-ready"
# Settings n8n's docs give for queue mode with external task runners behind a TLS proxy.
REQUIRED_N8N_ENV = {
    "EXECUTIONS_MODE": "queue",
    "N8N_RUNNERS_MODE": "external",
    "N8N_BLOCK_ENV_ACCESS_IN_NODE": "true",
    "N8N_SECURE_COOKIE": "true",
    "N8N_DIAGNOSTICS_ENABLED": "false",
    "N8N_VERSION_NOTIFICATIONS_ENABLED": "false",
    "QUEUE_HEALTH_CHECK_ACTIVE": "true",
}
SECRET_ENV_SUFFIXES = ("_PASSWORD", "_KEY", "_TOKEN", "_SECRETS")
PRIVATE_KEY_MARK = "PRIVATE KEY-----"
CADDYFILE_PATH = "/etc/hardened-n8n/Caddyfile"
GATEWAY_SERVICE = "webhook-gateway"
# A matcher for every path under /webhook, handled by a plain 404.
WEBHOOK_BLOCK = re.compile(r"@(\w+) path /webhook\*\n\s*handle @\1 \{\n\s*respond 404\n")
GATEWAY_MATCHER = re.compile(r"@gateway path ([^\n]+)\n")


def _image(resource: Resource) -> str:
    return labels(resource.inputs).get(IMAGE_LABEL, "")


def _is_n8n(resource: Resource) -> bool:
    return resource.type == CONTAINER and _image(resource).startswith(N8N_IMAGE)


@rule(
    "n8n-nodes-exclude",
    (CONTAINER,),
    "NODES_EXCLUDE is a JSON array of known node types with n8n's defaults",
    "n8n ignores unknown names and a value that is not a JSON array, silently excluding nothing",
)
def nodes_exclude(resource: Resource, _config):
    if not _is_n8n(resource):
        return
    version = _image(resource).removeprefix(N8N_IMAGE)
    value = env_map(resource.inputs).get("NODES_EXCLUDE")
    if value is None:
        yield "has no NODES_EXCLUDE, so n8n's defaults alone apply"
        return
    try:
        catalogue = nodes.load_catalogue(version)
    except nodes.CatalogueError as error:
        yield str(error)
        return
    yield from nodes.check_nodes_exclude(value, catalogue)


@rule(
    "n8n-hardened-settings",
    (CONTAINER,),
    "n8n runs in queue mode with external runners and hardened settings",
    "Without these, workflow code can read the environment and run inside n8n",
)
def n8n_settings(resource: Resource, _config):
    if not _is_n8n(resource):
        return
    env = env_map(resource.inputs)
    for name, expected in REQUIRED_N8N_ENV.items():
        if env.get(name) != expected:
            yield f"{name} is {env.get(name)!r}, expected {expected!r}"
    if not env.get("N8N_RUNNERS_AUTH_TOKEN"):
        yield "N8N_RUNNERS_AUTH_TOKEN is empty"


@rule(
    "secrets-not-in-plain-fields",
    (CONTAINER, REMOTE_COMMAND, SERVER),
    "Secrets travel only in fields the program marks secret",
    "A secret in a label, command or host file lands in plaintext in state and previews",
)
def secrets_in_place(resource: Resource, _config):
    marked = resource.secret_paths
    if resource.type == CONTAINER:
        env = env_map(resource.inputs)
        holds_secret = any(n.endswith(SECRET_ENV_SUFFIXES) and v for n, v in env.items())
        if holds_secret and marked is not None and "envs" not in marked:
            yield "envs hold a password, key or token but are not marked secret"
        plain = [str(x) for x in items(resource.inputs.get("command"))]
        plain += [f"{k}={v}" for k, v in labels(resource.inputs).items()]
        for text in plain:
            if any(f"{name}=" in text for name in env if name.endswith(SECRET_ENV_SUFFIXES)):
                yield "a secret variable appears in the command or labels"
    if resource.type == REMOTE_COMMAND:
        for key in ("create", "update", "delete", "stdin"):
            if PRIVATE_KEY_MARK in str(resource.inputs.get(key) or ""):
                yield f"{key} carries a private key"
    user_data = resource.type == SERVER and resource.inputs.get("userData")
    if user_data and marked is not None and "userData" not in marked:
        yield "userData carries the SSH host key but is not marked secret"


@stack_rule(
    "stack-one-publisher",
    "Exactly one container publishes ports",
    "The proxy is the only way in; a second publisher bypasses it and UFW",
)
def one_publisher(resources, _config):
    containers = [r for r in resources if r.type == CONTAINER]
    publishers = [r for r in containers if items(r.inputs.get("ports"))]
    if containers and len(publishers) != 1:
        names = sorted(r.name for r in publishers)
        yield "", f"{len(publishers)} containers publish ports ({names}); exactly the proxy must"


@stack_rule(
    "stack-runner-per-n8n",
    "Every n8n process has its own task runner",
    "Without an external runner, Code nodes fail or fall back to running inside n8n",
)
def runner_per_n8n(resources, _config):
    brokers = set()
    for resource in resources:
        if resource.type == CONTAINER and _image(resource).startswith(RUNNER_IMAGE):
            uri = env_map(resource.inputs).get("N8N_RUNNERS_TASK_BROKER_URI", "")
            brokers.add(uri.removeprefix("http://").split(":")[0])
    for resource in resources:
        if _is_n8n(resource) and str(resource.inputs.get("name")) not in brokers:
            yield resource.urn, "has no task runner pointing at its broker"


@stack_rule(
    "stack-ready-gate",
    "Every container waits for the host's ready gate",
    "A container started before cloud-init finishes runs on an unhardened host",
)
def ready_gate(resources, _config):
    gates = {
        r.urn for r in resources if r.type == REMOTE_COMMAND and r.name.endswith(READY_GATE_SUFFIX)
    }
    for resource in resources:
        if resource.type == CONTAINER and not gates.intersection(resource.dependencies):
            yield resource.urn, "does not depend on the host's ready gate"


@stack_rule(
    "webhooks-through-gateway",
    "n8n's webhook paths are reachable from the internet only through the gateway",
    "A webhook created in the editor must not accept unverified payment events",
)
def webhooks_through_gateway(resources, _config):
    bundles = [r for r in resources if r.type == REMOTE_COMMAND and r.inputs.get("stdin")]
    caddyfiles = [(r, _bundled_file(r, CADDYFILE_PATH)) for r in bundles]
    caddyfiles = [(r, text) for r, text in caddyfiles if text is not None]
    if not caddyfiles:
        yield "", f"no host file bundle installs {CADDYFILE_PATH}"
        return
    gateway = [
        r for r in resources if r.type == CONTAINER and r.inputs.get("name") == GATEWAY_SERVICE
    ]
    routed = _gateway_paths(gateway[0]) if gateway else set()
    for command, text in caddyfiles:
        if not WEBHOOK_BLOCK.search(text):
            yield command.urn, "the Caddyfile does not answer 404 to every path under /webhook"
        matcher = GATEWAY_MATCHER.search(text)
        proxied = set(matcher.group(1).split()) if matcher else set()
        if proxied != routed:
            sent, served = sorted(proxied), sorted(routed)
            yield command.urn, f"the Caddyfile sends {sent} to the gateway, which serves {served}"


def _bundled_file(command: Resource, path: str) -> str | None:
    try:
        bundle = json.loads(str(command.inputs.get("stdin")))
    except json.JSONDecodeError:
        return None
    for entry in bundle.get("files", []):
        if entry.get("path") == path:
            return str(entry.get("content"))
    return None


def _gateway_paths(gateway: Resource) -> set[str]:
    routes = json.loads(env_map(gateway.inputs).get("GATEWAY_ROUTES", "[]"))
    return {route["public_path"] for route in routes}
