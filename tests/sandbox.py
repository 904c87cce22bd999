"""A throwaway sandbox of the Debian 13 root, for tests that run its real tools."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from tool_root import debian_root

# A folder inside the sandbox for files a test writes.
SCRATCH = "/opt/hn8n-test"


class Sandbox:
    """A throwaway copy-on-write view of the Debian 13 root with private mounts and network.

    put() writes into the overlay's upper folder, so the shared root never changes. run()
    executes bash under chroot inside `unshare --mount --net`: iptables and ufw see an empty
    network namespace, and /proc/sys is mounted read-only, so nothing reaches the host.
    """

    def __init__(self, root: Path, base: Path) -> None:
        self.root = root
        self.upper = base / "upper"
        self.work = base / "work"
        self.merged = base / "merged"
        for folder in (self.upper, self.work, self.merged):
            folder.mkdir(parents=True)

    def put(self, path: str, content: str | bytes, mode: int = 0o644) -> None:
        target = self.upper / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode() if isinstance(content, str) else content
        target.write_bytes(data)
        target.chmod(mode)

    def changed(self, path: str) -> Path:
        """Return where a file written inside the sandbox lands (upper folder)."""
        return self.upper / path.lstrip("/")

    def run(
        self, script: str, stdin: str | None = None, network: bool = False, timeout: int = 60
    ) -> subprocess.CompletedProcess:
        merged = self.merged
        setup = [
            "set -e",
            f"mount -t overlay overlay -o lowerdir={self.root},upperdir={self.upper},"
            f"workdir={self.work} {merged}",
            f"mount --bind /proc {merged}/proc",
            f"mount --bind {merged}/proc/sys {merged}/proc/sys",
            f"mount -o remount,bind,ro {merged}/proc/sys",
            f"mount -t tmpfs tmpfs {merged}/run",
            f"mkdir -p {merged}/run/sshd",
            "ip link set lo up",
        ]
        if network:
            # A public interface with a default route, as on the server. A veth pair, because
            # the dummy link type needs a kernel module that may not be loaded.
            setup += [
                "ip link add eth0 type veth peer name eth1",
                "ip link set eth1 up",
                "ip link set eth0 up",
                "ip addr add 192.0.2.10/24 dev eth0",
                "ip route add default via 192.0.2.1",
            ]
        setup.append(f'exec chroot {merged} /bin/bash -c "$1"')
        unshare = shutil.which("unshare")
        return subprocess.run(  # noqa: S603 - runs this test's own commands
            [
                unshare,
                "--mount",
                "--net",
                "--",
                "/bin/sh",
                "-c",
                "\n".join(setup),
                "sandbox",
                script,
            ],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def output(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


def throwaway_host_key(sandbox: Sandbox) -> tuple[str, str]:
    result = sandbox.run(
        f"mkdir -p {SCRATCH} && ssh-keygen -q -t ed25519 -N '' -C throwaway -f {SCRATCH}/host_key"
    )
    assert result.returncode == 0, output(result)
    private = sandbox.changed(f"{SCRATCH}/host_key").read_text()
    public = sandbox.changed(f"{SCRATCH}/host_key.pub").read_text().strip()
    return private, public


def make_sandbox(tmp_path: Path) -> Sandbox:
    """Return a sandbox of the Debian 13 root, or skip (fail under HN8N_REQUIRE_TOOLS=1)."""
    root = debian_root()
    missing = [tool for tool in ("unshare", "ip") if shutil.which(tool) is None]
    if os.geteuid() != 0 or missing:
        message = "the sandbox tests need root and the unshare and ip commands"
        if os.environ.get("HN8N_REQUIRE_TOOLS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return Sandbox(root, tmp_path)
