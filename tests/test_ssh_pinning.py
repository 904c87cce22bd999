"""The program's SSH client options accept the generated host key and no other.

A real sshd from Debian 13 listens on the sandbox's loopback, and the real ssh client connects
with the options the Docker provider gets. Authentication then fails on purpose (no user key):
what matters is whether the client got past host key verification.
"""

import shlex

from sandbox import SCRATCH, output

from components.host import pinned_ssh_options

SSHD_CONFIG = f"""Port 2222
ListenAddress 127.0.0.1
HostKey {SCRATCH}/pinned
PidFile {SCRATCH}/sshd.pid
"""
HOST_KEY_REJECTED = "Host key verification failed"


def connect(sandbox, trusted_key_file: str) -> str:
    """Connect to an sshd serving the "pinned" key while trusting the given key file."""
    keys = sandbox.run(
        f"mkdir -p {SCRATCH} && ssh-keygen -q -t ed25519 -N '' -f {SCRATCH}/pinned"
        f" && ssh-keygen -q -t ed25519 -N '' -f {SCRATCH}/other"
    )
    assert keys.returncode == 0, output(keys)
    public = sandbox.changed(f"{SCRATCH}/{trusted_key_file}.pub").read_text().split()
    options = pinned_ssh_options(" ".join(public[:2]))
    client = ["ssh", *options, "-o", "BatchMode=yes", "-o", "ConnectTimeout=5"]
    client += ["-p", "2222", "nobody@127.0.0.1", "true"]
    sandbox.put(f"{SCRATCH}/sshd_config", SSHD_CONFIG)

    result = sandbox.run(
        f"/usr/sbin/sshd -f {SCRATCH}/sshd_config\n"
        f"{shlex.join(client)}\n"
        f'echo "ssh exit $?"\n'
        f'kill "$(cat {SCRATCH}/sshd.pid)"\n'
    )
    return output(result)


def test_pinned_host_key_accepted(sandbox):
    text = connect(sandbox, "pinned")

    assert HOST_KEY_REJECTED not in text
    assert "Permission denied" in text


def test_other_host_key_rejected(sandbox):
    text = connect(sandbox, "other")

    assert HOST_KEY_REJECTED in text
    assert "Permission denied" not in text
