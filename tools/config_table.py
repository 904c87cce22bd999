"""Render the README's stack settings table from the config block of Pulumi.yaml.

Usage: python -m tools.config_table [--write]

Without --write it prints the table; with --write it replaces the table between the markers in
README.md. A test fails when the README's table differs from what this renders.
"""

import argparse
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
START = "<!-- config-table:start -->"
END = "<!-- config-table:end -->"


def render_table(project_file: Path = ROOT / "Pulumi.yaml") -> str:
    config = yaml.safe_load(project_file.read_text())["config"]
    rows = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    for key, declaration in config.items():
        kind = declaration.get(
            "type", "list of objects" if declaration.get("default") == [] else "map"
        )
        if kind == "array":
            kind = f"list of {declaration['items']['type']}"
        default = json.dumps(declaration.get("default"))
        description = " ".join(str(declaration.get("description", "")).split())
        rows.append(f"| `{key}` | {kind} | `{default}` | {description.replace('|', '/')} |")
    return "\n".join(rows)


def replace_table(readme: str, table: str) -> str:
    head, _, rest = readme.partition(START)
    _, _, tail = rest.partition(END)
    if not rest:
        raise ValueError(f"README.md has no {START} marker")
    return f"{head}{START}\n{table}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update README.md in place")
    args = parser.parse_args(argv)
    table = render_table()
    if not args.write:
        print(table)
        return 0
    readme = ROOT / "README.md"
    readme.write_text(replace_table(readme.read_text(), table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
