"""Scripts installed on the host, read from the scripts/ folder next to this module."""

import re
from importlib import resources

from ._text import header

# Values are written into the scripts unquoted (a bash array needs that), so they may only
# contain characters that mean nothing to the shell.
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9 ./_:-]*$")
_PLACEHOLDER = re.compile(r"@([A-Z_]+)@")


def render_script(name: str, values: dict[str, str] | None = None) -> str:
    """Return scripts/<name> with the header after its shebang and @NAME@ placeholders filled.

    Raises ValueError for a value with shell metacharacters or a placeholder without a value.
    """
    template = resources.files(__package__).joinpath("scripts", name).read_text()
    shebang, _, body = template.partition("\n")
    values = values or {}
    for key, value in values.items():
        if not _SAFE_VALUE.fullmatch(value):
            raise ValueError(f"script {name}: value {value!r} for @{key}@ has unsafe characters")

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise ValueError(f"script {name}: no value for placeholder @{key}@")
        return values[key]

    return f"{shebang}\n{header()}{_PLACEHOLDER.sub(fill, body)}"
