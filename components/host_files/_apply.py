"""The apply and ready scripts, the bundle they read, and the commands that run them."""

import json

from ._scripts import render_script
from ._spec import HostFile, HostSpec
from ._text import render_file

APPLY_SCRIPT = "/usr/local/sbin/n8n-host-apply"
READY_SCRIPT = "/usr/local/sbin/n8n-host-ready"
MANIFEST = "/etc/hardened-n8n/manifest"
BUNDLE_FORMAT = 1

# Reads the bundle from stdin, validates every file, installs what changed and reloads only
# the services concerned. Exit 0 also when nothing changed.
APPLY_COMMAND = f"sudo -n {APPLY_SCRIPT}"
# The admin user can only log in after cloud-init's users-groups module has run, and
# write_files runs before it in the same stage, so the ready script exists by then.
READY_COMMAND = f"sudo -n {READY_SCRIPT}"
# cloud-init's runcmd: apply the files that write_files installed, validating them and
# starting what they configure.
FIRST_BOOT_COMMAND = (APPLY_SCRIPT, "--installed")


def render_apply_files(spec: HostSpec) -> tuple[HostFile, ...]:
    apply_script = render_script("n8n-host-apply.py")
    ready_script = render_script("n8n-host-ready", {"DATA_MOUNT": spec.data_mount})
    return (
        HostFile(APPLY_SCRIPT, apply_script, "0755"),
        HostFile(READY_SCRIPT, ready_script, "0755"),
    )


def render_apply_bundle(files: tuple[HostFile, ...]) -> str:
    """Return the JSON that APPLY_COMMAND reads on stdin to re-apply the files in place."""
    entries = [
        {"path": f.path, "mode": f.mode, "content": f.content}
        for f in sorted(files, key=lambda f: f.path)
    ]
    return json.dumps({"format": BUNDLE_FORMAT, "files": entries}, indent=1) + "\n"


def render_manifest(files: tuple[HostFile, ...]) -> HostFile:
    """Return the list of files cloud-init writes, which `n8n-host-apply --installed` reads."""
    intro = (
        "Files that cloud-init writes at first boot, as mode and path.\n"
        "`n8n-host-apply --installed` applies them as if they had come in a bundle."
    )
    lines = [f"{f.mode} {f.path}\n" for f in sorted(files, key=lambda f: f.path)]
    return HostFile(MANIFEST, render_file(intro, "".join(lines)), "0644")
