"""The CrossGuard pack loads as the Pulumi CLI loads it and enforces the rules pytest enforces.

The pack's entry point runs under runpy, as `python -m pulumi.policy` runs it, with PolicyPack
replaced by a recorder so that no gRPC server starts. The recorded policies then go into
pulumi_policy's own analyzer servicer, the class the gRPC server would serve. It receives
AnalyzeRequest protobufs whose properties pulumi.runtime.rpc serialized from the offline
plan's inputs, with secrets and unknowns in the engine's wire format.
"""

import copy
import json
import re
import runpy
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pulumi_policy
import pytest
import yaml
from conftest import ROOT, as_policy_resources, run_with
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi.runtime.sync_await import _sync_await
from pulumi_policy import EnforcementLevel
from pulumi_policy import policy as policy_sdk
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from policy import RESOURCE_RULES, STACK_RULES, PolicyConfig, evaluate_all
from policy.model import CONTAINER, FIREWALL, SERVER, VOLUME
from policy.pack import adapter, stack_config
from tools import offline, rule_table

PACK_DIR = ROOT / "policy" / "pack"
PROD_POLICY_CONFIG = PACK_DIR / "stacks" / "prod.json"
RULE_IDS = [r.id for r in RESOURCE_RULES] + [r.id for r in STACK_RULES]
MANDATORY = analyzer_pb2.EnforcementLevel.Value("MANDATORY")
ADVISORY = analyzer_pb2.EnforcementLevel.Value("ADVISORY")
BACKUPS_WAIVER = "Staging server: its data is rebuilt from prod every night."


@dataclass
class LoadedPack:
    name: str
    policies: list
    enforcement_level: EnforcementLevel | None
    options: dict[str, Any]


@dataclass(frozen=True)
class Diagnostic:
    policy: str
    urn: str
    level: int
    message: str


@dataclass
class Report:
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def findings(self) -> set[tuple[str, str]]:
        return {(d.policy, d.urn) for d in self.diagnostics}

    def of(self, policy: str) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.policy == policy]


def load_pack() -> LoadedPack:
    """Run the pack's entry point as the CLI does and return what it passed to PolicyPack."""
    loaded: list[LoadedPack] = []

    class RecordingPolicyPack:
        # PolicyPack would start a gRPC server and block; this records its arguments instead.
        def __init__(self, name, policies, enforcement_level=None, **options):
            loaded.append(LoadedPack(name, policies, enforcement_level, options))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pulumi_policy, "PolicyPack", RecordingPolicyPack)
        runpy.run_path(str(PACK_DIR), run_name="__main__")
    assert len(loaded) == 1, f"the entry point created {len(loaded)} policy packs"
    return loaded[0]


@pytest.fixture(scope="module")
def pack() -> LoadedPack:
    return load_pack()


def new_analyzer(pack: LoadedPack, config: dict[str, Any]):
    """Return the pack's analyzer servicer, configured with a stack's policy config."""
    servicer = policy_sdk._PolicyAnalyzerServicer(
        pack.name,
        "0.0.1",
        pack.policies,
        pack.enforcement_level or EnforcementLevel.ADVISORY,
        description=pack.options.get("description"),
    )
    servicer.Configure(configure_request(servicer, config), None)
    return servicer


def configure_request(servicer, config: dict[str, Any]):
    """Build the Configure request as the CLI does (ReconcilePolicyPackConfig in pulumi/pulumi).

    Every policy gets its registered level and its schema defaults; the file's entry for the
    policy then overrides them.
    """
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    for info in servicer.GetAnalyzerInfo(None, None).policies:
        schema = json_format.MessageToDict(info.configSchema.properties)
        properties = {k: s["default"] for k, s in schema.items() if "default" in s}
        entry = dict(config.get(info.name, {}))
        level = entry.pop(stack_config.ENFORCEMENT_KEY, None)
        properties.update(entry)
        struct = struct_pb2.Struct()
        struct.update(properties)
        request.policyConfig[info.name].CopyFrom(
            analyzer_pb2.PolicyConfig(
                enforcementLevel=(
                    analyzer_pb2.EnforcementLevel.Value(level.upper())
                    if level
                    else info.enforcementLevel
                ),
                properties=struct,
            )
        )
    return request


def wire_properties(
    resource: offline.Registered, unknown: tuple[str, ...] = ()
) -> struct_pb2.Struct:
    """Serialize a recorded resource's inputs as the engine sends them to an analyzer."""
    inputs = copy.deepcopy(resource.inputs)
    for path in resource.secret_paths:
        _wrap_secret(inputs, path)
    for key in unknown:
        inputs[key] = rpc.UNKNOWN
    return _sync_await(rpc.serialize_properties(inputs, {}))


