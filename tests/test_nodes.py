"""Tests for the NODES_EXCLUDE resolution in components/nodes.py and its catalogue."""

import json
import os
import shutil
import subprocess
from pathlib import Path
from types import MappingProxyType

import pytest
import yaml

from components import nodes
from tools import generate_node_catalogue as generator

N8N_VERSION = "2.41.3"
REPO_ROOT = Path(__file__).resolve().parents[1]
N8N_DEFAULT_EXCLUSIONS = ("n8n-nodes-base.executeCommand", "n8n-nodes-base.localFileTrigger")


@pytest.fixture(scope="module")
def catalogue() -> nodes.NodeCatalogue:
    return nodes.load_catalogue(N8N_VERSION)


def _small_catalogue(display_names: dict[str, str]) -> nodes.NodeCatalogue:
    return nodes.NodeCatalogue(
        n8n_version="0.0.1",
        nodes_base_version="0.0.1",
        config_version_read="0.0.1",
        default_excluded_nodes=N8N_DEFAULT_EXCLUSIONS,
        display_names=MappingProxyType(
            {
                "n8n-nodes-base.executeCommand": "Execute Command",
                "n8n-nodes-base.localFileTrigger": "Local File Trigger",
                **display_names,
            }
        ),
    )


# Guide names


def test_guide_names_resolve_without_errors(catalogue):
    types, errors = nodes.resolve_blocked_nodes(nodes.DEFAULT_BLOCKED_NODES, catalogue)

    assert errors == []
    for type_name in types:
        assert type_name in catalogue.type_names, f"{type_name} is not in the catalogue"


@pytest.mark.parametrize(
    ("guide_name", "expected_types"),
    [
        ("ExecuteCommand", {"executeCommand"}),
        ("ReadFile", {"readWriteFile", "readBinaryFile", "readBinaryFiles"}),
        ("WriteFile", {"readWriteFile", "writeBinaryFile"}),
        ("ReadBinaryFile", {"readBinaryFile", "readBinaryFiles", "readWriteFile"}),
        ("WriteBinaryFile", {"writeBinaryFile", "readWriteFile"}),
        ("HTTPRequest", {"httpRequest"}),
        ("Webhook", {"webhook"}),
    ],
)
def test_guide_name_blocks_capability(catalogue, guide_name, expected_types):
    types, errors = nodes.resolve_blocked_nodes([guide_name], catalogue)

    assert errors == []
    for bare_name in expected_types:
        assert f"n8n-nodes-base.{bare_name}" in types
        assert f"n8n-nodes-base.{bare_name}" in catalogue.type_names
    extra = set(types) - {f"n8n-nodes-base.{b}" for b in expected_types}
    assert extra == set(N8N_DEFAULT_EXCLUSIONS) - {f"n8n-nodes-base.{b}" for b in expected_types}


def test_default_list_matches_pulumi_yaml():
    pulumi_yaml = (REPO_ROOT / "Pulumi.yaml").read_text(encoding="utf-8")
    if "blockedNodes:" not in pulumi_yaml:
        pytest.skip("Pulumi.yaml declares no blockedNodes key")

    config = yaml.safe_load(pulumi_yaml)["config"]["blockedNodes"]
    assert tuple(config["default"]) == nodes.DEFAULT_BLOCKED_NODES


# Other name forms


@pytest.mark.parametrize(
    "name",
    ["n8n-nodes-base.ssh", "N8N-NODES-BASE.SSH", "ssh", "SSH", " Ssh "],
)
def test_type_names_case_insensitive(catalogue, name):
    types, errors = nodes.resolve_blocked_nodes([name], catalogue)

    assert errors == []
    assert "n8n-nodes-base.ssh" in types


def test_display_name_accepted(catalogue):
    types, errors = nodes.resolve_blocked_nodes(["Read/Write Files from Disk"], catalogue)

    assert errors == []
    assert "n8n-nodes-base.readWriteFile" in types


def test_display_name_with_comma_accepted(catalogue):
    types, errors = nodes.resolve_blocked_nodes(["No Operation, do nothing"], catalogue)

    assert errors == []
    assert "n8n-nodes-base.noOp" in types


def test_bare_legacy_name_means_guide_alias(catalogue):
    types, errors = nodes.resolve_blocked_nodes(["readBinaryFile"], catalogue)

    assert errors == []
    assert "n8n-nodes-base.readWriteFile" in types


def test_full_legacy_type_blocks_only_itself(catalogue):
    types, errors = nodes.resolve_blocked_nodes(["n8n-nodes-base.readBinaryFile"], catalogue)

    assert errors == []
    assert "n8n-nodes-base.readBinaryFile" in types
    assert "n8n-nodes-base.readWriteFile" not in types


