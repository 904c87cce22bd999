"""The README's settings table is the one Pulumi.yaml generates, and every key is read."""

import re

import yaml
from conftest import ROOT

from tools import config_table


def test_readme_table_matches_project_file():
    readme = (ROOT / "README.md").read_text()
    table = readme.split(config_table.START)[1].split(config_table.END)[0].strip()

    assert table == config_table.render_table(), "run: python -m tools.config_table --write"


def test_every_declared_key_is_read_by_the_program():
    declared = set(yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"])
    source = "".join(p.read_text() for p in (ROOT / "components").glob("*.py"))
    read = set(re.findall(r'"([a-z][A-Za-z0-9]+)"', source))

    assert declared - read == set()