def _wrap_secret(inputs: dict, path: str) -> None:
    # Recorded paths look like "envs", "a.b" or "a[0].b".
    keys: list[Any] = [int(k) if k.isdigit() else k for k in re.findall(r"[^.\[\]]+", path)]
    target = inputs
    for key in keys[:-1]:
        target = target[key]
    value = target[keys[-1]]
    target[keys[-1]] = {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


def analyze(servicer, resources: list[offline.Registered], unknown: dict | None = None) -> Report:
    """Run every resource through Analyze and the whole set through AnalyzeStack."""
    unknown = unknown or {}
    report = Report()
    wire = {r.urn: wire_properties(r, unknown.get(r.urn, ())) for r in resources}
    for resource in resources:
        request = analyzer_pb2.AnalyzeRequest(
            type=resource.type, properties=wire[resource.urn], urn=resource.urn, name=resource.name
        )
        response = servicer.Analyze(request, None)
        # A resource policy's diagnostic carries no URN: the engine attaches the analyzed one.
        report.diagnostics += [_diagnostic(d, resource.urn) for d in response.diagnostics]
    stack_request = analyzer_pb2.AnalyzeStackRequest(
        resources=[
            analyzer_pb2.AnalyzerResource(
                type=r.type,
                properties=wire[r.urn],
                urn=r.urn,
                name=r.name,
                parent=r.parent,
                dependencies=r.dependencies,
            )
            for r in resources
        ]
    )
    response = servicer.AnalyzeStack(stack_request, None)
    report.diagnostics += [_diagnostic(d, d.urn) for d in response.diagnostics]
    return report


def _diagnostic(raw, urn: str) -> Diagnostic:
    return Diagnostic(raw.policyName, urn, raw.enforcementLevel, raw.message)


def prod_policy_config() -> dict[str, Any]:
    return json.loads(PROD_POLICY_CONFIG.read_text())


def pytest_findings(recording: offline.Recording, config: PolicyConfig) -> set[tuple[str, str]]:
    return {(v.rule_id, v.urn) for v in evaluate_all(as_policy_resources(recording), config)}


def urns_of_type(recording: offline.Recording, type_token: str) -> list[str]:
    return [r.urn for r in recording.of_type(type_token)]


@pytest.fixture(scope="module")
def unprotected_recording() -> offline.Recording:
    # The settings allow an unprotected stack; the prod policy config requires protection.
    recording = run_with({"deleteProtection": False, "rebuildProtection": False})
    assert recording.error is None, f"the unprotected stack failed to run: {recording.error}"
    return recording


# The pack as CrossGuard loads it


def test_entry_point_builds_named_pack(pack):
    assert pack.name == "hardened-n8n"
    assert pack.options.get("description")


def test_pack_serves_over_grpc(prod_recording, tmp_path):
    # The CLI's launcher runs `python -u -m pulumi.policy ENGINE PACK_DIR` and reads the port the
    # pack prints; the pack listens on 127.0.0.1 only. The engine address is not used here.
    command = [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", str(PACK_DIR)]
    server = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, text=True)  # noqa: S603
    try:
        port = int(server.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            analyzer = analyzer_pb2_grpc.AnalyzerStub(channel)
            info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
            server_resource = prod_recording.of_type(SERVER)[0]
            request = analyzer_pb2.AnalyzeRequest(
                type=server_resource.type,
                properties=wire_properties(server_resource),
                urn=server_resource.urn,
                name=server_resource.name,
            )
            response = analyzer.Analyze(request, timeout=30)
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert info.name == "hardened-n8n"
    assert [p.name for p in info.policies] == RULE_IDS
    # No Configure call reaches it, so the rules run with PolicyConfig's defaults, which prod meets.
    assert list(response.diagnostics) == []


def test_every_rule_is_a_policy(pack):
    assert [p.name for p in pack.policies] == RULE_IDS


def test_policy_metadata_matches_rule(pack):
    info = new_analyzer(pack, {}).GetAnalyzerInfo(None, None)
    by_name = {p.name: p for p in info.policies}
    for rule in RESOURCE_RULES + STACK_RULES:
        policy = by_name[rule.id]
        expected_type = "POLICY_TYPE_RESOURCE" if rule in RESOURCE_RULES else "POLICY_TYPE_STACK"
        assert analyzer_pb2.PolicyType.Name(policy.policy_type) == expected_type, rule.id
        assert (
            analyzer_pb2.EnforcementLevel.Name(policy.enforcementLevel).lower() == rule.enforcement
        )
        assert (
            analyzer_pb2.PolicySeverity.Name(policy.severity)
            == f"POLICY_SEVERITY_{rule.severity.upper()}"
        )
        assert policy.description == rule.description


def test_stack_settings_in_policy_schemas(pack):
    info = new_analyzer(pack, {}).GetAnalyzerInfo(None, None)
    schemas = {
        p.name: set(json_format.MessageToDict(p.configSchema.properties)) for p in info.policies
    }
    for rule_id, keys in adapter.SETTINGS_BY_RULE.items():
        assert set(keys) <= schemas[rule_id], rule_id
    declared = {key for keys in adapter.SETTINGS_BY_RULE.values() for key in keys}
    assert declared == set(adapter.STACK_SETTINGS)
    assert all(adapter.WAIVER_KEY in keys for keys in schemas.values())


def test_pack_accepts_prod_stack(pack, prod_recording):
    report = analyze(new_analyzer(pack, prod_policy_config()), prod_recording.resources)

    assert report.diagnostics == []


# One policy, enforced twice: the pack and pytest report the same findings


def test_unprotected_stack_rejected_by_both(pack, unprotected_recording):
    config = stack_config.load_stack_config(PROD_POLICY_CONFIG)
    expected = {("server-protection", urn) for urn in urns_of_type(unprotected_recording, SERVER)}
    expected |= {("server-protection", urn) for urn in urns_of_type(unprotected_recording, VOLUME)}

    from_pytest = pytest_findings(unprotected_recording, config)
    report = analyze(new_analyzer(pack, prod_policy_config()), unprotected_recording.resources)

    assert from_pytest == expected
    assert report.findings() == expected
    assert all(d.level == MANDATORY for d in report.diagnostics)


def test_weakened_container_default_rejected_by_both(pack, monkeypatch):
    from components import containers

    # Scratch tmpfs without noexec: every container breaks container-tmpfs-scratch.
    monkeypatch.setattr(containers, "SCRATCH_OPTIONS", "rw,nosuid,nodev,size=64m")
    recording = run_with()
    assert recording.error is None, f"the weakened stack failed to run: {recording.error}"
    config = stack_config.load_stack_config(PROD_POLICY_CONFIG)
    expected = {("container-tmpfs-scratch", urn) for urn in urns_of_type(recording, CONTAINER)}

    from_pytest = pytest_findings(recording, config)
    report = analyze(new_analyzer(pack, prod_policy_config()), recording.resources)

    assert expected
    assert from_pytest == expected
    assert report.findings() == expected
    assert all("lacks noexec" in d.message for d in report.diagnostics)


def test_violation_message_names_resource(pack, unprotected_recording):
    report = analyze(new_analyzer(pack, prod_policy_config()), unprotected_recording.resources)
    server = unprotected_recording.of_type(SERVER)[0]

    messages = [d.message for d in report.diagnostics if d.urn == server.urn]

    assert len(messages) == 2
    assert all(f"\n{server.name}: " in m for m in messages)
    assert any("deleteProtection is not true" in m for m in messages)


def test_policy_config_setting_reaches_rule(pack, unprotected_recording):
    config = prod_policy_config()
    config["server-protection"] = {"requireDeleteProtection": False}

    report = analyze(new_analyzer(pack, config), unprotected_recording.resources)

    assert report.of("server-protection") == []


def test_admin_cidrs_setting_reaches_rule(pack, prod_recording):
    config = prod_policy_config()
    config["firewall-ssh-admin-only"] = {"adminCidrs": ["203.0.113.0/24"]}

    report = analyze(new_analyzer(pack, config), prod_recording.resources)

    assert report.findings() == {
        ("firewall-ssh-admin-only", urn) for urn in urns_of_type(prod_recording, FIREWALL)
    }


# Unknown values during a preview


def test_unknown_input_reported_as_undecided(pack, prod_recording):
    server = prod_recording.of_type(SERVER)[0]
    unknown = {server.urn: ("firewallIds",)}

    report = analyze(new_analyzer(pack, prod_policy_config()), prod_recording.resources, unknown)

    assert [d.policy for d in report.diagnostics] == ["server-firewall-attached"]
    undecided = report.diagnostics[0]
    assert "can't run policy 'server-firewall-attached'" in undecided.message
    assert "during preview" in undecided.message
    assert undecided.level == ADVISORY


def test_unknown_input_undecided_in_stack_policy(pack, prod_recording):
    proxy = next(r for r in prod_recording.of_type(CONTAINER) if r.name == "caddy")
    unknown = {proxy.urn: ("ports",)}

    report = analyze(new_analyzer(pack, prod_policy_config()), prod_recording.resources, unknown)

    undecided = report.of("stack-one-publisher")
    assert len(undecided) == 1
    assert "can't run policy 'stack-one-publisher'" in undecided[0].message
    assert undecided[0].level == ADVISORY
    assert [d for d in report.diagnostics if d.level == MANDATORY] == []


def test_adapter_propagates_unknown_value_error(pack, prod_recording):
    server = prod_recording.of_type(SERVER)[0]
    inputs = copy.deepcopy(server.inputs)
    inputs["firewallIds"] = rpc.UNKNOWN
    policy = next(p for p in pack.policies if p.name == "server-firewall-attached")
    args = pulumi_policy.ResourceValidationArgs(
        server.type, unknown_checking_proxy(inputs), server.urn, server.name, None, None
    )
    reported = []

    with pytest.raises(UnknownValueError):
        policy.validate(args, lambda message, urn=None: reported.append(message))
    assert reported == []


# Waivers


def test_waiver_makes_rule_advisory_with_reason(pack):
    recording = run_with({"backups": False})
    assert recording.error is None, f"the stack without backups failed to run: {recording.error}"
    config = prod_policy_config()
    config["server-backups"] = {"enforcementLevel": "advisory", "waiver": BACKUPS_WAIVER}
    server_urn = urns_of_type(recording, SERVER)[0]

    report = analyze(new_analyzer(pack, config), recording.resources)
    violations = evaluate_all(as_policy_resources(recording), stack_config.to_policy_config(config))

    assert report.findings() == {("server-backups", server_urn)}
    assert report.diagnostics[0].level == ADVISORY
    assert BACKUPS_WAIVER in report.diagnostics[0].message
    assert [(v.rule_id, v.waiver) for v in violations] == [("server-backups", BACKUPS_WAIVER)]
    assert all(v.waived for v in violations)


def test_rule_without_waiver_stays_mandatory(pack):
    recording = run_with({"backups": False})
    assert recording.error is None, f"the stack without backups failed to run: {recording.error}"

    report = analyze(new_analyzer(pack, prod_policy_config()), recording.resources)
    violations = evaluate_all(
        as_policy_resources(recording), stack_config.load_stack_config(PROD_POLICY_CONFIG)
    )

    assert [d.level for d in report.of("server-backups")] == [MANDATORY]
    assert [v.waived for v in violations] == [False]


INVALID_CONFIGS = [
    ({"server-backups": {"waiver": "no backups"}}, 'needs "enforcementLevel": "advisory"'),
    (
        {"server-backups": {"enforcementLevel": "disabled", "waiver": "no backups"}},
        '"disabled" hides every violation',
    ),
    ({"server-backups": {"enforcementLevel": "advisory"}}, "lowers a mandatory rule"),
    ({"container-non-root": {"enforcementLevel": "disabled"}}, '"disabled" hides every violation'),
    ({"server-backups": {"enforcementLevel": "advisory", "waiver": " "}}, "non-empty reason"),
    ({"all": {"enforcementLevel": "advisory"}}, "changes every rule at once"),
    ({"server-backup": {"requireBackups": False}}, "no such policy"),
    (
        {"server-backups": {"requireDeleteProtection": False}},
        "unknown key 'requireDeleteProtection'",
    ),
    ({"server-backups": {"enforcementLevel": "strict"}}, "is not one of"),
    ({"server-backups": True}, "must be an object"),
]


@pytest.mark.parametrize(
    ("config", "problem"), INVALID_CONFIGS, ids=[c[1] for c in INVALID_CONFIGS]
)
def test_invalid_stack_config_rejected(config, problem):
    problems = stack_config.check_stack_config(config)

    assert len(problems) == 1, problems
    assert problem in problems[0]


def test_recorded_waiver_accepted():
    config = {"server-backups": {"enforcementLevel": "advisory", "waiver": BACKUPS_WAIVER}}

    assert stack_config.check_stack_config(config) == []
    assert stack_config.to_policy_config(config).waivers == {"server-backups": BACKUPS_WAIVER}


@pytest.mark.parametrize("path", sorted((PACK_DIR / "stacks").glob("*.json")), ids=lambda p: p.name)
def test_committed_stack_config_valid(path: Path):
    stack_config.load_stack_config(path)


def test_prod_stack_config_matches_prod_settings():
    config = stack_config.load_stack_config(PROD_POLICY_CONFIG)
    stack = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())["config"]

    assert config.admin_cidrs == tuple(stack["hardened-n8n:adminCidrs"])
    assert config.require_delete_protection is True
    assert config.require_backups is True
    assert config.waivers == {}


# Packaging and docs


def test_pack_requirements_pinned_as_project():
    project = _pins(ROOT / "requirements.txt")
    pack_pins = _pins(PACK_DIR / "requirements.txt")

    assert pack_pins
    assert all("==" in line for line in pack_pins.values())
    assert {name: project.get(name) for name in pack_pins} == pack_pins


def _pins(path: Path) -> dict[str, str]:
    lines = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
    return {line.split("==")[0].lower(): line for line in lines if line}


def test_pack_project_file_uses_python_virtualenv():
    project = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())

    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["virtualenv"] == "venv"
    assert project["description"]


def test_docs_rule_table_matches_rules():
    committed = rule_table.extract_table((ROOT / "docs" / "policy.md").read_text())

    assert committed == rule_table.render_table(), "regenerate: python -m tools.rule_table --write"
