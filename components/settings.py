"""Stack settings: every config key read once, validated together, returned typed.

The keys, their types and defaults are declared in Pulumi.yaml; the CLI fills in the defaults
before the program runs, so this module contains no second copy of them. A key that is missing here
was removed from Pulumi.yaml, and that is reported like any other invalid setting.
"""

import zoneinfo
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components import checks, nodes, webhooks
from components.stack_config import is_secret, parse_json, raw_value, secret_value

MAX_WORKERS = 8
SECRET_OVERRIDE_KEYS = ("n8nEncryptionKey", "postgresPassword", "redisPassword", "runnersAuthToken")

# Passwords end up in configuration files and URLs; these characters would need quoting there.
_UNSAFE_SECRET_CHARS = frozenset(" \t\r\n\"'\\#@:/")
_MIN_SECRET_LENGTH = 24


class SettingsError(pulumi.RunError):
    """Raised with every invalid setting listed; RunError prints it without a stack trace."""


@dataclass(frozen=True)
class Problem:
    key: str
    message: str
    fix: str

    def render(self) -> str:
        return f"  - {self.key}: {self.message}\n      fix: {self.fix}"


@dataclass(frozen=True)
class Settings:
    stack: str
    location: str
    server_type: str
    image: str
    admin_user: str
    admin_ssh_keys: tuple[str, ...]
    admin_cidrs: tuple[str, ...]
    domain: str
    acme_email: str
    timezone: str
    n8n_version: str
    worker_count: int
    blocked_node_types: tuple[str, ...]
    nodes_exclude: str
    delete_protection: bool
    rebuild_protection: bool
    backups: bool
    volume_size: int
    auto_reboot: bool
    reboot_time: str
    webhook_routes: tuple[webhooks.Route, ...]
    # Config overrides of the generated secrets, keyed like SECRET_OVERRIDE_KEYS.
    secret_overrides: dict[str, pulumi.Output[str]] = field(repr=False)
    # Route name -> active signing secrets, newest first.
    webhook_secrets: pulumi.Output[dict[str, list[str]]] | None = field(repr=False)


def load_settings() -> Settings:
    """Read and validate every stack setting; raise SettingsError listing all problems."""
    reader = _Reader(pulumi.get_stack())
    settings = reader.build()
    if reader.problems:
        raise SettingsError(_format_problems(reader.stack, reader.problems))
    return settings


def _format_problems(stack: str, problems: list[Problem]) -> str:
    count = len(problems)
    noun = "setting is" if count == 1 else "settings are"
    lines = [f"{count} stack {noun} invalid for stack {stack!r}; nothing was deployed:"]
    lines += [problem.render() for problem in problems]
    return "\n".join(lines)


class _Reader:
    """Collects values and problems so that one run reports every bad key at once."""

    def __init__(self, stack: str) -> None:
        self.stack = stack
        self.problems: list[Problem] = []

    def report(self, key: str, message: str, fix: str | None = None) -> None:
        self.problems.append(Problem(key, message, fix or f"pulumi config set {key} VALUE"))

    def raw(self, key: str) -> Any:
        value = raw_value(key)
        if value is None:
            self.report(key, "is not set and has no default", f"restore {key} in Pulumi.yaml")
        return value

    def text(self, key: str, check=None) -> str:
        value = self.raw(key)
        if value is None:
            return ""
        value = str(value)
        message = check(value) if check else None
        if message:
            self.report(key, message, f"pulumi config set {key} {_example(key)}")
        return value

    def number(self, key: str, low: int, high: int) -> int:
        value = parse_json(self.raw(key))
        message = checks.check_range(value, low, high)
        if message:
            self.report(key, message, f"pulumi config set {key} {low}")
            return low
        return value

    def flag(self, key: str) -> bool:
        value = parse_json(self.raw(key))
        if not isinstance(value, bool):
            self.report(key, f"{value!r} is not true or false", f"pulumi config set {key} true")
            return False
        return value

    def items(self, key: str, kind: type) -> list:
        value = parse_json(self.raw(key))
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, kind) for item in value):
            self.report(
                key,
                f"must be a list of {kind.__name__} values",
                f"pulumi config set --path '{key}[0]' VALUE",
            )
            return []
        return value

    def build(self) -> Settings:
        return _read_all(self)


_EXAMPLES = {
    "location": "fsn1",
    "serverType": "cx33",
    "image": "debian-13",
    "adminUser": "ops",
    "domain": "n8n.example.com",
    "acmeEmail": "ops@example.com",
    "timezone": "Europe/Berlin",
    "n8nVersion": "2.41.3",
    "rebootTime": "04:00",
}


def _example(key: str) -> str:
    return _EXAMPLES.get(key, "VALUE")


def check_timezone(value: str) -> str | None:
    if value in zoneinfo.available_timezones():
        return None
    return f"{value!r} is not an IANA time zone name such as UTC or Europe/Berlin"


