"""Policy rules as plain functions of a resource's type and inputs.

The pytest policy tests and the CrossGuard pack run the same functions. A rule reads inputs
through the Mapping and Sequence interfaces only, because CrossGuard passes proxies that raise
UnknownValueError for a value not known during a preview. That error must reach CrossGuard,
which then reports that the rule could not decide.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

CONTAINER = "docker:index/container:Container"
REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"
NETWORK = "docker:index/network:Network"
FIREWALL = "hcloud:index/firewall:Firewall"
SERVER = "hcloud:index/server:Server"
VOLUME = "hcloud:index/volume:Volume"
REMOTE_COMMAND = "command:remote:Command"

MANDATORY = "mandatory"
ADVISORY = "advisory"


@dataclass(frozen=True)
class PolicyConfig:
    """Stack facts a rule needs, which the pack reads from its policy config."""

    require_delete_protection: bool = True
    require_backups: bool = True
    admin_cidrs: tuple[str, ...] | None = None
    # Rule id -> the recorded reason this stack accepts the rule's violations. A waived
    # violation is still reported, with its reason, but no longer blocks.
    waivers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Resource:
    type: str
    name: str
    urn: str
    inputs: Mapping[str, Any]
    # Input paths the program marked secret, or None where the caller cannot know, because
    # CrossGuard's Python SDK unwraps secrets before calling a rule.
    secret_paths: frozenset[str] | None = None
    dependencies: tuple[str, ...] = ()
    parent: str = ""


@dataclass(frozen=True)
class Violation:
    rule_id: str
    urn: str
    message: str
    # The stack's recorded reason for accepting this violation, or empty when not waived.
    waiver: str = ""

    @property
    def waived(self) -> bool:
        return bool(self.waiver)

    def __str__(self) -> str:
        text = f"[{self.rule_id}] {self.urn}: {self.message}"
        return f"{text} (waived: {self.waiver})" if self.waiver else text


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    why: str
    severity: str
    enforcement: str
    types: tuple[str, ...]
    check: Callable[[Resource, PolicyConfig], Iterable[str]] = field(repr=False)

    def evaluate(self, resource: Resource, config: PolicyConfig) -> list[Violation]:
        if resource.type not in self.types:
            return []
        waiver = config.waivers.get(self.id, "")
        return [
            Violation(self.id, resource.urn, text, waiver) for text in self.check(resource, config)
        ]


@dataclass(frozen=True)
class StackRule:
    id: str
    description: str
    why: str
    severity: str
    enforcement: str
    check: Callable[[Sequence[Resource], PolicyConfig], Iterable[tuple[str, str]]] = field(
        repr=False
    )

    def evaluate(self, resources: Sequence[Resource], config: PolicyConfig) -> list[Violation]:
        waiver = config.waivers.get(self.id, "")
        return [
            Violation(self.id, urn, text, waiver) for urn, text in self.check(resources, config)
        ]


RESOURCE_RULES: list[Rule] = []
STACK_RULES: list[StackRule] = []


def rule(
    rule_id: str,
    types: tuple[str, ...],
    description: str,
    why: str,
    severity: str = "high",
    enforcement: str = MANDATORY,
):
    """Register a per-resource rule; the decorated function yields one message per violation."""

    def register(function):
        RESOURCE_RULES.append(
            Rule(rule_id, description, why, severity, enforcement, types, function)
        )
        return function

    return register


def stack_rule(
    rule_id: str, description: str, why: str, severity: str = "high", enforcement: str = MANDATORY
):
    """Register a rule over every resource at once; it yields (urn, message) pairs."""

    def register(function):
        STACK_RULES.append(StackRule(rule_id, description, why, severity, enforcement, function))
        return function

    return register


def evaluate_all(resources: Sequence[Resource], config: PolicyConfig) -> list[Violation]:
    violations = []
    for resource in resources:
        for each in RESOURCE_RULES:
            violations += each.evaluate(resource, config)
    for each in STACK_RULES:
        violations += each.evaluate(resources, config)
    return violations


def items(value: Any) -> Sequence[Any]:
    """Return a list-like input as a sequence, an absent one as empty."""
    if value is None or isinstance(value, str) or not isinstance(value, Sequence):
        return ()
    return value


def env_map(inputs: Mapping[str, Any]) -> dict[str, str]:
    """Return a container's environment as a dict."""
    result = {}
    for entry in items(inputs.get("envs")):
        name, _, value = str(entry).partition("=")
        result[name] = value
    return result


def labels(inputs: Mapping[str, Any]) -> dict[str, str]:
    return {str(item.get("label")): str(item.get("value")) for item in items(inputs.get("labels"))}
