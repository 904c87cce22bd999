"""Run the real program under Pulumi's mocks and record every resource it registers.

The tests, the policy checks and the offline plan all use this one runner, so each gets the
resources exactly as the engine would receive them: camelCase inputs, with the secret ones
known by their path.
"""

import base64
import hashlib
import json
import runpy
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from google.protobuf import json_format
from pulumi.runtime import mocks, rpc
from pulumi.runtime.settings import ROOT as ROOT_RESOURCE
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "hardened-n8n"
SECRET_SIGNATURE = rpc._special_secret_sig
SIGNATURE_KEY = rpc._special_sig_key


@dataclass
class Registered:
    urn: str
    type: str
    name: str
    parent: str
    inputs: dict[str, Any]
    # Dotted paths of inputs the program marked secret ("envs" covers the whole list).
    secret_paths: set[str]
    provider: str = ""
    dependencies: list[str] = field(default_factory=list)
    ignore_changes: list[str] = field(default_factory=list)
    protect: bool = False

    def is_secret(self, path: str) -> bool:
        return any(path == p or path.startswith(p + ".") for p in self.secret_paths)


@dataclass
class Recording:
    resources: list[Registered]
    secret_values: set[str]
    # Outputs registered by components and the stack, with their secret paths.
    outputs: list[tuple[str, dict[str, Any], set[str]]] = field(default_factory=list)
    error: BaseException | None = None

    def of_type(self, type_token: str) -> list[Registered]:
        return [r for r in self.resources if r.type == type_token]

    def named(self, name: str) -> Registered:
        return next(r for r in self.resources if r.name == name)


def load_stack_config(stack_file: Path, project_file: Path = ROOT / "Pulumi.yaml"):
    """Merge Pulumi.yaml defaults with a stack file, as the CLI does before a run.

    Encrypted values (`secure:`) cannot be read without the stack's passphrase, so each becomes
    a fixed placeholder, still marked secret. Returns (config, secret keys, placeholders).
    """
    project = yaml.safe_load(project_file.read_text())
    try:
        stack = yaml.safe_load(stack_file.read_text()) or {}
    except yaml.YAMLError as error:
        raise ValueError(f"not valid YAML: {error}") from error
    if not isinstance(stack, dict) or not isinstance(stack.get("config") or {}, dict):
        raise ValueError("a stack file is a mapping with a 'config' mapping of key: value")
    if not all(isinstance(key, str) for key in (stack.get("config") or {})):
        raise ValueError("every config key must be text such as 'hardened-n8n:domain'")
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    placeholders: list[str] = []
    for key, declaration in (project.get("config") or {}).items():
        if isinstance(declaration, dict) and "default" in declaration:
            config[f"{PROJECT}:{key}"] = _config_text(declaration["default"])
    for key, value in (stack.get("config") or {}).items():
        full_key = key if ":" in key else f"{PROJECT}:{key}"
        value, secret = _replace_secure(full_key, value, placeholders)
        config[full_key] = _config_text(value)
        if secret:
            secret_keys.append(full_key)
    return config, secret_keys, placeholders


def _config_text(value: Any) -> str:
    # The CLI hands lists, maps, numbers and booleans to the program as JSON text.
    # default=str: YAML dates and binary values become text, which the settings then check.
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _replace_secure(key: str, value: Any, placeholders: list[str]) -> tuple[Any, bool]:
    if isinstance(value, dict) and set(value) == {"secure"}:
        placeholders.append(key)
        return "offline-placeholder-" + hashlib.sha256(key.encode()).hexdigest()[:24], True
    if isinstance(value, dict):
        found = False
        result = {}
        for inner_key, inner in value.items():
            result[inner_key], secret = _replace_secure(f"{key}.{inner_key}", inner, placeholders)
            found = found or secret
        return result, found
    if isinstance(value, list):
        pairs = [_replace_secure(f"{key}[{i}]", v, placeholders) for i, v in enumerate(value)]
        return [v for v, _ in pairs], any(s for _, s in pairs)
    return value, False


