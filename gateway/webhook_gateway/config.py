"""Gateway configuration: environment variables read once at start, and route validation.

``validate_routes`` is pure and needs only the standard library, so the Pulumi program runs the
same route checks before anything is deployed. ``load_settings`` reads every GATEWAY_*
variable and raises one ``ConfigError`` that lists every problem found.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

SCHEME_NAMES = ("flutterwave-v4", "flutterwave-v3", "github", "stripe", "hmac")
# Schemes whose signed data carries a timestamp, so the gateway can reject stale requests.
TIMESTAMPED_SCHEMES = frozenset({"flutterwave-v4", "stripe"})
HMAC_ENCODINGS = ("hex", "base64")

DEFAULT_MAX_FUTURE_SECONDS = 30
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
MAX_BODY_BYTES_LIMIT = 64 * 1024 * 1024
# Seven days: longer than every automatic retry window of the supported providers, so a retry
# of a delivered event is still recognised as a duplicate. Stripe retries live-mode deliveries
# for up to 3 days. Flutterwave retries 3 times at 30-minute intervals (90 minutes) when
# retries are enabled on its dashboard. GitHub does not redeliver automatically.
DEFAULT_DEDUP_TTL_SECONDS = 7 * 24 * 60 * 60
DEFAULT_N8N_TIMEOUT_SECONDS = 10
DEFAULT_CLAIM_LEASE_SECONDS = 30
# A claim must outlive the forward it protects, or a retry could claim the event while the
# first forward is still running and n8n would receive it twice.
CLAIM_LEASE_MARGIN_SECONDS = 5
MAX_SECRETS_PER_ROUTE = 2
# n8n's queue mode uses Redis database 0, so the gateway keeps its keys in another one.
DEFAULT_REDIS_DB = 1

RESERVED_PATHS = frozenset({"/healthz"})
_ROUTE_FIELDS = frozenset(
    {"name", "public_path", "n8n_path", "scheme", "max_age_seconds", "max_future_seconds", "hmac"}
)
_HMAC_FIELDS = frozenset({"header", "encoding", "prefix", "id_field", "id_header"})
_NAME = re.compile(r"[a-z][a-z0-9_-]{0,62}")
# Unreserved URL characters and "/" only, so a path needs no escaping in any proxy config.
_PATH = re.compile(r"/[A-Za-z0-9._~/-]*")
# An HTTP field name is an RFC 9110 token.
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_FIELD_PATH = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class ConfigError(Exception):
    """Invalid gateway configuration. ``problems`` lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        counted = f"{count} problem" if count == 1 else f"{count} problems"
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"invalid gateway configuration ({counted}):\n{lines}")


def validate_routes(routes: Any, *, dedup_ttl_seconds: int | None = None) -> list[str]:
    """Return one message per problem in ``routes`` (a parsed GATEWAY_ROUTES), or [] if valid.

    Each message names the route (by name, or by index when the name is unusable) and the
    field. When ``dedup_ttl_seconds`` is given, each route's freshness window must be shorter
    than it, because a replay older than the dedup record but still fresh would be forwarded.
    """
    if not isinstance(routes, list):
        return [f"routes must be a JSON array of route objects, got {_type_name(routes)}"]
    if not routes:
        return ["routes must contain at least one route"]

    problems = []
    for index, route in enumerate(routes):
        label = _route_label(index, route)
        problems.extend(f"{label}: {problem}" for problem in _route_problems(route))
        if isinstance(route, dict):
            problems.extend(
                f"{label}: {problem}" for problem in _window_problems(route, dedup_ttl_seconds)
            )
    problems.extend(_duplicate_problems(routes))
    return problems


def _route_label(index: int, route: Any) -> str:
    name = route.get("name") if isinstance(route, dict) else None
    if isinstance(name, str) and _NAME.fullmatch(name):
        return f'route "{name}"'
    return f"route #{index}"


