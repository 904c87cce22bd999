"""Resolve the n8n nodes to block and render n8n's NODES_EXCLUDE value.

n8n reads NODES_EXCLUDE with JSON.parse (class NodesConfig in @n8n/config 2.39.0). A value
that is not a JSON array of strings becomes an empty list, so n8n then excludes no node at
all. A valid value replaces n8n's default exclusions instead of adding to them, and n8n
ignores unknown type names without a warning. This module therefore checks every name
against a catalogue of the real node types (components/data, written by
tools/generate_node_catalogue.py) and always keeps n8n's defaults.

Nothing here imports Pulumi, so settings checks and policy rules can reuse it.
"""

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

NODE_TYPE_PREFIX = "n8n-nodes-base."
# Must match CATALOGUE_FORMAT in tools/generate_node_catalogue.py.
CATALOGUE_FORMAT = 1
CATALOGUE_DIR = Path(__file__).parent / "data"
REGENERATE_COMMAND = "python tools/generate_node_catalogue.py {version}"

# Friendly names from the operator guide. Each one names a capability, so it blocks every
# node that provides it. The legacy binary-file nodes are hidden in the editor's node panel,
# but n8n still loads and runs them, for example from an imported workflow, because n8n-core
# 2.41.1 filters loaded nodes by NODES_INCLUDE and NODES_EXCLUDE only. Read/Write Files from Disk
# (readWriteFile) does both jobs, so blocking ReadFile or WriteFile blocks reading and writing.
NODE_ALIASES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "ExecuteCommand": ("executeCommand",),
        "ReadFile": ("readWriteFile", "readBinaryFile", "readBinaryFiles"),
        "WriteFile": ("readWriteFile", "writeBinaryFile"),
        "ReadBinaryFile": ("readBinaryFile", "readBinaryFiles", "readWriteFile"),
        "WriteBinaryFile": ("writeBinaryFile", "readWriteFile"),
        "HTTPRequest": ("httpRequest",),
        "Webhook": ("webhook",),
    }
)

# The operator guide's default list of blocked nodes, as friendly names.
DEFAULT_BLOCKED_NODES: tuple[str, ...] = (
    "ExecuteCommand",
    "ReadFile",
    "WriteFile",
    "ReadBinaryFile",
    "WriteBinaryFile",
    "HTTPRequest",
    "Webhook",
)

_VERSION_PATTERN = re.compile(r"^\d+\.\d+\.\d+$")


class _IndexEntry(NamedTuple):
    spelling: str
    # None when two different nodes share the spelling.
    types: tuple[str, ...] | None


class CatalogueError(ValueError):
    """A node catalogue file that is missing or unusable."""


class CatalogueNotFoundError(CatalogueError):
    """No catalogue file exists for the requested n8n version."""


@dataclass(frozen=True)
class NodeCatalogue:
    """Node types of the n8n-nodes-base release that one n8n release depends on."""

    n8n_version: str
    nodes_base_version: str
    # The @n8n/config release that default_excluded_nodes was read from. It can be lower
    # than the one n8n depends on when that one is not published on npm.
    config_version_read: str
    default_excluded_nodes: tuple[str, ...]
    # Full type name ("n8n-nodes-base.webhook") to the display name the editor shows.
    display_names: Mapping[str, str]

    @property
    def type_names(self) -> frozenset[str]:
        return frozenset(self.display_names)


def catalogue_versions(data_dir: Path = CATALOGUE_DIR) -> list[str]:
    """Return the n8n versions that have a catalogue, oldest first."""
    prefix = "n8n-nodes-base-"
    versions = [
        p.name.removeprefix(prefix).removesuffix(".json") for p in data_dir.glob(prefix + "*.json")
    ]
    return sorted(versions, key=lambda v: tuple(int(x) for x in v.split(".") if x.isdigit()))


def catalogue_path(n8n_version: str, data_dir: Path = CATALOGUE_DIR) -> Path:
    """Return the path of the catalogue file for one n8n release."""
    return data_dir / f"n8n-nodes-base-{n8n_version}.json"


