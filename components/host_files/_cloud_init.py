"""The #cloud-config user-data that sets up the server at its first boot."""

import base64
import gzip

import yaml

from ._apply import FIRST_BOOT_COMMAND, render_manifest
from ._spec import HostFile, HostSpec, validate_spec
from ._text import comment, header

# pulumi-hcloud 1.43.3 documents Server.user_data as "limited to 32KiB".
USER_DATA_LIMIT_BYTES = 32 * 1024
VOLUME_FILESYSTEM = "ext4"
# How long the data volume's mount waits for the device to appear. The volume is attached
# right after the server is created, usually well within this time.
VOLUME_DEVICE_TIMEOUT = "300s"
# nofail: boot goes on without the volume (Docker waits for it instead).
# nodev, nosuid: the volume contains data only, no device files and no setuid programs. Not
# noexec, because n8n community nodes may load native modules from their data folder.
VOLUME_MOUNT_OPTIONS = (
    f"defaults,nofail,nodev,nosuid,x-systemd.device-timeout={VOLUME_DEVICE_TIMEOUT}"
)
PACKAGES = (
    "ufw",
    "fail2ban",
    # fail2ban's systemd backend reads the journal through python3-systemd.
    "python3-systemd",
    # fail2ban's nftables ban action runs nft, which fail2ban only recommends.
    "nftables",
    "unattended-upgrades",
    "docker.io",
    # Debian 13 ships the docker command in its own package, which docker.io only recommends.
    "docker-cli",
)
# The admin account's uid; see _users().
ADMIN_UID = 4000
_PRIVATE_KEY_BEGIN = "-----BEGIN OPENSSH PRIVATE KEY-----"