def _route_problems(route: Any) -> list[str]:
    if not isinstance(route, dict):
        return [f"must be a JSON object, got {_type_name(route)}"]

    problems = [f'unknown field "{name}"' for name in sorted(set(route) - _ROUTE_FIELDS)]
    name = route.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        problems.append(
            "name must be 1-63 lowercase letters, digits, '-' or '_', starting with a letter, "
            f"got {_shown(name)}"
        )
    for path_field in ("public_path", "n8n_path"):
        problems.extend(_path_problems(path_field, route.get(path_field)))

    scheme = route.get("scheme")
    if scheme not in SCHEME_NAMES:
        problems.append(f"scheme must be one of {', '.join(SCHEME_NAMES)}, got {_shown(scheme)}")
    problems.extend(_freshness_problems(route, scheme))
    problems.extend(_hmac_problems(route.get("hmac"), scheme))
    return problems


def _path_problems(field_name: str, value: Any) -> list[str]:
    if not isinstance(value, str) or not _PATH.fullmatch(value):
        return [
            f"{field_name} must start with '/' and contain only letters, digits and '-._~/', "
            f"got {_shown(value)}"
        ]
    segments = value.split("/")[1:]
    if any(segment in (".", "..") for segment in segments) or "//" in value:
        return [f"{field_name} must not contain '.', '..' or empty segments, got {_shown(value)}"]
    if field_name == "public_path" and value in RESERVED_PATHS:
        return [f"public_path {value} is reserved for the gateway's health check"]
    return []


def _freshness_problems(route: dict, scheme: Any) -> list[str]:
    max_age = route.get("max_age_seconds")
    max_future = route.get("max_future_seconds")
    if scheme not in TIMESTAMPED_SCHEMES:
        # A freshness limit on a scheme without a signed timestamp would look like replay
        # protection that the gateway cannot give.
        return [
            f"{field_name} is not allowed for scheme {scheme}: its requests carry no signed "
            "timestamp"
            for field_name, value in (
                ("max_age_seconds", max_age),
                ("max_future_seconds", max_future),
            )
            if value is not None and scheme in SCHEME_NAMES
        ]

    problems = []
    if not _is_int(max_age) or max_age <= 0:
        problems.append(
            f"max_age_seconds is required for scheme {scheme} and must be a positive integer, "
            f"got {_shown(max_age)}"
        )
    if max_future is not None and (not _is_int(max_future) or max_future < 0):
        problems.append(
            f"max_future_seconds must be an integer of 0 or more, got {_shown(max_future)}"
        )
    return problems


def _hmac_problems(options: Any, scheme: Any) -> list[str]:
    if scheme != "hmac":
        if options is not None and scheme in SCHEME_NAMES:
            return [f"hmac is only allowed for scheme hmac, not {scheme}"]
        return []
    if not isinstance(options, dict):
        return [f"hmac must be an object for scheme hmac, got {_type_name(options)}"]

    problems = [f'unknown field "hmac.{name}"' for name in sorted(set(options) - _HMAC_FIELDS)]
    header = options.get("header")
    if not isinstance(header, str) or not _HEADER_NAME.fullmatch(header):
        problems.append(f"hmac.header must be an HTTP header name, got {_shown(header)}")
    encoding = options.get("encoding")
    if encoding not in HMAC_ENCODINGS:
        problems.append(f"hmac.encoding must be hex or base64, got {_shown(encoding)}")
    prefix = options.get("prefix", "")
    if not isinstance(prefix, str) or not prefix.isprintable():
        problems.append(f"hmac.prefix must be printable text, got {_shown(prefix)}")
    problems.extend(_event_id_problems(options))
    return problems