# Rejected names


def test_unknown_name_gets_suggestion(catalogue):
    types, errors = nodes.resolve_blocked_nodes(["ExecuteComand"], catalogue)

    assert len(errors) == 1
    assert "'ExecuteComand'" in errors[0]
    assert "Did you mean 'ExecuteCommand'" in errors[0]
    assert types == tuple(sorted(N8N_DEFAULT_EXCLUSIONS))


def test_unknown_name_without_close_match(catalogue):
    _, errors = nodes.resolve_blocked_nodes(["qqqqqqqq"], catalogue)

    assert len(errors) == 1
    assert "unknown n8n node 'qqqqqqqq'" in errors[0]
    assert "Did you mean" not in errors[0]


def test_every_bad_name_reported(catalogue):
    names = ["ExecuteComand", "Webhook", "", 7, "@n8n/n8n-nodes-langchain.code"]
    types, errors = nodes.resolve_blocked_nodes(names, catalogue)

    assert len(errors) == 4
    assert "n8n-nodes-base.webhook" in types
    assert any("expected a string" in error for error in errors)
    assert any("expected a node name" in error for error in errors)
    assert any("type names start with 'n8n-nodes-base.'" in error for error in errors)


def test_comma_separated_string_rejected(catalogue):
    """The guide writes its list as "ExecuteCommand,ReadFile,...", which n8n cannot read.

    NODES_EXCLUDE goes through JSON.parse, so that text makes n8n fall back to an empty
    list and enable every node. The program takes a list and rejects the string form
    instead of splitting it, both as the whole value and as one list item.
    """
    guide_text = ",".join(nodes.DEFAULT_BLOCKED_NODES)

    types, errors = nodes.resolve_blocked_nodes(guide_text, catalogue)
    assert len(errors) == 1
    assert "got one string" in errors[0]
    assert types == tuple(sorted(N8N_DEFAULT_EXCLUSIONS))

    _, item_errors = nodes.resolve_blocked_nodes([guide_text], catalogue)
    assert len(item_errors) == 1
    assert "comma" in item_errors[0]

    value_problems = nodes.check_nodes_exclude(guide_text, catalogue)
    assert len(value_problems) == 1
    assert "not a JSON array of strings" in value_problems[0]


def test_alias_skips_types_missing_from_catalogue():
    small = _small_catalogue({"n8n-nodes-base.readWriteFile": "Read/Write Files from Disk"})

    types, errors = nodes.resolve_blocked_nodes(["ReadFile", "HTTPRequest"], small)

    assert "n8n-nodes-base.readWriteFile" in types
    assert "n8n-nodes-base.readBinaryFile" not in types
    assert len(errors) == 1
    assert "unknown n8n node 'HTTPRequest'" in errors[0]


def test_name_shared_by_two_nodes_is_ambiguous():
    small = _small_catalogue({"n8n-nodes-base.alpha": "Beta", "n8n-nodes-base.beta": "Gamma"})

    types, errors = nodes.resolve_blocked_nodes(["beta", "n8n-nodes-base.beta"], small)

    assert len(errors) == 1
    assert "ambiguous n8n node name 'beta'" in errors[0]
    assert "n8n-nodes-base.beta" in types
    assert "n8n-nodes-base.alpha" not in types


# Default exclusions


@pytest.mark.parametrize("names", [[], ["Webhook"], ["NoSuchNode"], ["n8n-nodes-base.ssh"]])
def test_default_exclusions_always_present(catalogue, names):
    types, _ = nodes.resolve_blocked_nodes(names, catalogue)

    for default in N8N_DEFAULT_EXCLUSIONS:
        assert default in types


def test_catalogue_records_n8n_defaults(catalogue):
    assert catalogue.default_excluded_nodes == N8N_DEFAULT_EXCLUSIONS


# Rendering and the n8n parser


def test_render_is_compact_sorted_unique():
    value = nodes.render_nodes_exclude(["n8n-nodes-base.b", "n8n-nodes-base.a", "n8n-nodes-base.b"])

    assert value == '["n8n-nodes-base.a","n8n-nodes-base.b"]'


def test_rendered_guide_list_passes_check(catalogue):
    types, _ = nodes.resolve_blocked_nodes(nodes.DEFAULT_BLOCKED_NODES, catalogue)
    value = nodes.render_nodes_exclude(types)

    assert nodes.parse_nodes_exclude(value) == sorted(types)
    assert nodes.check_nodes_exclude(value, catalogue) == []


