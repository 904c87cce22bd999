"""Settings of the host files, and their validation before anything is rendered."""

import ipaddress
import posixpath
import re
from dataclasses import dataclass

from components.checks import SSH_KEY_TYPES, check_clock_time

# Login names that useradd accepts on Debian without --badname.
_USER_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
# Paths end up in systemd unit lines, fstab and shell scripts, so they stay free of spaces,
# quotes and shell metacharacters.
_SAFE_PATH = re.compile(r"^/[A-Za-z0-9._/-]*$")
# A dash in a slice name nests the slice ("a-b.slice" lives in "a.slice"), so one is allowed.
_SLICE_NAME = re.compile(r"^[A-Za-z0-9_]+(-[A-Za-z0-9_]+)?\.slice$")
_MODE = re.compile(r"^0[0-7]{3}$")
# journald size values: bytes with an optional K, M, G or T suffix (journald.conf(5)).
_JOURNAL_SIZE = re.compile(r"^[1-9][0-9]*[KMGT]?$")
_TIMEZONE = re.compile(r"^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$")
_PROTOCOLS = ("tcp", "udp")


@dataclass(frozen=True)
class DataDir:
    """A folder on the data volume that one container writes."""

    path: str
    uid: int
    gid: int
    mode: str = "0750"


@dataclass(frozen=True)
class Slice:
    """A systemd slice a container runs in, whose TasksMax is the container's process limit."""

    name: str
    tasks_max: int


@dataclass(frozen=True)
class HostSpec:
    """Everything about the server that the host files depend on."""

    admin_user: str
    admin_ssh_keys: tuple[str, ...]
    admin_cidrs: tuple[str, ...]
    volume_device: str
    data_mount: str
    data_dirs: tuple[DataDir, ...]
    slices: tuple[Slice, ...]
    auto_reboot: bool
    reboot_time: str
    timezone: str
    journal_max_use: str = "1G"
    ssh_port: int = 22
    published_ports: tuple[tuple[int, str], ...] = ((80, "tcp"), (443, "tcp"), (443, "udp"))


@dataclass(frozen=True)
class HostFile:
    """A file installed on the server: absolute path, text content, octal mode."""

    path: str
    content: str
    mode: str = "0644"


def validate_spec(spec: HostSpec) -> None:
    """Raise ValueError listing every invalid field of the spec, or return None."""
    problems = [
        *_user_problems(spec),
        *_network_problems(spec),
        *_storage_problems(spec),
        *_slice_problems(spec.slices),
        *_schedule_problems(spec),
    ]
    if problems:
        raise ValueError("invalid host settings:\n" + "\n".join(f"- {p}" for p in problems))


def admin_networks(spec: HostSpec) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Return the admin CIDRs of a valid spec as networks."""
    return tuple(ipaddress.ip_network(cidr) for cidr in spec.admin_cidrs)


def _user_problems(spec: HostSpec) -> list[str]:
    problems = []
    if not _USER_NAME.fullmatch(spec.admin_user) or spec.admin_user == "root":
        problems.append(
            f"admin_user {spec.admin_user!r} must be a lower-case login name other than root"
        )
    if not spec.admin_ssh_keys:
        problems.append("admin_ssh_keys is empty: the admin user logs in with a key only")
    for key in spec.admin_ssh_keys:
        fields = key.split()
        if "\n" in key or len(fields) < 2 or fields[0] not in SSH_KEY_TYPES:
            problems.append(
                f"admin_ssh_keys entry {key[:40]!r} is not one OpenSSH public key line "
                f"of a type in {', '.join(SSH_KEY_TYPES)}"
            )
    return problems


def _network_problems(spec: HostSpec) -> list[str]:
    problems = []
    if not spec.admin_cidrs:
        problems.append("admin_cidrs is empty: nobody could reach SSH")
    for cidr in spec.admin_cidrs:
        try:
            ipaddress.ip_network(cidr)
        except ValueError as error:
            problems.append(f"admin_cidrs entry {cidr!r} is not a network address: {error}")
    if not 1 <= spec.ssh_port <= 65535:
        problems.append(f"ssh_port {spec.ssh_port} is outside 1-65535")
    for port, protocol in spec.published_ports:
        if not 1 <= port <= 65535 or protocol not in _PROTOCOLS:
            problems.append(
                f"published_ports entry {port}/{protocol} needs a port 1-65535, tcp/udp"
            )
    if len(set(spec.published_ports)) != len(spec.published_ports):
        problems.append("published_ports lists a port twice")
    return problems


def _storage_problems(spec: HostSpec) -> list[str]:
    problems = []
    if not spec.volume_device.startswith("/dev/disk/by-id/") or not _SAFE_PATH.fullmatch(
        spec.volume_device
    ):
        problems.append(
            f"volume_device {spec.volume_device!r} must be a /dev/disk/by-id/ path, which stays "
            "the same when the volume is attached again"
        )
    if not _is_clean_path(spec.data_mount) or spec.data_mount == "/":
        problems.append(f"data_mount {spec.data_mount!r} must be an absolute path other than /")
    seen = set()
    for data_dir in spec.data_dirs:
        problems.extend(_data_dir_problems(data_dir, spec.data_mount))
        if data_dir.path in seen:
            problems.append(f"data_dirs lists {data_dir.path} twice")
        seen.add(data_dir.path)
    return problems


def _data_dir_problems(data_dir: DataDir, data_mount: str) -> list[str]:
    problems = []
    inside_mount = data_dir.path.startswith(data_mount.rstrip("/") + "/")
    if not _is_clean_path(data_dir.path) or not inside_mount:
        problems.append(f"data_dirs path {data_dir.path!r} must be a clean path under {data_mount}")
    if data_dir.uid < 0 or data_dir.gid < 0:
        problems.append(f"data_dirs {data_dir.path}: uid and gid must not be negative")
    if not _MODE.fullmatch(data_dir.mode):
        problems.append(f"data_dirs {data_dir.path}: mode {data_dir.mode!r} is not like '0750'")
    elif int(data_dir.mode, 8) & 0o002:
        problems.append(f"data_dirs {data_dir.path}: mode {data_dir.mode} is world-writable")
    return problems


def _slice_problems(slices: tuple[Slice, ...]) -> list[str]:
    problems = []
    for slice_ in slices:
        if not _SLICE_NAME.fullmatch(slice_.name):
            problems.append(
                f"slices name {slice_.name!r} must look like 'n8n-postgres.slice' "
                "(letters, digits, _ and at most one dash)"
            )
        if slice_.tasks_max < 1:
            problems.append(f"slices {slice_.name}: tasks_max must be at least 1")
    names = [slice_.name for slice_ in slices]
    if len(set(names)) != len(names):
        problems.append("slices lists a slice name twice")
    return problems


def _schedule_problems(spec: HostSpec) -> list[str]:
    problems = []
    if check_clock_time(spec.reboot_time):
        problems.append(f"reboot_time {spec.reboot_time!r} must be HH:MM (24-hour clock)")
    if not _TIMEZONE.fullmatch(spec.timezone):
        problems.append(f"timezone {spec.timezone!r} must be a zone name like 'UTC'")
    if not _JOURNAL_SIZE.fullmatch(spec.journal_max_use):
        problems.append(
            f"journal_max_use {spec.journal_max_use!r} must be a size like '1G' (K, M, G, T)"
        )
    return problems


def _is_clean_path(path: str) -> bool:
    return bool(_SAFE_PATH.fullmatch(path)) and posixpath.normpath(path) == path