def _event_id_problems(options: dict) -> list[str]:
    id_field = options.get("id_field")
    id_header = options.get("id_header")
    if (id_field is None) == (id_header is None):
        return ["hmac needs exactly one of id_field (JSON body field) or id_header"]
    if id_field is not None and (
        not isinstance(id_field, str) or not _FIELD_PATH.fullmatch(id_field)
    ):
        return [f"hmac.id_field must be a field name or dotted path, got {_shown(id_field)}"]
    if id_header is not None and (
        not isinstance(id_header, str) or not _HEADER_NAME.fullmatch(id_header)
    ):
        return [f"hmac.id_header must be an HTTP header name, got {_shown(id_header)}"]
    header = options.get("header")
    if (
        isinstance(id_header, str)
        and isinstance(header, str)
        and id_header.lower() == header.lower()
    ):
        # The event id is logged and forwarded to n8n, so it must never be the signature.
        return [f"hmac.id_header must differ from hmac.header, got {_shown(id_header)} for both"]
    return []


def _window_problems(route: dict, dedup_ttl_seconds: int | None) -> list[str]:
    max_age = route.get("max_age_seconds")
    max_future = route.get("max_future_seconds", DEFAULT_MAX_FUTURE_SECONDS)
    if dedup_ttl_seconds is None or not _is_int(max_age) or not _is_int(max_future):
        return []
    if max_age + max_future < dedup_ttl_seconds:
        return []
    return [
        f"max_age_seconds + max_future_seconds ({max_age + max_future}) must be less than "
        f"GATEWAY_DEDUP_TTL_SECONDS ({dedup_ttl_seconds}), or a replayed event could be "
        "forwarded again after its dedup record expires"
    ]


def _duplicate_problems(routes: list) -> list[str]:
    problems = []
    for field_name in ("name", "public_path"):
        values = [r.get(field_name) for r in routes if isinstance(r, dict)]
        hashable = [v for v in values if isinstance(v, str)]
        for value in sorted({v for v in hashable if hashable.count(v) > 1}):
            problems.append(f"more than one route has {field_name} {_shown(value)}")
    return problems


def _is_int(value: Any) -> bool:
    # bool is a subclass of int, but true/false in JSON is a mistake here.
    return isinstance(value, int) and not isinstance(value, bool)


