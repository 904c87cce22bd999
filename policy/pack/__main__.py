"""CrossGuard entry point: the hardened-n8n policy pack, built from the project's own rules.

The Pulumi CLI runs this folder as a program (python -m pulumi.policy ENGINE policy/pack), for
example: pulumi preview --policy-pack policy/pack --policy-pack-config policy/pack/stacks/prod.json
"""

import sys
from pathlib import Path

# The rules live in the project's `policy` package, which imports `components`. The CLI puts only
# this folder on sys.path, so the project root two folders up is added. A path entry keeps one
# copy of the rules and needs no packaging of the Pulumi program.
# NOTE: `pulumi policy publish` uploads this folder alone; a published pack would also need the
# `policy` and `components` packages copied in.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from policy.pack import adapter  # noqa: E402

# Each policy carries its rule's own level; the pack level only covers a policy without one.
PolicyPack(
    name=adapter.PACK_NAME,
    policies=adapter.build_policies(),
    enforcement_level=EnforcementLevel.MANDATORY,
    description=adapter.PACK_DESCRIPTION,
)