def run_program(
    config: dict[str, str], secret_keys: list[str] | None = None, stack: str = "prod"
) -> Recording:
    """Run __main__.py once under mocks and return what it registered (or the error it raised)."""
    outputs = _MockOutputs()
    monitor = _RecordingMonitor(outputs)
    mocks.set_mocks(outputs, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    # Each run registers its own root stack; the previous run's must not count as active.
    ROOT_RESOURCE.set(None)
    pulumi.runtime.set_all_config(dict(config), list(secret_keys or []))
    error = None
    try:
        _sync_await(run_in_stack(lambda: runpy.run_path(str(ROOT / "__main__.py"))))
    except Exception as caught:  # noqa: BLE001 the caller asserts on the program's own error
        error = caught
    return Recording(monitor.registered, outputs.secret_values, monitor.outputs, error)


class _RecordingMonitor(mocks.MockMonitor):
    def __init__(self, outputs: "_MockOutputs") -> None:
        super().__init__(outputs)
        self.registered: list[Registered] = []
        self.outputs: list[tuple[str, dict[str, Any], set[str]]] = []

    def RegisterResourceOutputs(self, request):  # noqa: N802 gRPC method name
        raw = json_format.MessageToDict(request.outputs)
        self.outputs.append((request.urn, _unwrap(raw), set(_secret_paths(raw, ""))))
        return super().RegisterResourceOutputs(request)

    def RegisterResource(self, request):  # noqa: N802 gRPC method name
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        raw = json_format.MessageToDict(request.object)
        self.registered.append(
            Registered(
                urn=response.urn,
                type=request.type,
                name=request.name,
                parent=request.parent,
                inputs=_unwrap(raw),
                secret_paths=set(_secret_paths(raw, "")),
                provider=request.provider,
                dependencies=list(request.dependencies),
                ignore_changes=list(request.ignoreChanges),
                protect=bool(request.protect),
            )
        )
        return response


def _secret_paths(value: Any, path: str):
    if isinstance(value, dict):
        if value.get(SIGNATURE_KEY) == SECRET_SIGNATURE:
            yield path
            return
        for key, inner in value.items():
            yield from _secret_paths(inner, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _secret_paths(inner, f"{path}[{index}]")


def _unwrap(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(SIGNATURE_KEY) == SECRET_SIGNATURE:
            return _unwrap(value.get("value"))
        return {key: _unwrap(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_unwrap(inner) for inner in value]
    return value


class _MockOutputs(pulumi.runtime.Mocks):
    """Plausible provider outputs, chosen by resource type and derived from the name only."""

    def __init__(self) -> None:
        self.secret_values: set[str] = set()

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        state = dict(args.inputs)
        kind = args.typ
        resource_id = f"{args.name}-id"
        if kind.startswith("hcloud:"):
            resource_id = str(100000 + int(_digest(args.name)[:6], 16) % 800000)
        if kind == "hcloud:index/server:Server":
            state.update(ipv4Address="203.0.113.10", ipv6Address="2001:db8:10::1", status="running")
        elif kind == "random:index/randomPassword:RandomPassword":
            state["result"] = self._secret(_password(args.name, args.inputs.get("length", 32)))
        elif kind == "tls:index/privateKey:PrivateKey":
            state.update(_ed25519_key(args.name, self))
        elif kind == "docker:index/remoteImage:RemoteImage":
            state.update(imageId="sha256:" + _digest(args.inputs.get("name", args.name)))
        elif kind == "command:remote:Command":
            state.update(stdout="", stderr="")
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}

    def _secret(self, value: str) -> str:
        self.secret_values.add(value)
        return value


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _password(name: str, length: int) -> str:
    alphabet = string.ascii_letters + string.digits
    seed = hashlib.sha512(name.encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in seed)[: int(length)]


def _ed25519_key(name: str, outputs: _MockOutputs) -> dict[str, str]:
    raw = hashlib.sha256(name.encode()).digest()
    blob = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + raw
    public = "ssh-ed25519 " + base64.b64encode(blob).decode()
    body = base64.b64encode(b"openssh-key-v1\x00" + hashlib.sha512(raw).digest()).decode()
    private = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n-----END OPENSSH PRIVATE KEY-----\n"
    return {
        "publicKeyOpenssh": public + "\n",
        "privateKeyOpenssh": outputs._secret(private),
        "privateKeyPem": outputs._secret(private),
    }
