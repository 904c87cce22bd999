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
from gateway.webhook_gateway.config import validate_routes

if TYPE_CHECKING:
    from components.settings import _Reader

WEBHOOK_NODE_TYPE = "n8n-nodes-base.webhook"
PUBLIC_PREFIX = "/hooks/"
N8N_PREFIX = "/webhook/"
MAX_SECRETS_PER_ROUTE = 2
MIN_SECRET_LENGTH = 16

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
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


def read_routes(reader: "_Reader", blocked: tuple[str, ...]) -> tuple[Route, ...]:
    """Read webhookRoutes, reporting every invalid route field to the reader."""
    raw = reader.items("webhookRoutes", dict)
    routes = []
    for index, entry in enumerate(raw):
        route = _read_route(reader, index, entry)
        if route:
            routes.append(route)
    _check_unique(reader, routes)
    if routes and WEBHOOK_NODE_TYPE in blocked:
        reader.report(
            "blockedNodes",
            "blocks the Webhook node, but webhookRoutes forward verified events to n8n webhooks",
            "remove Webhook from blockedNodes (pulumi config edit)",
        )
    return tuple(routes)


def _read_route(reader: "_Reader", index: int, entry: dict[str, Any]) -> Route | None:
    key = f"webhookRoutes[{index}]"
    fix = f"pulumi config set --path '{key}.FIELD' VALUE"
    unknown = sorted(set(entry) - set(_FIELD_NAMES))
    if unknown:
        reader.report(key, f"has unknown fields {unknown}; known: {sorted(_FIELD_NAMES)}", fix)
        return None
    config = {_FIELD_NAMES[name]: value for name, value in entry.items()}
    if isinstance(config.get("hmac"), dict):
        config["hmac"] = {_HMAC_FIELD_NAMES.get(k, k): v for k, v in config["hmac"].items()}
    problems = validate_routes([config]) + _path_problems(config)
    if not _NAME.match(str(config.get("name", ""))):
        problems.append("name must be lowercase letters, digits and '-', starting with a letter")
    for problem in problems:
        reader.report(key, problem, fix)
    if problems:
        return None
    return Route(config["name"], config["public_path"], config["n8n_path"], config)


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


def _check_unique(reader: "_Reader", routes: list[Route]) -> None:
    for attribute in ("name", "public_path"):
        values = [getattr(route, attribute) for route in routes]
        for value in sorted({v for v in values if values.count(v) > 1}):
            reader.report(
                "webhookRoutes",
                f"more than one route has {attribute} {value!r}",
                "pulumi config edit",
            )


def read_secrets(reader: "_Reader", routes: tuple[Route, ...]) -> pulumi.Output | None:
    """Check webhookSecrets against the routes and return it as a Pulumi secret."""
    text = secret_value("webhookSecrets")
    secrets = json.loads(text) if text else {}
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
    for key, message in problems:
        reader.report(
            key, message, f"pulumi config set --secret --path '{key.split('[')[0]}[0]' SECRET"
        )
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
