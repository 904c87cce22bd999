"""The project's policy: every rule, registered once, run by the tests and the CrossGuard pack."""

from policy import container_rules, host_rules, stack_rules  # noqa: F401 registers the rules
from policy.model import (
    RESOURCE_RULES,
    STACK_RULES,
    PolicyConfig,
    Resource,
    Rule,
    StackRule,
    Violation,
    evaluate_all,
)

__all__ = [
    "RESOURCE_RULES",
    "STACK_RULES",
    "PolicyConfig",
    "Resource",
    "Rule",
    "StackRule",
    "Violation",
    "evaluate_all",
]
