"""Webhook gateway routes from stack config, and their signing secrets.

Routes are plain config, because they appear in previews and in the proxy's routing. Their
secrets are a separate key that must be set with --secret, so no route puts a secret in a plan.
"""

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulumi

from components import caddyfile
from components.stack_config import is_secret, secret_value
from gateway.webhook_gateway.config import DEFAULT_DEDUP_TTL_SECONDS, validate_routes

if TYPE_CHECKING:
    from components.settings import _Reader

WEBHOOK_NODE_TYPE = "n8n-nodes-base.webhook"
PUBLIC_PREFIX = "/hooks/"
N8N_PREFIX = "/webhook/"
MAX_SECRETS_PER_ROUTE = 2
MIN_SECRET_LENGTH = 16

# Stack config uses camelCase; the gateway's own configuration uses snake_case.
_FIELD_NAMES = {
    "name": "name",
    "publicPath": "public_path",
    "n8nPath": "n8n_path",
    "scheme": "scheme",
    "maxAgeSeconds": "max_age_seconds",
    "maxFutureSeconds": "max_future_seconds",
    "hmac": "hmac",
}
_HMAC_FIELD_NAMES = {
    "header": "header",
    "encoding": "encoding",
    "prefix": "prefix",
    "idField": "id_field",
    "idHeader": "id_header",
}


@dataclass(frozen=True)
class Route:
    name: str
    public_path: str
    n8n_path: str
    gateway_config: dict[str, Any]


def read_routes(
    reader: "_Reader", blocked: tuple[str, ...], blocked_names: list[str]
) -> tuple[Route, ...]:
    """Read webhookRoutes, reporting every invalid route field to the reader."""
    raw = reader.items("webhookRoutes", dict) or []
    routes = []
    for index, entry in enumerate(raw):
        route = _read_route(reader, index, entry)
        if route:
            routes.append((index, route))
    _check_unique(reader, routes)
    if routes and WEBHOOK_NODE_TYPE in blocked:
        # Rewrite the whole list: the entry may come from Pulumi.yaml's default, which no
        # `config rm --path` of the stack can remove.
        remaining = [n for n in blocked_names if _bare_node_name(n) != "webhook"]
        entries = " ".join(f"--plaintext 'blockedNodes[{i}]={n}'" for i, n in enumerate(remaining))
        reader.report(
            "blockedNodes",
            "blocks the Webhook node, but webhookRoutes forward verified events to n8n webhooks",
            f"pulumi config rm blockedNodes; pulumi config set-all --path {entries}",
        )
    return tuple(route for _, route in routes)


def _bare_node_name(name: str) -> str:
    return name.strip().lower().removeprefix("n8n-nodes-base.")


def _read_route(reader: "_Reader", index: int, entry: dict[str, Any]) -> Route | None:
    key = f"webhookRoutes[{index}]"
    unknown = [f"{key}.{name}" for name in sorted(set(entry) - set(_FIELD_NAMES))]
    if isinstance(entry.get("hmac"), dict):
        unknown += [
            f"{key}.hmac.{name}" for name in sorted(set(entry["hmac"]) - set(_HMAC_FIELD_NAMES))
        ]

    for path in unknown:
        field_names = _HMAC_FIELD_NAMES if ".hmac." in path else _FIELD_NAMES
        reader.report(
            path,
            f"is not a route field; known fields: {', '.join(field_names)}",
            f"pulumi config rm --path '{path}'",
        )
    if unknown:
        return None

    config = {_FIELD_NAMES[name]: value for name, value in entry.items()}
    if isinstance(config.get("hmac"), dict):
        config["hmac"] = {_HMAC_FIELD_NAMES.get(k, k): v for k, v in config["hmac"].items()}
    # The gateway checks its own configuration with the same function and the same duplicate
    # window, so a route accepted here also starts there.
    problems = validate_routes([config], dedup_ttl_seconds=DEFAULT_DEDUP_TTL_SECONDS)
    problems = [_camel_case(p) for p in problems]
    problems += _path_problems(config, flagged=" ".join(problems))
    for problem in problems:
        field_path = _field_named(problem)
        target = f"{key}.{field_path}" if field_path else key
        reader.report(target, problem, f"pulumi config set --path '{target}' VALUE")
    if problems:
        return None
    return Route(config["name"], config["public_path"], config["n8n_path"], config)


def _camel_case(problem: str) -> str:
    """Name fields in a gateway message as the stack config spells them."""
    for camel, snake in {**_FIELD_NAMES, **_HMAC_FIELD_NAMES}.items():
        problem = re.sub(rf"\b{snake}\b", camel, problem)
    window = f"the gateway's duplicate window ({DEFAULT_DEDUP_TTL_SECONDS} seconds)"
    return re.sub(r"GATEWAY_DEDUP_TTL_SECONDS \(\d+\)", window, problem)


