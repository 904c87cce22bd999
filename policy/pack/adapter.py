"""Turn the project's registered rules into CrossGuard policies, one policy per rule id.

Each Rule becomes a ResourceValidationPolicy and each StackRule a StackValidationPolicy. The rule
functions themselves stay in the `policy` package, which the pytest policy tests run too.

The adapters read resources through CrossGuard's props proxies and never catch UnknownValueError:
pulumi_policy turns that error into an advisory "can't run policy ... during preview" diagnostic,
so a rule that cannot decide is reported as undecided instead of passing.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy import RESOURCE_RULES, STACK_RULES, PolicyConfig, Resource, Rule, StackRule, Violation
from policy.model import ADVISORY, MANDATORY

PACK_NAME = "hardened-n8n"
PACK_DESCRIPTION = "Hardening rules of hardened-n8n: containers, host firewall, server and n8n."

ENFORCEMENT_LEVELS = {
    MANDATORY: EnforcementLevel.MANDATORY,
    ADVISORY: EnforcementLevel.ADVISORY,
}
SEVERITIES = {severity.value: severity for severity in Severity}

# Stack settings a policy accepts in its policy config: key -> (PolicyConfig field, JSON schema).
STACK_SETTINGS: dict[str, tuple[str, dict[str, Any]]] = {
    "requireDeleteProtection": (
        "require_delete_protection",
        {
            "type": "boolean",
            "default": True,
            "description": "Require Hetzner delete protection on the server and the volume, "
            "and rebuild protection on the server.",
        },
    ),
    "requireBackups": (
        "require_backups",
        {
            "type": "boolean",
            "default": True,
            "description": "Require Hetzner's daily backups on the server.",
        },
    ),
    "adminCidrs": (
        "admin_cidrs",
        {
            "type": "array",
            "items": {"type": "string"},
            "description": "The only networks (CIDR) the edge firewall may open SSH to.",
        },
    ),
}
# The rules that read a stack setting, and the settings each reads.
# NOTE: a rule that starts reading another PolicyConfig field needs an entry here too, or the
# pack runs it with that field's default.
SETTINGS_BY_RULE: dict[str, tuple[str, ...]] = {
    "server-protection": ("requireDeleteProtection",),
    "server-backups": ("requireBackups",),
    "firewall-ssh-admin-only": ("adminCidrs",),
}
WAIVER_KEY = "waiver"
WAIVER_SCHEMA = {
    "type": "string",
    "minLength": 1,
    "description": "Why this stack accepts the policy's violations. Set it together with "
    'enforcementLevel "advisory"; the reason is printed with every violation.',
}


def build_policies() -> list[Policy]:
    """Return one CrossGuard policy per registered rule, in registration order."""
    resource_policies: list[Policy] = [resource_policy(rule) for rule in RESOURCE_RULES]
    stack_policies: list[Policy] = [stack_policy(rule) for rule in STACK_RULES]
    return resource_policies + stack_policies


def resource_policy(rule: Rule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        resource = Resource(args.resource_type, args.name, args.urn, inputs=args.props)
        config = policy_config(rule.id, args.get_config())
        for violation in rule.evaluate(resource, config):
            report_violation(violation_message(violation, args.name))

    return ResourceValidationPolicy(validate=validate, **policy_settings(rule))


def stack_policy(rule: StackRule) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [as_resource(each) for each in args.resources]
        names = {each.urn: each.name for each in resources}
        config = policy_config(rule.id, args.get_config())
        for violation in rule.evaluate(resources, config):
            # An empty URN means the stack as a whole violates the rule.
            name = names.get(violation.urn, "stack")
            report_violation(violation_message(violation, name), violation.urn or None)

    return StackValidationPolicy(validate=validate, **policy_settings(rule))


def policy_settings(rule: Rule | StackRule) -> dict:
    """Return the CrossGuard settings a rule of either kind carries."""
    return {
        "name": rule.id,
        "description": rule.description,
        "enforcement_level": ENFORCEMENT_LEVELS[rule.enforcement],
        "severity": SEVERITIES[rule.severity],
        "config_schema": config_schema(rule.id),
    }


def as_resource(resource: PolicyResource) -> Resource:
    """Convert a stack policy's resource, with dependencies and parent as URNs like the model."""
    return Resource(
        type=resource.resource_type,
        name=resource.name,
        urn=resource.urn,
        inputs=resource.props,
        dependencies=tuple(each.urn for each in resource.dependencies),
        parent=resource.parent.urn if resource.parent is not None else "",
    )


def violation_message(violation: Violation, name: str) -> str:
    # CrossGuard prints the policy description above this line. The rule's message states the fix.
    message = f"{name}: {violation.message}"
    if violation.waived:
        message += f" (waived for this stack: {violation.waiver})"
    return message


def config_schema(rule_id: str) -> PolicyConfigSchema:
    properties = {WAIVER_KEY: WAIVER_SCHEMA}
    for key in SETTINGS_BY_RULE.get(rule_id, ()):
        properties[key] = STACK_SETTINGS[key][1]
    return PolicyConfigSchema(properties=properties)


def policy_config(rule_id: str, properties: Mapping[str, Any] | None) -> PolicyConfig:
    """Build the rule's PolicyConfig from its own policy config. Absent keys keep the defaults."""
    properties = properties or {}
    values: dict[str, Any] = {}
    for key in SETTINGS_BY_RULE.get(rule_id, ()):
        if key in properties:
            field_name = STACK_SETTINGS[key][0]
            values[field_name] = config_value(properties[key])
    waiver = properties.get(WAIVER_KEY)
    if waiver:
        values["waivers"] = {rule_id: str(waiver)}
    return PolicyConfig(**values)


def config_value(value: Any) -> Any:
    # The policy config arrives as JSON, and PolicyConfig keeps lists as tuples.
    if isinstance(value, Sequence) and not isinstance(value, str):
        return tuple(str(item) for item in value)
    return value
