"""Locate the Debian 13 root folder whose real tools validate rendered files.

.ci/debian-root builds the folder. Tests that need it skip when it is missing, unless
HN8N_REQUIRE_TOOLS=1 is set (CI sets it), in which case they fail.
"""

import os
from pathlib import Path

import pytest

DEFAULT_DEBIAN_ROOT = "/var/cache/hardened-n8n/debian-13"


def debian_root() -> Path:
    """Return the Debian 13 root folder, or skip (fail under HN8N_REQUIRE_TOOLS=1) if missing."""
    root = Path(os.environ.get("HN8N_DEBIAN_ROOT", DEFAULT_DEBIAN_ROOT))
    if root.is_dir():
        return root

    message = f"Debian 13 tool root not found at {root}: build it with .ci/debian-root"
    if os.environ.get("HN8N_REQUIRE_TOOLS") == "1":
        pytest.fail(message)
    pytest.skip(message)