def load_catalogue(n8n_version: str, data_dir: Path = CATALOGUE_DIR) -> NodeCatalogue:
    """Load the node catalogue of one n8n release.

    Raises CatalogueNotFoundError when the file is missing and CatalogueError when the
    version or the file is invalid. Messages about the file include the generator command.
    """
    if not _VERSION_PATTERN.fullmatch(n8n_version):
        raise CatalogueError(f"invalid n8n version {n8n_version!r}: expected X.Y.Z, e.g. 2.41.3")

    path = catalogue_path(n8n_version, data_dir)
    regenerate = REGENERATE_COMMAND.format(version=n8n_version)
    if not path.is_file():
        available = sorted(p.name for p in data_dir.glob("n8n-nodes-base-*.json"))
        raise CatalogueNotFoundError(
            f"no node catalogue for n8n {n8n_version}: {path} not found "
            f"(available: {', '.join(available) or 'none'}). Generate it with: {regenerate}"
        )

    try:
        return _parse_catalogue(path.read_text(encoding="utf-8"))
    except (ValueError, KeyError, TypeError) as error:
        raise CatalogueError(
            f"invalid node catalogue {path.name}: {error}. Regenerate it with: {regenerate}"
        ) from error


def _parse_catalogue(text: str) -> NodeCatalogue:
    document = json.loads(text)
    if document.get("format") != CATALOGUE_FORMAT:
        raise ValueError(f"format {document.get('format')!r}, expected {CATALOGUE_FORMAT}")
    return NodeCatalogue(
        n8n_version=document["n8n_version"],
        nodes_base_version=document["n8n_nodes_base_version"],
        config_version_read=document["n8n_config_version_read"],
        default_excluded_nodes=tuple(document["default_excluded_nodes"]),
        display_names=MappingProxyType(dict(document["nodes"])),
    )


def _lookup_key(name: str) -> str:
    return name.strip().casefold()


def _name_index(catalogue: NodeCatalogue) -> dict[str, _IndexEntry]:
    """Map each accepted spelling, case-folded, to its canonical spelling and node types.

    The spellings are full type names, bare names ("executeCommand") and display names
    ("Execute Command"). A bare or display name that two different nodes share gets no
    types, so it is reported as ambiguous. Guide aliases take precedence over every other
    spelling, so "readBinaryFile" means the ReadBinaryFile capability, and only the full
    type name blocks the legacy node alone.
    """
    index: dict[str, _IndexEntry] = {}
    for type_name in catalogue.type_names:
        index[_lookup_key(type_name)] = _IndexEntry(type_name, (type_name,))

    short_names: dict[str, _IndexEntry] = {}
    for type_name, display_name in catalogue.display_names.items():
        bare_name = type_name.removeprefix(NODE_TYPE_PREFIX)
        for spelling in (bare_name, display_name):
            key = _lookup_key(spelling)
            known = short_names.get(key)
            if known is not None and known.types != (type_name,):
                short_names[key] = _IndexEntry(spelling, None)
            else:
                short_names[key] = _IndexEntry(spelling, (type_name,))
    index.update(short_names)

    for alias, bare_names in NODE_ALIASES.items():
        types = tuple(
            NODE_TYPE_PREFIX + bare
            for bare in bare_names
            if NODE_TYPE_PREFIX + bare in catalogue.display_names
        )
        # An alias whose nodes all left n8n-nodes-base must fail as unknown, not block nothing.
        if types:
            index[_lookup_key(alias)] = _IndexEntry(alias, types)
    return index


def _suggest(name: str, index: Mapping[str, _IndexEntry]) -> str:
    matches = difflib.get_close_matches(_lookup_key(name), list(index), n=5, cutoff=0.6)
    # Keep one spelling per meaning, so "Execute Command" does not follow "ExecuteCommand".
    spellings: dict[tuple[str, ...], str] = {}
    for match in matches:
        entry = index[match]
        spellings.setdefault(entry.types, repr(entry.spelling))
    if not spellings:
        return ""
    return f" Did you mean {', '.join(list(spellings.values())[:3])}?"


def _check_name_syntax(name: object) -> str | None:
    if not isinstance(name, str):
        return f"invalid n8n node name {name!r}: expected a string."
    if not name.strip():
        return f"invalid n8n node name {name!r}: expected a node name."
    return None