def _type_name(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number" if isinstance(value, int | float) else "a value")


def _shown(value: Any) -> str:
    text = json.dumps(value) if _json_safe(value) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _json_safe(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


class Secret:
    """A secret value whose repr and str never show it."""

    __slots__ = ("_value",)

    def __init__(self, value: bytes) -> None:
        self._value = value

    def reveal(self) -> bytes:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


@dataclass(frozen=True)
class HmacOptions:
    """Options of the generic ``hmac`` scheme. ``id_field`` is a dotted JSON path, split."""

    header: str
    encoding: str
    prefix: str
    id_field: tuple[str, ...] | None
    id_header: str | None


@dataclass(frozen=True)
class RouteConfig:
    """One validated route with its active secrets (current first, then previous)."""

    name: str
    public_path: str
    n8n_path: str
    scheme: str
    max_age_seconds: int | None
    max_future_seconds: int | None
    hmac: HmacOptions | None
    secrets: tuple[Secret, ...] = field(repr=False)


@dataclass(frozen=True)
class Settings:
    """Validated gateway settings. Times are in seconds, sizes in bytes."""

    routes: tuple[RouteConfig, ...]
    n8n_url: str
    redis_host: str
    redis_port: int
    redis_password: Secret = field(repr=False)
    redis_db: int = DEFAULT_REDIS_DB
    # All interfaces of the container, because the orchestrator decides which networks reach it.
    listen_host: str = "0.0.0.0"  # noqa: S104
    port: int = 8080
    metrics_port: int = 9102
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    dedup_ttl_seconds: int = DEFAULT_DEDUP_TTL_SECONDS
    trusted_proxy_hops: int = 1
    n8n_timeout_seconds: int = DEFAULT_N8N_TIMEOUT_SECONDS
    claim_lease_seconds: int = DEFAULT_CLAIM_LEASE_SECONDS
    log_level: str = "INFO"


class _EnvReader:
    """Read environment variables and collect every problem instead of stopping at the first."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.problems: list[str] = []

    def text(self, name: str, default: str | None = None) -> str:
        value = self.environ.get(name, "").strip()
        if value:
            return value
        if default is None:
            self.problems.append(f"{name} is missing: set it in the container environment")
            return ""
        return default

    def integer(self, name: str, default: int, minimum: int, maximum: int) -> int:
        raw = self.environ.get(name, "").strip()
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            self.problems.append(f"{name} must be an integer, got {_shown(raw)}")
            return default
        if not minimum <= value <= maximum:
            self.problems.append(f"{name} must be between {minimum} and {maximum}, got {value}")
            return default
        return value

    def json_value(self, name: str) -> Any:
        raw = self.text(name)
        if not raw:
            return None
        try:
            return json.loads(raw)
        except json.JSONDecodeError as error:
            # Only the decoder's fixed message and the position are shown, never the text, so a
            # secret in GATEWAY_SECRETS cannot leak through this error.
            self.problems.append(
                f"{name} is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
            )
            return None


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Read and validate every GATEWAY_* variable of ``environ``.

    Raises ConfigError listing every problem. Messages never contain secret values.
    """
    env = _EnvReader(environ)
    dedup_ttl = env.integer("GATEWAY_DEDUP_TTL_SECONDS", DEFAULT_DEDUP_TTL_SECONDS, 60, 90 * 86400)
    raw_routes = env.json_value("GATEWAY_ROUTES")
    raw_secrets = env.json_value("GATEWAY_SECRETS")
    route_problems = []
    if raw_routes is not None:
        route_problems = validate_routes(raw_routes, dedup_ttl_seconds=dedup_ttl)
        env.problems.extend(f"GATEWAY_ROUTES: {problem}" for problem in route_problems)
    routes_ok = raw_routes is not None and not route_problems
    secrets = _read_secrets(env, raw_secrets, raw_routes if routes_ok else None)

    settings = _read_service_settings(env, dedup_ttl)
    if env.problems:
        raise ConfigError(env.problems)
    routes = tuple(_route_config(route, secrets[route["name"]]) for route in raw_routes)
    return Settings(routes=routes, **settings)


def _read_service_settings(env: _EnvReader, dedup_ttl: int) -> dict[str, Any]:
    n8n_url = env.text("GATEWAY_N8N_URL")
    if n8n_url:
        env.problems.extend(_n8n_url_problems(n8n_url))
    settings = {
        "n8n_url": n8n_url.rstrip("/"),
        "redis_host": env.text("GATEWAY_REDIS_HOST"),
        "redis_port": env.integer("GATEWAY_REDIS_PORT", 6379, 1, 65535),
        "redis_password": Secret(env.text("GATEWAY_REDIS_PASSWORD").encode()),
        "redis_db": env.integer("GATEWAY_REDIS_DB", DEFAULT_REDIS_DB, 0, 15),
        "listen_host": env.text("GATEWAY_LISTEN_HOST", "0.0.0.0"),  # noqa: S104 - as Settings
        "port": env.integer("GATEWAY_PORT", 8080, 1, 65535),
        "metrics_port": env.integer("GATEWAY_METRICS_PORT", 9102, 1, 65535),
        "max_body_bytes": env.integer(
            "GATEWAY_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, 1024, MAX_BODY_BYTES_LIMIT
        ),
        "dedup_ttl_seconds": dedup_ttl,
        "trusted_proxy_hops": env.integer("GATEWAY_TRUSTED_PROXY_HOPS", 1, 0, 10),
        "n8n_timeout_seconds": env.integer(
            "GATEWAY_N8N_TIMEOUT_SECONDS", DEFAULT_N8N_TIMEOUT_SECONDS, 1, 300
        ),
        "claim_lease_seconds": env.integer(
            "GATEWAY_CLAIM_LEASE_SECONDS", DEFAULT_CLAIM_LEASE_SECONDS, 2, 3600
        ),
        "log_level": env.text("GATEWAY_LOG_LEVEL", "INFO").upper(),
    }
    env.problems.extend(_cross_field_problems(settings))
    return settings


def _n8n_url_problems(url: str) -> list[str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [f"GATEWAY_N8N_URL must be an http(s) URL with a host, got {_shown(url)}"]
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        return [
            "GATEWAY_N8N_URL must be the n8n base URL without path, query or credentials, "
            f"such as http://n8n-main:5678, got {_shown(url)}"
        ]
    return []


def _cross_field_problems(settings: dict[str, Any]) -> list[str]:
    problems = []
    if settings["port"] == settings["metrics_port"]:
        problems.append("GATEWAY_PORT and GATEWAY_METRICS_PORT must differ")
    if (
        settings["claim_lease_seconds"]
        < settings["n8n_timeout_seconds"] + CLAIM_LEASE_MARGIN_SECONDS
    ):
        problems.append(
            "GATEWAY_CLAIM_LEASE_SECONDS must be at least GATEWAY_N8N_TIMEOUT_SECONDS + "
            f"{CLAIM_LEASE_MARGIN_SECONDS}, so a claim outlives the forward it protects"
        )
    if settings["log_level"] not in _LOG_LEVELS:
        problems.append(
            f"GATEWAY_LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}, "
            f"got {_shown(settings['log_level'])}"
        )
    return problems


def _read_secrets(
    env: _EnvReader, raw_secrets: Any, routes: list[dict] | None
) -> dict[str, tuple[Secret, ...]]:
    if raw_secrets is None:
        return {}
    if not isinstance(raw_secrets, dict):
        env.problems.append(
            "GATEWAY_SECRETS must be a JSON object mapping each route name to a list of secrets"
        )
        return {}
    names = [route["name"] for route in routes] if routes is not None else list(raw_secrets)
    for extra in sorted(set(raw_secrets) - set(names)):
        env.problems.append(f'GATEWAY_SECRETS: route "{extra}" is not in GATEWAY_ROUTES')

    secrets = {}
    for name in names:
        values = raw_secrets.get(name)
        if values is None:
            env.problems.append(f'GATEWAY_SECRETS: route "{name}" has no secret')
        elif (
            not isinstance(values, list)
            or not 1 <= len(values) <= MAX_SECRETS_PER_ROUTE
            or not all(isinstance(value, str) and value for value in values)
        ):
            env.problems.append(
                f'GATEWAY_SECRETS: route "{name}" must have a list of one non-empty secret, '
                "or two (current, previous) while rotating"
            )
        else:
            secrets[name] = tuple(Secret(value.encode()) for value in values)
    return secrets


def _route_config(route: dict, secrets: tuple[Secret, ...]) -> RouteConfig:
    scheme = route["scheme"]
    max_future = route.get("max_future_seconds")
    if scheme in TIMESTAMPED_SCHEMES and max_future is None:
        max_future = DEFAULT_MAX_FUTURE_SECONDS
    return RouteConfig(
        name=route["name"],
        public_path=route["public_path"],
        n8n_path=route["n8n_path"],
        scheme=scheme,
        max_age_seconds=route.get("max_age_seconds"),
        max_future_seconds=max_future,
        hmac=_hmac_options(route["hmac"]) if scheme == "hmac" else None,
        secrets=secrets,
    )


def _hmac_options(options: dict) -> HmacOptions:
    id_field = options.get("id_field")
    return HmacOptions(
        header=options["header"],
        encoding=options["encoding"],
        prefix=options.get("prefix", ""),
        id_field=tuple(id_field.split(".")) if id_field else None,
        id_header=options.get("id_header"),
    )
