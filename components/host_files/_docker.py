"""Docker daemon settings, its start order, the container slices and the data folders."""

import json

from ._spec import DataDir, HostFile, HostSpec, Slice
from ._text import HEADER, Setting, render_file, render_unit

DAEMON_JSON = "/etc/docker/daemon.json"
DAEMON_NOTES = "/etc/docker/daemon.json.md"
DOCKER_DROP_IN = "/etc/systemd/system/docker.service.d/10-hardened-n8n.conf"
DATA_DIRS_UNIT = "/etc/systemd/system/n8n-data-dirs.service"
UNIT_DIR = "/etc/systemd/system"

# Each daemon.json key with the reason for it. JSON has no comments, so the reasons go to
# daemon.json.md next to it. Ids are CIS Docker Benchmark v1.6.0 recommendations.
DAEMON_SETTINGS: tuple[tuple[str, object, str], ...] = (
    (
        "icc",
        False,
        "Containers on the default bridge cannot talk to each other (CIS Docker 2.2). The "
        "services talk over their own user-defined networks, which this does not affect.",
    ),
    (
        "no-new-privileges",
        True,
        "No process in a container can gain privileges through setuid or file capabilities "
        "(CIS Docker 2.14).",
    ),
    (
        "live-restore",
        True,
        "Containers keep running while dockerd restarts, for example during a docker.io "
        "upgrade or after a daemon.json change (CIS Docker 2.15).",
    ),
    (
        "userland-proxy",
        False,
        "Published ports are DNAT rules, not docker-proxy processes, so the DOCKER-USER chain "
        "sees and filters them (CIS Docker 2.16). Side effect: published ports respond on IPv4 "
        "only, because Docker 26 adds IPv6 NAT rules only with the experimental ip6tables "
        "option.",
    ),
    (
        "log-level",
        "info",
        "Daemon logs at info level, enough to audit without debug noise (CIS Docker 2.3).",
    ),
    (
        "log-driver",
        "json-file",
        "Container logs stay on the host, readable with `docker logs`. CIS Docker 2.13 asks for "
        "remote logging, which this project does not configure.",
    ),
    (
        "log-opts",
        {"max-size": "10m", "max-file": "5"},
        "Each container keeps at most 5 log files of 10 MB, so logs cannot fill the disk.",
    ),
    (
        "exec-opts",
        ["native.cgroupdriver=systemd"],
        "systemd manages the container cgroups, so a container started with cgroup_parent set "
        "to a slice name runs inside that slice and its TasksMax (CIS Docker 2.10, 5.28).",
    ),
)

# Keys left out of daemon.json on purpose, with the reason, which the notes list too.
DAEMON_OMISSIONS: tuple[tuple[str, str], ...] = (
    (
        "userns-remap",
        "Not set (CIS Docker 2.9 is not met). The containers already run as fixed non-root "
        "uids that own their folders on the data volume. Remapping would shift those owners on "
        "disk to a subordinate uid range.",
    ),
)


def render_docker_files(spec: HostSpec) -> tuple[HostFile, ...]:
    # A oneshot service needs at least one ExecStart, so no data folders means no unit.
    data_dirs_unit = (_render_data_dirs_unit(spec),) if spec.data_dirs else ()
    return (
        _render_daemon_json(),
        _render_daemon_notes(),
        _render_docker_drop_in(spec),
        *data_dirs_unit,
        *(render_slice(slice_) for slice_ in spec.slices),
    )


def slice_path(slice_: Slice) -> str:
    return f"{UNIT_DIR}/{slice_.name}"


def render_slice(slice_: Slice) -> HostFile:
    intro = (
        f"Slice for the containers started with cgroup_parent={slice_.name}. pulumi-docker\n"
        "5.2.0's Container has no pids_limit, so this slice's TasksMax is their process limit\n"
        "(CIS Docker 5.28)."
    )
    body = render_unit(
        {
            "Unit": [Setting("", f"Description=hardened-n8n containers in {slice_.name}")],
            "Slice": [
                Setting(
                    "Most processes and threads all containers in this slice may run together.",
                    f"TasksMax={slice_.tasks_max}",
                )
            ],
        }
    )
    return HostFile(slice_path(slice_), render_file(intro, body))


def _render_daemon_json() -> HostFile:
    # daemon.json cannot hold the generated-by header: dockerd rejects unknown keys. The header
    # and the reasons are in daemon.json.md. CIS Docker 3.17/3.18: root-owned, mode 0644.
    settings = {key: value for key, value, _ in DAEMON_SETTINGS}
    return HostFile(DAEMON_JSON, json.dumps(settings, indent=2) + "\n", "0644")


def _render_daemon_notes() -> HostFile:
    lines = [
        f"<!-- {HEADER} -->",
        "# /etc/docker/daemon.json",
        "",
        "JSON cannot hold comments, so the reason for each key is here. CIS ids refer to the",
        "CIS Docker Benchmark v1.6.0. n8n-host-apply checks the file with",
        "`dockerd --validate --config-file` before installing it.",
        "",
    ]
    lines += [
        f"- `{key}`: `{json.dumps(value)}`. {reason}" for key, value, reason in DAEMON_SETTINGS
    ]
    lines += [f"- `{key}`: {reason}" for key, reason in DAEMON_OMISSIONS]
    return HostFile(DAEMON_NOTES, "\n".join(lines) + "\n")


def _render_docker_drop_in(spec: HostSpec) -> HostFile:
    intro = "Start order of docker.service on the hardened-n8n host."
    reason = (
        "The data volume is attached just after the server is created and may appear after\n"
        "boot has started. Docker must not start before it is mounted, or containers would\n"
        "write their data to the root disk under the mount point. The mount waits for the\n"
        "device (x-systemd.device-timeout in /etc/fstab). If it never comes, Docker fails\n"
        "to start instead."
    )
    body = render_unit({"Unit": [Setting(reason, f"RequiresMountsFor={spec.data_mount}")]})
    return HostFile(DOCKER_DROP_IN, render_file(intro, body))


def _render_data_dirs_unit(spec: HostSpec) -> HostFile:
    intro = (
        "Creates the data folders on the data volume with the owner and mode of the container\n"
        "that writes each of them, after the volume is mounted and before Docker starts.\n"
        "install -d also resets owner and mode of a folder that exists already."
    )
    creates = [
        Setting(
            "" if index else "One folder each, with the owner and mode of its container.",
            _install_line(data_dir),
        )
        for index, data_dir in enumerate(spec.data_dirs)
    ]
    body = render_unit(
        {
            "Unit": [
                Setting("", "Description=Create the n8n data folders on the data volume"),
                Setting(
                    "The folders live on the volume, so wait for its mount.",
                    f"RequiresMountsFor={spec.data_mount}",
                ),
                Setting(
                    "Containers find their folders with the right owner at their first start.",
                    "Before=docker.service",
                ),
            ],
            "Service": [
                Setting("Runs its commands once and exits.", "Type=oneshot"),
                Setting(
                    "Counts as active afterwards, so a start after this one does nothing.",
                    "RemainAfterExit=yes",
                ),
                *creates,
            ],
            "Install": [Setting("Runs whenever Docker starts.", "WantedBy=docker.service")],
        }
    )
    return HostFile(DATA_DIRS_UNIT, render_file(intro, body))


def _install_line(data_dir: DataDir) -> str:
    return (
        f"ExecStart=/usr/bin/install -d -o {data_dir.uid} -g {data_dir.gid} "
        f"-m {data_dir.mode} {data_dir.path}"
    )
