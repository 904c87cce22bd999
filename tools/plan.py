"""Offline plan: every resource the program would create for a stack, without cloud access.

Usage: python -m tools.plan [STACK_FILE] [--out FOLDER]

Runs the real program under Pulumi's mocks against the stack file (default Pulumi.prod.yaml)
and prints each resource under its parent with its key inputs, secrets masked. It also writes
the rendered host files to FOLDER (default plan/), so a reviewer can read a change as files.
"""

import argparse
import base64
import gzip
import json
import sys
from pathlib import Path
from typing import Any

from tools import offline

MASK = "[secret]"
MIN_FRAGMENT_LENGTH = 16
SECRET_NAME_SUFFIXES = ("_PASSWORD", "_KEY", "_TOKEN", "_SECRETS", "_SECRET")
# Inputs shown per resource type; others show every input.
KEY_INPUTS = {
    "hcloud:index/server:Server": [
        "name",
        "serverType",
        "image",
        "location",
        "backups",
        "deleteProtection",
        "rebuildProtection",
        "firewallIds",
        "sshKeys",
        "publicNets",
        "labels",
        "userData",
    ],
    "docker:index/container:Container": [
        "name",
        "labels",
        "user",
        "readOnly",
        "memory",
        "memorySwap",
        "cgroupParent",
        "networkMode",
        "networksAdvanced",
        "ports",
        "volumes",
        "tmpfs",
        "capabilities",
        "securityOpts",
        "sysctls",
        "restart",
        "healthcheck",
        "logDriver",
        "logOpts",
        "command",
        "envs",
    ],
    "command:remote:Command": ["create", "update", "stdin", "triggers"],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "stack_file",
        nargs="?",
        default=str(offline.ROOT / "Pulumi.prod.yaml"),
        help="stack file to plan (default: Pulumi.prod.yaml of this project)",
    )
    parser.add_argument(
        "--out", default="plan", help="folder for the rendered host files (default: plan)"
    )
    args = parser.parse_args(argv)

    try:
        config, secret_keys, placeholders = offline.load_stack_config(Path(args.stack_file))
    except (OSError, ValueError) as error:
        print(f"error: cannot read {args.stack_file}: {error}", file=sys.stderr)
        return 2
    filled = fill_route_secrets(config, secret_keys)
    recording = offline.run_program(config, secret_keys, stack=stack_name(Path(args.stack_file)))
    if recording.error is not None:
        print(f"error: {recording.error}", file=sys.stderr)
        return 1

    masker = Masker(recording.secret_values | secret_config_values(config, secret_keys))
    for note in placeholders + filled:
        print(f"note: {note} is encrypted or unset here; the plan uses a masked placeholder")
    print(render_plan(recording, masker))
    written = write_host_files(recording, masker, Path(args.out))
    print(f"\n{len(recording.resources)} resources; {written} host files written to {args.out}/")
    return 0


def stack_name(stack_file: Path) -> str:
    """Return the stack name of a Pulumi.<stack>.yaml file, "prod" for any other name."""
    name = stack_file.name
    if name.startswith("Pulumi.") and name.endswith(".yaml") and len(name) > len("Pulumi..yaml"):
        return name.removeprefix("Pulumi.").removesuffix(".yaml")
    return "prod"


def fill_route_secrets(config: dict[str, str], secret_keys: list[str]) -> list[str]:
    """Stand in a placeholder for each route secret the stack file does not hold.

    Route secrets are set with `pulumi config set --secret` into the operator's own stack file,
    so a reviewer's copy usually lacks them; the plan is still worth reading.
    """
    routes = offline_parse(config.get(f"{offline.PROJECT}:webhookRoutes", "[]"))
    if not isinstance(routes, list):
        return []
    key = f"{offline.PROJECT}:webhookSecrets"
    try:
        secrets = json.loads(config.get(key, "{}") or "{}")
    except json.JSONDecodeError:
        # The whole map was set as one encrypted value, which the plan cannot read.
        secrets = {}
    if not isinstance(secrets, dict):
        secrets = {}
    names = [r.get("name") for r in routes if isinstance(r, dict)]
    missing = [n for n in names if isinstance(n, str) and n not in secrets]
    for name in missing:
        secrets[name] = [f"offline-placeholder-route-{name}-0000"]
    if missing:
        config[key] = json.dumps(secrets)
        if key not in secret_keys:
            secret_keys.append(key)
    return [f"webhookSecrets.{name}" for name in missing]


