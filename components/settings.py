"""Stack settings: every config key read once, validated together, returned typed.

The keys, their types and defaults are declared in Pulumi.yaml. The CLI fills in the defaults
before the program runs, so this module contains no second copy of them. A key that is missing here
was removed from Pulumi.yaml, and that is reported like any other invalid setting.
"""

import base64
import difflib
import hashlib
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components import checks, nodes, webhooks
from components.stack_config import (
    configured_keys,
    declared_keys,
    is_secret,
    parse_json,
    raw_value,
    secret_value,
)

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
    _check_unknown_keys(reader)
    if not reader.problems:
        _check_rendering(reader, settings)
    if reader.problems:
        raise SettingsError(_format_problems(reader.stack, reader.problems))
    return settings


def _check_unknown_keys(reader: "_Reader") -> None:
    """Report stack keys of this project that Pulumi.yaml does not declare (likely typos)."""
    declared = declared_keys()
    for key in sorted(configured_keys() - declared):
        close = difflib.get_close_matches(key, declared, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        reader.report(key, f"is not a setting of this program{hint}", f"pulumi config rm {key}")


def _check_rendering(reader: "_Reader", settings: "Settings") -> None:
    """Render every host file and the user data once, so no renderer fails after resources.

    The renderers check their input again; a problem they find that the checks above missed
    is still reported here, before the first resource is declared.
    """
    from components import host_files, services
    from components.host import host_spec
    from components.proxy import render_proxy_file

    plans = services.plan_services(
        settings.n8n_version, settings.worker_count, bool(settings.webhook_routes)
    )
    private, public = _stand_in_host_key()
    try:
        spec = host_spec(settings, plans, "0")
        files = host_files.render_host_files(spec) + (render_proxy_file(settings),)
        host_files.render_user_data(spec, files, private, public)
    except ValueError as error:
        reader.report(*_renderer_problem(str(error), settings))


def _renderer_problem(message: str, settings: "Settings") -> tuple[str, str, str]:
    """Return (key, message, fix) for a problem only a renderer found."""
    if "user-data is" in message and settings.admin_ssh_keys:
        # The keys are the part of the user data that grows with the stack.
        last = len(settings.admin_ssh_keys) - 1
        return "adminSshKeys", message, f"pulumi config rm --path 'adminSshKeys[{last}]'"
    return "stack settings", message, "pulumi config get --json  (then set the value named above)"


def _stand_in_host_key() -> tuple[str, str]:
    # As long and as incompressible as a real ED25519 key, for the user data size check.
    noise = b"".join(hashlib.sha512(bytes([i])).digest() for i in range(5))
    body = base64.b64encode(noise).decode()
    lines = "\n".join(body[i : i + 70] for i in range(0, len(body), 70))
    private = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{lines}\n-----END OPENSSH PRIVATE KEY-----\n"
    blob = base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + noise[:32])
    return private, "ssh-ed25519 " + blob.decode()


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
            self.report(
                key, "is not set, and Pulumi.yaml declares no default", "git checkout Pulumi.yaml"
            )
        return value

    def text(self, key: str, check=None) -> str:
        value = self.raw(key)
        if value is None:
            return ""
        value = str(value)
        message = check(value) if check else None
        if message:
            self.report(key, message, f"pulumi config set {key} {_example(key, value)}")
        return value

    def number(self, key: str, low: int, high: int) -> int:
        value = parse_json(self.raw(key))
        message = checks.check_range(value, low, high)
        if message:
            nearest = min(max(value, low), high) if isinstance(value, int) else low
            self.report(key, message, f"pulumi config set {key} {nearest}")
            return low
        return value

    def flag(self, key: str) -> bool:
        value = parse_json(self.raw(key))
        if not isinstance(value, bool):
            self.report(key, f"{value!r} is not true or false", f"pulumi config set {key} true")
            return False
        return value

    def items(self, key: str, kind: type) -> list | None:
        """Return a list setting, or None (already reported) when it is missing or not a list."""
        value = parse_json(self.raw(key))
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(item, kind) for item in value):
            self.report(
                key,
                f"must be a list of {_KIND_NAMES[kind]}",
                f"pulumi config set --path '{key}[0]' VALUE",
            )
            return None
        return value

    def build(self) -> Settings:
        return _read_all(self)


_KIND_NAMES = {str: "strings", dict: "objects"}

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


def _example(key: str, value: str) -> str:
    if key == "serverType" and value in checks.RETIRED_SERVER_TYPES:
        return checks.RETIRED_SERVER_TYPES[value]
    return _EXAMPLES.get(key, "VALUE")


# Files in the zoneinfo folder that are not zones a server should run in.
_NOT_ZONES = frozenset(["localtime", "Factory", "posixrules"])


def check_timezone(value: str) -> str | None:
    if value in zoneinfo.available_timezones() and value not in _NOT_ZONES:
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
    routes = webhooks.read_routes(
        reader, n8n["blocked_node_types"], parse_json(raw_value("blockedNodes")) or []
    )
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
    listed = reader.items("adminSshKeys", str)
    if listed is None:
        return ()
    keys = [line.strip() for line in listed]
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
    if cidrs is None:
        return ()
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
    names = reader.items("blockedNodes", str) or []
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
        message = f"{error}; versions with a catalogue: {', '.join(nodes.catalogue_versions())}"
        reader.report(
            "n8nVersion", message, f"pulumi config set n8nVersion {_EXAMPLES['n8nVersion']}"
        )
        return (), "[]"
    for index, name in enumerate(names):
        # One name at a time, so that each problem names its list entry.
        for message in nodes.resolve_blocked_nodes([name], catalogue)[1]:
            key = f"blockedNodes[{index}]"
            reader.report(key, message, f"pulumi config set --path '{key}' NAME")
    types, _ = nodes.resolve_blocked_nodes(names, catalogue)
    return types, nodes.render_nodes_exclude(types)


def _read_secret_overrides(reader: _Reader) -> dict[str, pulumi.Output[str]]:
    overrides = {}
    for key in SECRET_OVERRIDE_KEYS:
        value = secret_value(key)
        if value is None:
            continue
        if not is_secret(key):
            # Keep the value: an override exists to keep an instance's key or password.
            fix = f'pulumi config set --secret {key} "$(pulumi config get {key})"'
            reader.report(key, "is stored in plaintext in the stack file", fix)
            continue
        message = check_secret_text(value)
        if message:
            fix = f'pulumi config set --secret {key} "$(openssl rand -hex 32)"'
            reader.report(key, message + "; a new value also needs the service changed", fix)
            continue
        overrides[key] = pulumi.Output.secret(value)
    return overrides
