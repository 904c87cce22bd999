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
        names = [n.lower().removeprefix("n8n-nodes-base.") for n in blocked_names]
        index = names.index("webhook") if "webhook" in names else 0
        reader.report(
            f"blockedNodes[{index}]",
            "blocks the Webhook node, but webhookRoutes forward verified events to n8n webhooks",
            f"pulumi config rm --path 'blockedNodes[{index}]'",
        )
    return tuple(route for _, route in routes)


def _read_route(reader: "_Reader", index: int, entry: dict[str, Any]) -> Route | None:
    key = f"webhookRoutes[{index}]"
    unknown = sorted(set(entry) - set(_FIELD_NAMES))
    for name in unknown:
        reader.report(
            f"{key}.{name}",
            f"is not a route field; known fields: {', '.join(_FIELD_NAMES)}",
            f"pulumi config rm --path '{key}.{name}'",
        )
    if unknown:
        return None
    config = {_FIELD_NAMES[name]: value for name, value in entry.items()}
    if isinstance(config.get("hmac"), dict):
        config["hmac"] = {_HMAC_FIELD_NAMES.get(k, k): v for k, v in config["hmac"].items()}
    # The gateway checks its own configuration with the same function and the same duplicate
    # window, so a route accepted here also starts there.
    problems = validate_routes([config], dedup_ttl_seconds=DEFAULT_DEDUP_TTL_SECONDS)
    problems = [_camel_case(p) for p in problems] + _path_problems(config)
    for problem in problems:
        field_name = _field_named(problem)
        reader.report(
            f"{key}.{field_name}" if field_name else key,
            problem,
            f"pulumi config set --path '{key}.{field_name or 'FIELD'}' VALUE",
        )
    if problems:
        return None
    return Route(config["name"], config["public_path"], config["n8n_path"], config)


def _camel_case(problem: str) -> str:
    """Name fields in a gateway message as the stack config spells them."""
    for camel, snake in {**_FIELD_NAMES, **_HMAC_FIELD_NAMES}.items():
        problem = re.sub(rf"\b{snake}\b", camel, problem)
    return problem


def _field_named(problem: str) -> str | None:
    """Return the first route field a message names, for the fixing command."""
    positions = [(problem.find(name), name) for name in _FIELD_NAMES if name in problem]
    return min(positions)[1] if positions else None


def _path_problems(config: dict[str, Any]) -> list[str]:
    problems = []
    public_path = str(config.get("public_path", ""))
    path_error = caddyfile.validate_public_path(public_path)
    if path_error:
        problems.append(f"publicPath {path_error}")
    elif not public_path.startswith(PUBLIC_PREFIX) or public_path == PUBLIC_PREFIX:
        problems.append(f"publicPath must be under {PUBLIC_PREFIX}, apart from n8n's own paths")
    n8n_path = str(config.get("n8n_path", ""))
    if not n8n_path.startswith(N8N_PREFIX) or caddyfile.validate_public_path(n8n_path):
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
    if secrets and not is_secret("webhookSecrets"):
        reader.report(
            "webhookSecrets",
            "is stored in plaintext in the stack file",
            "pulumi config rm webhookSecrets, then set each entry again with --secret",
        )
        return None
    problems = route_secret_problems(secrets, routes)
    route_names = {route.name for route in routes}
    for key, message in problems:
        name = key.removeprefix("webhookSecrets.")
        if name in route_names or key == "webhookSecrets":
            fix = f"pulumi config set --secret --path '{key}[0]' SECRET"
        else:
            fix = f"pulumi config rm --path '{key}'"
        reader.report(key, message, fix)
    if problems:
        return None
    return pulumi.Output.secret(secrets)


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