def _field_named(problem: str) -> str | None:
    """Return the route field a message is about (hmac.header for a nested one)."""
    # Gateway messages start with 'route "NAME": '; a route name may contain a field's name.
    text = re.sub(r'^route "[^"]*": ', "", problem)
    positions = [
        (match.start(), name)
        for name in _FIELD_NAMES
        for match in [re.search(rf"\b{name}\b", text)]
        if match
    ]
    if not positions:
        return None
    field_name = min(positions)[1]
    if field_name == "hmac":
        nested = [n for n in _HMAC_FIELD_NAMES if re.search(rf"\b{n}\b", text)]
        return f"hmac.{nested[0]}" if nested else "hmac"
    return field_name


def _path_problems(config: dict[str, Any], flagged: str) -> list[str]:
    """Check the paths' prefixes, unless the gateway's own check already rejected a path."""
    problems = []
    public_path = str(config.get("public_path", ""))
    if "publicPath" not in flagged:
        path_error = caddyfile.validate_public_path(public_path)
        if path_error:
            problems.append(f"publicPath {path_error}")
        elif not public_path.startswith(PUBLIC_PREFIX) or public_path == PUBLIC_PREFIX:
            problems.append(f"publicPath must be under {PUBLIC_PREFIX}, apart from n8n's own paths")
    n8n_path = str(config.get("n8n_path", ""))
    bad_n8n_path = not n8n_path.startswith(N8N_PREFIX) or caddyfile.validate_public_path(n8n_path)
    if "n8nPath" not in flagged and bad_n8n_path:
        problems.append(f"n8nPath must be a production webhook path under {N8N_PREFIX}")
    return problems


def _check_unique(reader: "_Reader", routes: list[tuple[int, Route]]) -> None:
    for attribute, field_name in (("name", "name"), ("public_path", "publicPath")):
        seen: dict[str, int] = {}
        for index, route in routes:
            value = getattr(route, attribute)
            if value in seen:
                key = f"webhookRoutes[{index}].{field_name}"
                reader.report(
                    key,
                    f"{value!r} is already used by webhookRoutes[{seen[value]}]",
                    f"pulumi config set --path '{key}' OTHER",
                )
            seen.setdefault(value, index)


def read_secrets(reader: "_Reader", routes: tuple[Route, ...]) -> pulumi.Output | None:
    """Check webhookSecrets against the routes and return it as a Pulumi secret."""
    text = secret_value("webhookSecrets")
    try:
        secrets = json.loads(text) if text else {}
    except json.JSONDecodeError:
        secrets = None
    if not routes:
        return None
    # Setting the map again, entry by entry with --secret, replaces a broken or plain one.
    reset = f"pulumi config rm webhookSecrets; {_secret_command(routes[0].name)}"
    if secrets and not is_secret("webhookSecrets"):
        reader.report("webhookSecrets", "is stored in plaintext in the stack file", reset)
        return None
    problems = route_secret_problems(secrets, routes)
    route_names = {route.name for route in routes}
    for key, message in problems:
        name = key.removeprefix("webhookSecrets.")
        if key == "webhookSecrets":
            fix = reset
        elif name in route_names:
            fix = _secret_command(name)
        else:
            fix = f"pulumi config rm --path '{key}'"
        reader.report(key, message, fix)
    if problems:
        return None
    return pulumi.Output.secret(secrets)


def _secret_command(route_name: str) -> str:
    return f"pulumi config set --secret --path 'webhookSecrets.{route_name}[0]' SECRET"


def route_secret_problems(secrets: Any, routes: tuple[Route, ...]) -> list[tuple[str, str]]:
    """Return (key, message) for each route without one or two usable secrets."""
    if not isinstance(secrets, dict):
        return [("webhookSecrets", "must map each route name to a list of secrets")]
    problems = []
    names = {route.name for route in routes}
    for name in sorted(set(secrets) - names):
        problems.append((f"webhookSecrets.{name}", "names no route in webhookRoutes"))
    for name in sorted(names):
        values = secrets.get(name)
        key = f"webhookSecrets.{name}"
        if values is None:
            problems.append((key, "is missing: the route cannot verify signatures without it"))
        elif not isinstance(values, list) or not 1 <= len(values) <= MAX_SECRETS_PER_ROUTE:
            problems.append((key, "must be a list of one secret, or two while rotating"))
        elif any(not isinstance(v, str) or len(v) < MIN_SECRET_LENGTH for v in values):
            problems.append(
                (key, f"each secret must be text of at least {MIN_SECRET_LENGTH} characters")
            )
    return problems