def check_secret_text(value: str) -> str | None:
    if len(value) < _MIN_SECRET_LENGTH:
        return f"is shorter than {_MIN_SECRET_LENGTH} characters"
    if any(char in _UNSAFE_SECRET_CHARS for char in value):
        return "contains whitespace, quotes, '#', '@', ':', '/' or '\\', which break config files"
    return None


def _read_all(reader: _Reader) -> Settings:
    host = _read_host(reader)
    n8n = _read_n8n(reader)
    routes = webhooks.read_routes(reader, blocked=n8n["blocked_node_types"])
    return Settings(
        stack=reader.stack,
        **host,
        **n8n,
        webhook_routes=routes,
        secret_overrides=_read_secret_overrides(reader),
        webhook_secrets=webhooks.read_secrets(reader, routes),
    )


def _read_host(reader: _Reader) -> dict[str, Any]:
    values = {
        "location": reader.text("location", checks.check_location),
        "server_type": reader.text("serverType", checks.check_server_type),
        "image": reader.text("image", checks.check_image),
        "admin_user": reader.text("adminUser", checks.check_user_name),
        "admin_ssh_keys": _read_ssh_keys(reader),
        "admin_cidrs": _read_admin_cidrs(reader),
        "domain": reader.text("domain", checks.check_domain),
        "acme_email": reader.text("acmeEmail", checks.check_email),
        "timezone": reader.text("timezone", check_timezone),
        "delete_protection": reader.flag("deleteProtection"),
        "rebuild_protection": reader.flag("rebuildProtection"),
        "backups": reader.flag("backups"),
        "volume_size": reader.number("volumeSize", 10, 10240),
        "auto_reboot": reader.flag("autoReboot"),
        "reboot_time": reader.text("rebootTime", checks.check_clock_time),
    }
    if values["delete_protection"] != values["rebuild_protection"]:
        reader.report(
            "rebuildProtection",
            "must equal deleteProtection: Hetzner accepts rebuild protection only together "
            "with delete protection",
            f"pulumi config set rebuildProtection {str(values['delete_protection']).lower()}",
        )
    return values


def _read_ssh_keys(reader: _Reader) -> tuple[str, ...]:
    keys = [line.strip() for line in reader.items("adminSshKeys", str)]
    if not keys:
        reader.report(
            "adminSshKeys",
            "is empty: without a key nobody can log in, since passwords are off",
            _ssh_key_fix(0),
        )
    for index, line in enumerate(keys):
        message = checks.check_ssh_public_key(line)
        if message:
            reader.report(f"adminSshKeys[{index}]", message, _ssh_key_fix(index))
    return tuple(dict.fromkeys(keys))


def _ssh_key_fix(index: int) -> str:
    return f"pulumi config set --path 'adminSshKeys[{index}]' \"$(cat ~/.ssh/id_ed25519.pub)\""


def _read_admin_cidrs(reader: _Reader) -> tuple[str, ...]:
    cidrs = reader.items("adminCidrs", str)
    if not cidrs:
        reader.report(
            "adminCidrs",
            "is empty: list the networks SSH may come from",
            "pulumi config set --path 'adminCidrs[0]' 203.0.113.7/32",
        )
    for index, cidr in enumerate(cidrs):
        message = checks.check_admin_cidr(cidr)
        if message:
            reader.report(
                f"adminCidrs[{index}]",
                message,
                f"pulumi config set --path 'adminCidrs[{index}]' 203.0.113.7/32",
            )
    return tuple(dict.fromkeys(cidrs))


def _read_n8n(reader: _Reader) -> dict[str, Any]:
    version = reader.text("n8nVersion", checks.check_version)
    worker_count = reader.number("workerCount", 1, MAX_WORKERS)
    names = reader.items("blockedNodes", str)
    types, exclude = _resolve_nodes(reader, version, names)
    return {
        "n8n_version": version,
        "worker_count": worker_count,
        "blocked_node_types": types,
        "nodes_exclude": exclude,
    }


def _resolve_nodes(reader: _Reader, version: str, names: list[str]) -> tuple[tuple[str, ...], str]:
    if checks.check_version(version):
        return (), "[]"
    try:
        catalogue = nodes.load_catalogue(version)
    except nodes.CatalogueError as error:
        reader.report(
            "n8nVersion", str(error), "python tools/generate_node_catalogue.py " + version
        )
        return (), "[]"
    types, errors = nodes.resolve_blocked_nodes(names, catalogue)
    for message in errors:
        reader.report("blockedNodes", message, "pulumi config set --path 'blockedNodes[0]' NAME")
    return types, nodes.render_nodes_exclude(types)


def _read_secret_overrides(reader: _Reader) -> dict[str, pulumi.Output[str]]:
    overrides = {}
    for key in SECRET_OVERRIDE_KEYS:
        value = secret_value(key)
        if value is None:
            continue
        fix = f'pulumi config set --secret {key} "$(openssl rand -hex 32)"'
        if not is_secret(key):
            reader.report(key, "is stored in plaintext in the stack file", fix)
            continue
        message = check_secret_text(value)
        if message:
            reader.report(key, message, fix)
            continue
        overrides[key] = pulumi.Output.secret(value)
    return overrides
