"""Host files of the hardened-n8n server, rendered as plain text (no Pulumi import).

render_host_files() returns the hardening files for a HostSpec. render_cloud_config() puts
them into the first-boot #cloud-config, and render_user_data() returns that document gzipped
and base64-encoded for Hetzner's user-data field. render_apply_bundle() packs them for
APPLY_COMMAND, which re-applies them over SSH. READY_COMMAND waits until the host can run
containers.
"""

from ._apply import APPLY_COMMAND, READY_COMMAND, render_apply_bundle
from ._cloud_init import render_cloud_config, render_user_data
from ._render import render_host_files
from ._spec import DataDir, HostFile, HostSpec, Slice

__all__ = [
    "APPLY_COMMAND",
    "READY_COMMAND",
    "DataDir",
    "HostFile",
    "HostSpec",
    "Slice",
    "render_apply_bundle",
    "render_cloud_config",
    "render_host_files",
    "render_user_data",
]
