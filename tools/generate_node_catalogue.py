"""Generate the catalogue of n8n-nodes-base node types for one n8n release.

Usage:

    python tools/generate_node_catalogue.py 2.41.3

The script queries npm for the n8n-nodes-base and @n8n/config versions that n8n VERSION
depends on, downloads both packages with `npm pack` into a temporary folder and writes
components/data/n8n-nodes-base-VERSION.json. components/nodes.py reads that file to validate
the NODES_EXCLUDE list, so the program itself never needs npm or the network.
"""

import argparse
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

# Incremented when the file layout changes. components/nodes.py rejects other values.
CATALOGUE_FORMAT = 1
NODE_PACKAGE = "n8n-nodes-base"
CONFIG_PACKAGE = "@n8n/config"
NODE_TYPE_PREFIX = NODE_PACKAGE + "."
DATA_DIR = Path(__file__).resolve().parents[1] / "components" / "data"

# Paths inside the npm tarballs, which put every file under "package/".
NODE_DESCRIPTIONS_MEMBER = "package/dist/types/nodes.json"
NODES_CONFIG_MEMBER = "package/dist/configs/nodes.config.js"

_RELEASE_PATTERN = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
# In the compiled NodesConfig class the default is an assignment such as
# `this.exclude = ['n8n-nodes-base.executeCommand', 'n8n-nodes-base.localFileTrigger'];`.
_EXCLUDE_DEFAULT_PATTERN = re.compile(r"this\.exclude\s*=\s*\[(?P<items>[^\]]*)\]")
_STRING_LITERAL_PATTERN = re.compile(r"'([^'\\]*)'|\"([^\"\\]*)\"")


class CatalogueError(Exception):
    """An npm response or a package file that the generator cannot use."""


def release_tuple(version: str) -> tuple[int, int, int] | None:
    """Parse a plain release version "X.Y.Z", or return None for anything else."""
    match = _RELEASE_PATTERN.match(version)
    if match is None:
        return None
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def pick_config_version(required: str, published: Iterable[str]) -> str:
    """Return `required` if it is published, else the highest lower published release."""
    required_tuple = release_tuple(required)
    if required_tuple is None:
        raise CatalogueError(f"{CONFIG_PACKAGE} version {required!r} is not a plain X.Y.Z release")

    candidates = []
    for version in published:
        version_tuple = release_tuple(version)
        if version_tuple is not None and version_tuple <= required_tuple:
            candidates.append(version)
    if not candidates:
        raise CatalogueError(f"no published {CONFIG_PACKAGE} release at or below {required}")
    return max(candidates, key=release_tuple)


def parse_default_exclusions(nodes_config_source: str) -> list[str]:
    """Extract the default NODES_EXCLUDE list from @n8n/config's compiled nodes.config.js."""
    match = _EXCLUDE_DEFAULT_PATTERN.search(nodes_config_source)
    if match is None:
        raise CatalogueError("nodes.config.js contains no `this.exclude = [...]` default")

    items = match.group("items")
    # Anything left after removing the string literals and separators is an expression
    # (a spread, a constant) that this parser would silently drop, so reject it.
    leftover = _STRING_LITERAL_PATTERN.sub("", items).replace(",", "").strip()
    if leftover:
        raise CatalogueError(f"nodes.config.js exclude default is not a plain list: [{items}]")
    return [single or double for single, double in _STRING_LITERAL_PATTERN.findall(items)]


def _latest_version(description: Mapping[str, Any]) -> float:
    version = description.get("version", 0)
    if isinstance(version, list):
        return max(version, default=0)
    return version


def build_catalogue(
    *,
    n8n_version: str,
    nodes_base_version: str,
    config_version: str,
    config_version_read: str,
    default_excluded_nodes: Iterable[str],
    node_descriptions: Iterable[Mapping[str, Any]],
) -> dict[str, Any]:
    """Build the catalogue document from the node descriptions of dist/types/nodes.json.

    nodes.json lists one description per group of node versions, so a node name can occur
    several times with different display names ("Set", "Edit Fields (Set)"). The catalogue
    keeps the display name of the highest node version, which is the one the editor shows.
    "nodes" maps each node type to that display name, sorted by type.
    """
    latest: dict[str, Mapping[str, Any]] = {}
    for description in node_descriptions:
        name = description["name"]
        known = latest.get(name)
        if known is None or _latest_version(description) > _latest_version(known):
            latest[name] = description

    nodes = {
        NODE_TYPE_PREFIX + name: latest[name]["displayName"].strip() for name in sorted(latest)
    }
    return {
        "format": CATALOGUE_FORMAT,
        "generated_by": "tools/generate_node_catalogue.py",
        "n8n_version": n8n_version,
        "n8n_nodes_base_version": nodes_base_version,
        "n8n_config_version": config_version,
        "n8n_config_version_read": config_version_read,
        "default_excluded_nodes": sorted(set(default_excluded_nodes)),
        "nodes": nodes,
    }