class _Dumper(yaml.SafeDumper):
    """YAML dumper that writes multi-line strings as literal blocks, as they appear on disk."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def render_user_data(
    spec: HostSpec, files: tuple[HostFile, ...], host_key_private: str, host_key_public: str
) -> str:
    """Return the first-boot user-data: render_cloud_config() gzipped and base64-encoded.

    The plain #cloud-config with every file is about twice Hetzner's 32 KiB user-data limit.
    cloud-init's Hetzner datasource base64-decodes user-data and then gunzips it
    (cloud-init 25.1, sources/DataSourceHetzner.py and user_data.convert_string), so the
    server reads the same #cloud-config. Raises ValueError for an invalid spec or host key,
    or when even the encoded form exceeds the limit.
    """
    cloud_config = render_cloud_config(spec, files, host_key_private, host_key_public)
    # mtime=0: the same files give the same user-data.
    packed = gzip.compress(cloud_config.encode(), compresslevel=9, mtime=0)
    user_data = base64.b64encode(packed).decode()
    if len(user_data) > USER_DATA_LIMIT_BYTES:
        raise ValueError(
            f"user-data is {len(user_data)} bytes after gzip and base64, over Hetzner's limit "
            f"of {USER_DATA_LIMIT_BYTES}. Move large files out of the host files."
        )
    return user_data


def render_cloud_config(
    spec: HostSpec, files: tuple[HostFile, ...], host_key_private: str, host_key_public: str
) -> str:
    """Return the #cloud-config YAML that sets up the server at its first boot.

    host_key_private/host_key_public: an ED25519 SSH host key in OpenSSH format, installed as
    the server's only host key. Raises ValueError for an invalid spec or host key.
    """
    validate_spec(spec)
    _validate_host_key(host_key_private, host_key_public)
    manifest = render_manifest(files)
    sections = [
        _users(spec),
        _ssh(host_key_private, host_key_public),
        _packages(spec),
        _mounts(spec),
        _write_files((*files, manifest)),
        _runcmd(spec),
    ]
    return "#cloud-config\n" + header() + "".join(sections)


def _validate_host_key(private: str, public: str) -> None:
    # The messages never quote the private key.
    if not private.strip().startswith(_PRIVATE_KEY_BEGIN):
        raise ValueError(f"host_key_private must be an OpenSSH private key ({_PRIVATE_KEY_BEGIN})")
    fields = public.split()
    if len(fields) < 2 or fields[0] != "ssh-ed25519" or "\n" in public.strip():
        raise ValueError("host_key_public must be one 'ssh-ed25519 AAAA...' line")


def _section(reason: str, values: dict) -> str:
    body = yaml.dump(values, Dumper=_Dumper, sort_keys=False, width=100, allow_unicode=True)
    return "\n" + comment(reason) + body


def _users(spec: HostSpec) -> str:
    admin = {
        "name": spec.admin_user,
        "gecos": "hardened-n8n admin",
        "shell": "/bin/bash",
        # Away from every uid and gid a container runs as (70, 999, 1000, 1001, 10001), so a
        # process that escapes a container owns nothing of this account. useradd gives the
        # user's own group the same number.
        "uid": ADMIN_UID,
        "sudo": "ALL=(ALL) NOPASSWD:ALL",
        "lock_passwd": True,
        "ssh_authorized_keys": list(spec.admin_ssh_keys),
    }
    reason = (
        "The only login: the admin user with its keys. It has no password (locked), so sudo\n"
        "needs none. No default user is created, and root cannot log in."
    )
    return _section(reason, {"users": [admin], "disable_root": True, "ssh_pwauth": False})


def _ssh(private: str, public: str) -> str:
    reason = (
        "Install the host key the deploy program pins, so the first connection is already\n"
        "verified. Delete the image's keys. With ssh_keys set, cloud-init generates no other\n"
        "keys (cloud-init 25.1, cc_ssh.py)."
    )
    keys = {"ed25519_private": private.strip() + "\n", "ed25519_public": public.strip()}
    return _section(reason, {"ssh_deletekeys": True, "ssh_keys": keys})


def _packages(spec: HostSpec) -> str:
    reason = (
        "Packages from Debian 13, upgraded once at first boot. unattended-upgrades keeps up\n"
        "with security updates later. apt-listchanges is left out: it needs a mail setup to\n"
        "be read."
    )
    values = {
        "timezone": spec.timezone,
        "package_update": True,
        "package_upgrade": True,
        "packages": list(PACKAGES),
    }
    return _section(reason, values)


def _mounts(spec: HostSpec) -> str:
    reason = (
        "Mount the data volume by its stable id. Options: " + VOLUME_MOUNT_OPTIONS + ".\n"
        "docker.service waits for this mount (RequiresMountsFor in its drop-in)."
    )
    entry = [spec.volume_device, spec.data_mount, VOLUME_FILESYSTEM, VOLUME_MOUNT_OPTIONS, "0", "2"]
    return _section(reason, {"mounts": [entry]})


def _write_files(files: tuple[HostFile, ...]) -> str:
    reason = (
        "Every host file. write_files runs before packages are installed, so sshd, Docker and\n"
        "fail2ban start with these settings."
    )
    entries = [
        {"path": f.path, "owner": "root:root", "permissions": f.mode, "content": f.content}
        for f in sorted(files, key=lambda f: f.path)
    ]
    return _section(reason, {"write_files": entries})


def _runcmd(spec: HostSpec) -> str:
    reason = (
        "After the packages are installed: join the admin user to docker.io's own docker group\n"
        "(a system group, so its gid is no container's), validate the files, enable UFW and the\n"
        "units, and reload what they configure. A failure fails cloud-init, which\n"
        "n8n-host-ready reports. The deploy talks to Docker over SSH as the admin user; sudo\n"
        "already makes that user root, so the docker group grants nothing more."
    )
    join_docker = ["usermod", "--append", "--groups", "docker", spec.admin_user]
    return _section(reason, {"runcmd": [join_docker, list(FIRST_BOOT_COMMAND)]})