def resolve_blocked_nodes(
    names: Iterable[str], catalogue: NodeCatalogue
) -> tuple[tuple[str, ...], list[str]]:
    """Translate node names to sorted full type names, always adding n8n's default exclusions.

    A name can be a guide alias (NODE_ALIASES), a full type name ("n8n-nodes-base.ssh"),
    a bare type name ("ssh") or a display name ("SSH"), all case-insensitive. The function
    returns the type names and one error string per rejected name, so the caller can report
    every configuration problem at once. Rejected names are left out of the type names.
    """
    if isinstance(names, str):
        # Iterating a string would yield its characters. The guide's comma-separated form is
        # rejected rather than split, so that the configuration has one spelling, a list.
        error = (
            f"invalid blocked node list {names!r}: expected a list of node names, got one "
            f"string. Give each node as its own list item."
        )
        return tuple(sorted(catalogue.default_excluded_nodes)), [error]

    index = _name_index(catalogue)
    resolved = set(catalogue.default_excluded_nodes)
    errors: list[str] = []
    for name in names:
        syntax_error = _check_name_syntax(name)
        if syntax_error is not None:
            errors.append(syntax_error)
            continue

        entry = index.get(_lookup_key(name))
        if entry is None:
            errors.append(_unknown_name_error(name, index, catalogue))
        elif entry.types is None:
            errors.append(f"ambiguous n8n node name {name!r}: give the full type name instead.")
        else:
            resolved.update(entry.types)
    return tuple(sorted(resolved)), errors


def _unknown_name_error(
    name: str, index: Mapping[str, _IndexEntry], catalogue: NodeCatalogue
) -> str:
    where = f"n8n-nodes-base {catalogue.nodes_base_version} (n8n {catalogue.n8n_version})"
    # Checked after the lookup because one display name, "No Operation, do nothing", has a comma.
    if "," in name:
        return (
            f"unknown n8n node {name!r}: it contains a comma. List each node as its own item "
            f"instead of one comma-separated string."
        )
    if "." in name and not _lookup_key(name).startswith(NODE_TYPE_PREFIX):
        return (
            f"unknown n8n node {name!r}: only nodes of {where} can be blocked, "
            f"and their type names start with {NODE_TYPE_PREFIX!r}."
        )
    return f"unknown n8n node {name!r}: not a guide name or a node of {where}." + _suggest(
        name, index
    )


def render_nodes_exclude(type_names: Iterable[str]) -> str:
    """Render NODES_EXCLUDE as a compact JSON array, sorted and without duplicates."""
    return json.dumps(sorted(set(type_names)), separators=(",", ":"))


def parse_nodes_exclude(value: str) -> list[str] | None:
    """Parse NODES_EXCLUDE as n8n does, returning None where n8n would fall back to [].

    Python's json.loads also accepts NaN, Infinity and -Infinity, which JavaScript's
    JSON.parse rejects. None of them is a string, so the all-strings check rejects them as
    n8n does. Otherwise both parse the RFC 8259 grammar. tests/test_nodes.py compares this
    function with node's JSON.parse on edge cases.
    """
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    if not isinstance(parsed, list) or not all(isinstance(item, str) for item in parsed):
        return None
    return parsed


def check_nodes_exclude(value: str, catalogue: NodeCatalogue) -> list[str]:
    """Return every problem of a NODES_EXCLUDE value, or an empty list if it is valid."""
    parsed = parse_nodes_exclude(value)
    if parsed is None:
        return [
            f"NODES_EXCLUDE {value!r} is not a JSON array of strings, so n8n would ignore it "
            f"and exclude no node at all, not even its defaults."
        ]

    problems = []
    type_names = catalogue.type_names
    for item in parsed:
        if item not in type_names:
            problems.append(
                f"NODES_EXCLUDE contains unknown node type {item!r}, which n8n ignores."
                + _suggest_type(item, type_names)
            )
    for default in catalogue.default_excluded_nodes:
        if default not in parsed:
            problems.append(
                f"NODES_EXCLUDE lacks n8n's default exclusion {default!r}. The value replaces "
                f"n8n's defaults, so n8n would enable that node."
            )
    return problems


def _suggest_type(item: str, type_names: frozenset[str]) -> str:
    # n8n compares type names case-sensitively, so a case-only difference is still an error.
    same_except_case = sorted(t for t in type_names if t.casefold() == item.casefold())
    # get_close_matches returns the closest match first.
    matches = same_except_case or difflib.get_close_matches(item, sorted(type_names), n=3)
    if not matches:
        return ""
    return f" Did you mean {', '.join(repr(match) for match in matches)}?"