# Texts and whether n8n's JsonStringArray (JSON.parse, then an all-strings check) keeps
# them. None means n8n falls back to an empty list.
N8N_PARSE_CASES = [
    ('["a","b"]', ["a", "b"]),
    (' \t\n["a"]\r\n', ["a"]),
    ("[]", []),
    ('["a",]', None),
    ("['a']", None),
    ("[NaN]", None),
    ("[Infinity]", None),
    ("[-Infinity]", None),
    ("[1]", None),
    ('["a",null]', None),
    ('{"a":"b"}', None),
    ('"a"', None),
    ("", None),
    ("a,b", None),
    ('"[\\"a\\"]"', None),
    ('["a\\u0000b"]', ["a\x00b"]),
    ('["a\tb"]', None),
    ('\ufeff["a"]', None),
    ('["\\ud800"]', ["\ud800"]),
    ('[["a"]]', None),
]


@pytest.mark.parametrize(("text", "expected"), N8N_PARSE_CASES)
def test_parse_matches_n8n_rules(text, expected):
    assert nodes.parse_nodes_exclude(text) == expected


def test_parse_agrees_with_node_json_parse():
    node = shutil.which("node")
    if node is None:
        message = "node not found on PATH"
        if os.environ.get("HN8N_REQUIRE_TOOLS") == "1":
            pytest.fail(message)
        pytest.skip(message)

    # The same steps as JsonStringArray in @n8n/config 2.39.0 (dist/configs/nodes.config.js).
    script = (
        "const texts = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "const kept = texts.map((text) => {"
        "  let parsed; try { parsed = JSON.parse(text); } catch { return false; }"
        "  return Array.isArray(parsed) && parsed.every((item) => typeof item === 'string');"
        "});"
        "process.stdout.write(JSON.stringify(kept));"
    )
    texts = [text for text, _ in N8N_PARSE_CASES]
    result = subprocess.run(  # noqa: S603
        [node, "-e", script], input=json.dumps(texts), capture_output=True, text=True, check=True
    )

    for text, kept_by_node in zip(texts, json.loads(result.stdout), strict=True):
        kept_here = nodes.parse_nodes_exclude(text) is not None
        assert kept_here == kept_by_node, f"JSON.parse and parse_nodes_exclude differ on {text!r}"


# NODES_EXCLUDE validation


def test_check_reports_unknown_type(catalogue):
    value = (
        '["n8n-nodes-base.executeCommand","n8n-nodes-base.localFileTrigger","n8n-nodes-base.sshh"]'
    )

    problems = nodes.check_nodes_exclude(value, catalogue)

    assert len(problems) == 1
    assert "'n8n-nodes-base.sshh'" in problems[0]
    assert "Did you mean 'n8n-nodes-base.ssh'" in problems[0]


def test_check_reports_wrong_case(catalogue):
    value = '["n8n-nodes-base.ExecuteCommand","n8n-nodes-base.localFileTrigger"]'

    problems = nodes.check_nodes_exclude(value, catalogue)

    assert any(
        "unknown node type 'n8n-nodes-base.ExecuteCommand', which n8n ignores. "
        "Did you mean 'n8n-nodes-base.executeCommand'?" in problem
        for problem in problems
    )
    assert any(
        "default exclusion 'n8n-nodes-base.executeCommand'" in problem for problem in problems
    )


@pytest.mark.parametrize("missing", N8N_DEFAULT_EXCLUSIONS)
def test_check_reports_missing_default(catalogue, missing):
    remaining_defaults = [default for default in N8N_DEFAULT_EXCLUSIONS if default != missing]
    value = nodes.render_nodes_exclude([*remaining_defaults, "n8n-nodes-base.webhook"])

    problems = nodes.check_nodes_exclude(value, catalogue)

    assert len(problems) == 1
    assert repr(missing) in problems[0]


@pytest.mark.parametrize("value", ["", "[1]", '{"exclude":[]}', "[NaN]"])
def test_check_reports_unreadable_value(catalogue, value):
    problems = nodes.check_nodes_exclude(value, catalogue)

    assert len(problems) == 1
    assert "exclude no node at all" in problems[0]


# Catalogue loading


def test_missing_catalogue_names_version_and_command():
    with pytest.raises(nodes.CatalogueNotFoundError) as raised:
        nodes.load_catalogue("9.9.9")

    message = str(raised.value)
    assert "n8n 9.9.9" in message
    assert "python tools/generate_node_catalogue.py 9.9.9" in message


@pytest.mark.parametrize("version", ["../2.41.3", "2.41", "latest", "2.41.3 "])
def test_invalid_version_rejected(version):
    with pytest.raises(nodes.CatalogueError, match="invalid n8n version"):
        nodes.load_catalogue(version)


def test_wrong_catalogue_format_rejected(tmp_path):
    document = json.loads(nodes.catalogue_path(N8N_VERSION).read_text(encoding="utf-8"))
    document["format"] = nodes.CATALOGUE_FORMAT + 1
    nodes.catalogue_path(N8N_VERSION, tmp_path).write_text(json.dumps(document), encoding="utf-8")

    with pytest.raises(nodes.CatalogueError, match="Regenerate it with"):
        nodes.load_catalogue(N8N_VERSION, tmp_path)


# Catalogue file and generator


def test_catalogue_file_matches_generator_format():
    path = nodes.catalogue_path(N8N_VERSION)
    text = path.read_text(encoding="utf-8")
    document = json.loads(text)

    assert generator.CATALOGUE_FORMAT == nodes.CATALOGUE_FORMAT
    assert generator.catalogue_path(N8N_VERSION) == path
    assert generator.render_catalogue(document) == text
    assert document["format"] == generator.CATALOGUE_FORMAT
    assert document["generated_by"] == "tools/generate_node_catalogue.py"
    assert document["n8n_version"] == N8N_VERSION
    assert document["n8n_nodes_base_version"] == "2.41.2"
    assert document["n8n_config_version"] == "2.39.1"
    assert document["n8n_config_version_read"] == "2.39.0"


def test_catalogue_types_sorted_and_prefixed():
    document = json.loads(nodes.catalogue_path(N8N_VERSION).read_text(encoding="utf-8"))
    type_names = list(document["nodes"])

    assert type_names == sorted(type_names)
    assert len(type_names) == 444
    for type_name, display_name in document["nodes"].items():
        assert type_name.startswith("n8n-nodes-base."), type_name
        assert display_name, type_name
        assert display_name == display_name.strip(), type_name
    assert document["default_excluded_nodes"] == sorted(document["default_excluded_nodes"])
    for default in document["default_excluded_nodes"]:
        assert default in document["nodes"]


def test_generator_keeps_latest_display_name():
    descriptions = [
        {"name": "set", "displayName": "Edit Fields (Set)", "version": [3, 3.4]},
        {"name": "set", "displayName": "Set", "version": [1, 2]},
        {"name": "sheets", "displayName": "Sheets ", "version": 2},
        {"name": "sheets", "displayName": "Old Sheets", "version": 1},
    ]

    document = generator.build_catalogue(
        n8n_version="1.0.0",
        nodes_base_version="1.0.0",
        config_version="1.0.1",
        config_version_read="1.0.0",
        default_excluded_nodes=["n8n-nodes-base.set", "n8n-nodes-base.set"],
        node_descriptions=descriptions,
    )

    assert document["nodes"] == {
        "n8n-nodes-base.set": "Edit Fields (Set)",
        "n8n-nodes-base.sheets": "Sheets",
    }
    assert document["default_excluded_nodes"] == ["n8n-nodes-base.set"]


def test_generator_reads_default_exclusions():
    source = (
        "        this.include = [];\n"
        "        this.exclude = ['n8n-nodes-base.executeCommand', \"n8n-nodes-base.x\"];\n"
    )

    assert generator.parse_default_exclusions(source) == [
        "n8n-nodes-base.executeCommand",
        "n8n-nodes-base.x",
    ]


@pytest.mark.parametrize(
    "source",
    ["this.include = [];", "this.exclude = [...DEFAULTS, 'n8n-nodes-base.x'];"],
)
def test_generator_rejects_unreadable_defaults(source):
    with pytest.raises(generator.CatalogueError):
        generator.parse_default_exclusions(source)


@pytest.mark.parametrize(
    ("required", "published", "expected"),
    [
        ("2.39.1", ["2.38.0", "2.39.0", "2.39.1", "2.40.0"], "2.39.1"),
        ("2.39.1", ["2.38.0", "2.39.0", "2.40.0", "2.39.1-rc.1"], "2.39.0"),
        ("2.39.1", ["2.9.9", "2.10.0"], "2.10.0"),
    ],
)
def test_generator_picks_config_version(required, published, expected):
    assert generator.pick_config_version(required, published) == expected


def test_generator_rejects_missing_config_version():
    with pytest.raises(generator.CatalogueError, match="no published"):
        generator.pick_config_version("1.0.0", ["1.0.1", "2.0.0"])