def secret_config_values(config: dict[str, str], secret_keys: list[str]) -> set[str]:
    values = set()
    for key in secret_keys:
        values |= set(_strings(offline_parse(config.get(key))))
    return {v for v in values if len(v) >= 8}


def offline_parse(value: str | None) -> Any:
    try:
        return json.loads(value) if value else value
    except json.JSONDecodeError:
        return value


def _strings(value: Any):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for inner in value.values():
            yield from _strings(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _strings(inner)


class Masker:
    """Replaces every known secret value, wherever it appears, with a fixed mark."""

    def __init__(self, secrets: set[str]) -> None:
        # A multi-line secret (a private key) may be re-indented where it is embedded, so each
        # of its lines is masked on its own as well.
        fragments = {line.strip() for s in secrets if "\n" in s for line in s.splitlines()}
        fragments = {f for f in fragments if len(f) >= MIN_FRAGMENT_LENGTH}
        self.secrets = sorted(secrets | fragments, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self.secrets:
            value = value.replace(secret, MASK)
        return value

    def env_entry(self, entry: str) -> str:
        name, _, value = entry.partition("=")
        if name.endswith(SECRET_NAME_SUFFIXES):
            return f"{name}={MASK}"
        return self.text(entry)


def render_plan(recording: offline.Recording, masker: Masker) -> str:
    """List resources depth-first from the stack, children sorted, so two plans diff cleanly."""
    by_urn = {r.urn: r for r in recording.resources}
    children: dict[str, list[offline.Registered]] = {}
    for resource in recording.resources:
        parent = resource.parent if resource.parent in by_urn else ""
        children.setdefault(parent, []).append(resource)
    lines: list[str] = []

    def visit(parent: str, depth: int) -> None:
        for resource in sorted(children.get(parent, []), key=lambda r: (r.type, r.name)):
            indent = "  " * depth
            lines.append(f"{indent}+ {resource.type}  {resource.name}")
            for key in KEY_INPUTS.get(resource.type, sorted(resource.inputs)):
                if key in resource.inputs:
                    lines.append(f"{indent}    {key}: {show(resource, key, masker)}")
            visit(resource.urn, depth + 1)

    visit("", 0)
    return "\n".join(lines)


def show(resource: offline.Registered, key: str, masker: Masker) -> str:
    value = resource.inputs[key]
    if key == "envs":
        return json.dumps([masker.env_entry(str(e)) for e in value])
    if key == "stdin":
        return f"<{len(str(value))} characters: the host files, written to the plan folder>"
    if resource.is_secret(key) or key == "userData":
        return MASK
    return masker.text(json.dumps(whole_numbers(value), sort_keys=True))


def decode_user_data(user_data: str) -> str:
    """Undo the gzip and base64 packing that keeps user data under Hetzner's 32 KiB limit."""
    return gzip.decompress(base64.b64decode(user_data)).decode()


def whole_numbers(value: Any) -> Any:
    """Print 40.0 as 40: the engine sends every number as a float."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [whole_numbers(v) for v in value]
    return value


def write_host_files(recording: offline.Recording, masker: Masker, folder: Path) -> int:
    """Write each host file the converge command would install, under its server path."""
    commands = [r for r in recording.of_type("command:remote:Command") if "stdin" in r.inputs]
    count = 0
    for command in commands:
        # The bundle is the JSON that host_files.render_apply_bundle writes.
        for entry in json.loads(command.inputs["stdin"])["files"]:
            target = folder / entry["path"].lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(masker.text(entry["content"]))
            count += 1
    for server in recording.of_type("hcloud:index/server:Server"):
        # The user data contains the SSH host key, which the masker replaces like every secret.
        target = folder / "cloud-init" / f"{server.name}.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(masker.text(decode_user_data(server.inputs["userData"])))
        count += 1
    return count


if __name__ == "__main__":
    sys.exit(main())