def render_catalogue(catalogue: Mapping[str, Any]) -> str:
    """Serialise a catalogue document the way it is committed: indented JSON, final newline."""
    return json.dumps(catalogue, indent=2, ensure_ascii=False) + "\n"


def catalogue_path(n8n_version: str, data_dir: Path = DATA_DIR) -> Path:
    """Return the path of the catalogue file for one n8n release."""
    return data_dir / f"{NODE_PACKAGE}-{n8n_version}.json"


def _run_npm(*args: str, cwd: Path | None = None) -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise CatalogueError("npm not found on PATH: install Node.js and npm")

    # The arguments are package specs built from validated X.Y.Z versions, never shell text.
    result = subprocess.run(  # noqa: S603
        [npm, *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise CatalogueError(f"npm {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def _exact_dependency(n8n_version: str, package: str) -> str:
    dependencies = json.loads(_run_npm("view", f"n8n@{n8n_version}", "dependencies", "--json"))
    version = dependencies.get(package)
    if version is None:
        raise CatalogueError(f"n8n {n8n_version} does not depend on {package}")
    if release_tuple(version) is None:
        raise CatalogueError(
            f"n8n {n8n_version} depends on {package} {version!r}, not an exact version"
        )
    return version


def _pack(spec: str, destination: Path) -> Path:
    output = _run_npm("pack", spec, "--json", "--pack-destination", str(destination))
    return destination / json.loads(output)[0]["filename"]


def _read_member(tarball: Path, member: str) -> bytes:
    with tarfile.open(tarball, "r:gz") as archive:
        try:
            extracted = archive.extractfile(member)
        except KeyError:
            extracted = None
        if extracted is None:
            raise CatalogueError(f"{tarball.name} contains no regular file {member}")
        return extracted.read()


def generate(n8n_version: str) -> dict[str, Any]:
    """Download the packages n8n `n8n_version` depends on and build its catalogue."""
    nodes_base_version = _exact_dependency(n8n_version, NODE_PACKAGE)
    config_version = _exact_dependency(n8n_version, CONFIG_PACKAGE)
    published = json.loads(_run_npm("view", CONFIG_PACKAGE, "versions", "--json"))
    config_version_read = pick_config_version(config_version, published)

    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        nodes_tarball = _pack(f"{NODE_PACKAGE}@{nodes_base_version}", folder)
        config_tarball = _pack(f"{CONFIG_PACKAGE}@{config_version_read}", folder)
        node_descriptions = json.load(
            io.BytesIO(_read_member(nodes_tarball, NODE_DESCRIPTIONS_MEMBER))
        )
        nodes_config = _read_member(config_tarball, NODES_CONFIG_MEMBER).decode("utf-8")

    return build_catalogue(
        n8n_version=n8n_version,
        nodes_base_version=nodes_base_version,
        config_version=config_version,
        config_version_read=config_version_read,
        default_excluded_nodes=parse_default_exclusions(nodes_config),
        node_descriptions=node_descriptions,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("version", help="n8n release to catalogue, for example 2.41.3")
    parser.add_argument(
        "--output-dir", type=Path, default=DATA_DIR, help="folder to write the catalogue into"
    )
    arguments = parser.parse_args(argv)
    if release_tuple(arguments.version) is None:
        parser.error(f"invalid n8n version {arguments.version!r}: expected X.Y.Z")

    try:
        catalogue = generate(arguments.version)
    except CatalogueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1

    path = catalogue_path(arguments.version, arguments.output_dir)
    path.write_text(render_catalogue(catalogue), encoding="utf-8")
    if catalogue["n8n_config_version_read"] != catalogue["n8n_config_version"]:
        print(
            f"warning: {CONFIG_PACKAGE} {catalogue['n8n_config_version']} is not published, "
            f"read the default exclusions from {catalogue['n8n_config_version_read']}",
            file=sys.stderr,
        )
    print(f"wrote {path} ({len(catalogue['nodes'])} node types)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
