"""Read and check a stack's policy config: the JSON file passed as `--policy-pack-config`.

The file maps a policy name (a rule id) to an object with an optional `enforcementLevel` and
the keys the policy's config schema declares. The pytest side reads the same file into one
PolicyConfig, so both enforcements see the same stack settings and waivers.

A waiver lowers one rule to "advisory" and records why. CrossGuard applies the level and the
pack prints the reason, but the pack never receives the level. So this check keeps the two
together: a waiver without "advisory" and a lowered level without a waiver are both rejected,
and so is "disabled", which would hide the violations.
"""

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from policy import RESOURCE_RULES, STACK_RULES, PolicyConfig
from policy.model import MANDATORY
from policy.pack.adapter import SETTINGS_BY_RULE, STACK_SETTINGS, WAIVER_KEY, config_value

ENFORCEMENT_KEY = "enforcementLevel"
# CrossGuard's key for a level that applies to every policy of the pack.
ALL_POLICIES = "all"
# CrossGuard's levels (pulumi_policy.EnforcementLevel values) without "remediate", because no
# policy of this pack remediates.
LEVELS = ("advisory", "mandatory", "disabled")


class StackConfigError(ValueError):
    """Raised for an invalid policy config. The message lists every problem."""


def load_stack_config(path: Path) -> PolicyConfig:
    """Read a stack's policy config file into a PolicyConfig, or raise StackConfigError."""
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise StackConfigError(f"{path}: invalid JSON: {error}") from error
    problems = check_stack_config(data)
    if problems:
        raise StackConfigError(f"{path}:\n" + "\n".join(f"  - {p}" for p in problems))
    return to_policy_config(data)


def check_stack_config(data: Any) -> list[str]:
    """Return every problem of a parsed policy config. An empty list means it is valid."""
    if not isinstance(data, Mapping):
        return ["the policy config must be a JSON object keyed by policy name"]
    levels = _rule_levels()
    problems = []
    for name, entry in data.items():
        if name == ALL_POLICIES:
            problems.append(f'"{ALL_POLICIES}" changes every rule at once; waive rules by name')
        elif name not in levels:
            problems.append(f"{name}: no such policy; the policies are {sorted(levels)}")
        elif not isinstance(entry, Mapping):
            problems.append(f'{name}: must be an object, for example {{"{WAIVER_KEY}": ...}}')
        else:
            problems += _check_entry(name, entry, levels[name])
    return problems


def _check_entry(name: str, entry: Mapping[str, Any], rule_level: str) -> list[str]:
    problems = []
    allowed = {ENFORCEMENT_KEY, WAIVER_KEY, *SETTINGS_BY_RULE.get(name, ())}
    for key in sorted(set(entry) - allowed):
        problems.append(f"{name}: unknown key {key!r}; this policy accepts {sorted(allowed)}")

    level = entry.get(ENFORCEMENT_KEY, rule_level)
    waiver = entry.get(WAIVER_KEY)
    if level not in LEVELS:
        problems.append(f"{name}: enforcementLevel {level!r} is not one of {list(LEVELS)}")
    elif waiver is not None and (not isinstance(waiver, str) or not waiver.strip()):
        problems.append(f"{name}: waiver must be a non-empty reason")
    elif level == "disabled":
        problems.append(f'{name}: "disabled" hides every violation; waive the rule with "advisory"')
    elif waiver and level != "advisory":
        problems.append(f'{name}: a waiver needs "enforcementLevel": "advisory", not {level!r}')
    elif not waiver and rule_level == MANDATORY and level != MANDATORY:
        problems.append(
            f"{name}: enforcementLevel {level!r} lowers a mandatory rule; "
            f'record why with "{WAIVER_KEY}" and use "advisory"'
        )
    return problems


def to_policy_config(data: Mapping[str, Mapping[str, Any]]) -> PolicyConfig:
    """Merge the settings and waivers of every policy entry into one PolicyConfig."""
    values: dict[str, Any] = {}
    waivers: dict[str, str] = {}
    for name, entry in data.items():
        for key in SETTINGS_BY_RULE.get(name, ()):
            if key in entry:
                values[STACK_SETTINGS[key][0]] = config_value(entry[key])
        if entry.get(WAIVER_KEY):
            waivers[name] = str(entry[WAIVER_KEY])
    return PolicyConfig(**values, waivers=waivers)


def _rule_levels() -> dict[str, str]:
    return {rule.id: rule.enforcement for rule in [*RESOURCE_RULES, *STACK_RULES]}
