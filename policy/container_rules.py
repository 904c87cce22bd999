"""Rules every container must satisfy (CIS Docker Benchmark v1.6.0 numbering)."""

import re

from components import services
from policy.model import CONTAINER, REMOTE_IMAGE, Resource, items, labels, rule

IMAGE_LABEL = "hardened-n8n.image"
SERVICE_LABEL = "hardened-n8n.service"
PROXY_SERVICE = "caddy"
PROXY_PORTS = {(80, "tcp"), (443, "tcp"), (443, "udp")}
# Capabilities a container may add back after dropping all, with the reason.
ALLOWED_CAPABILITIES = {
    "NET_BIND_SERVICE": "binding a port below 1024 as a non-root user",
}
SCRATCH_PATHS = ("/tmp", "/var/tmp")
SLICE = re.compile(r"^hn8n-[a-z0-9]+\.slice$")
USER = re.compile(r"^(\d+):(\d+)$")
DOCKER_SOCKETS = ("docker.sock", "containerd.sock", "podman.sock")
# Host folders a container may mount: its data on the volume, and read-only rendered config.
WRITABLE_ROOT = services.DATA_MOUNT + "/"
READ_ONLY_ROOT = services.CONFIG_DIR + "/"


@rule(
    "container-non-root",
    (CONTAINER,),
    "Runs as an explicit non-root uid:gid",
    "CIS 4.1: a process that escapes as root owns the host",
)
def non_root(resource: Resource, _config):
    user = resource.inputs.get("user")
    match = USER.fullmatch(str(user or ""))
    if not match:
        yield f"user is {user!r}; set an explicit numeric non-root uid:gid such as 1000:1000"
    elif "0" in (match.group(1), match.group(2)):
        yield f"user {user} runs as root (uid or gid 0); use the image's service user"


@rule(
    "container-read-only-root",
    (CONTAINER,),
    "Root filesystem is read-only",
    "CIS 5.13: an intruder cannot change the image's binaries or plant files",
)
def read_only_root(resource: Resource, _config):
    if resource.inputs.get("readOnly") is not True:
        yield "readOnly is not true; set read_only=True and give writable paths a tmpfs"


@rule(
    "container-tmpfs-scratch",
    (CONTAINER,),
    "/tmp and /var/tmp are tmpfs with noexec,nosuid",
    "A read-only container still needs scratch space that cannot host executables",
)
def tmpfs_scratch(resource: Resource, _config):
    tmpfs = resource.inputs.get("tmpfs") or {}
    for path in SCRATCH_PATHS:
        if path not in tmpfs:
            yield f"tmpfs has no {path}; mount it with noexec,nosuid"
    for path in tmpfs:
        options = str(tmpfs[path]).split(",")
        for required in ("noexec", "nosuid"):
            if required not in options:
                yield f"tmpfs {path} lacks {required}"


@rule(
    "container-capabilities-dropped",
    (CONTAINER,),
    "Drops ALL capabilities, adds back only allowed ones",
    "CIS 5.4: each capability is a piece of root the service does not need",
)
def capabilities_dropped(resource: Resource, _config):
    capabilities = resource.inputs.get("capabilities") or {}
    if "ALL" not in [str(c).upper() for c in items(capabilities.get("drops"))]:
        yield "capabilities.drops does not contain ALL"
    for added in items(capabilities.get("adds")):
        if str(added).upper().removeprefix("CAP_") not in ALLOWED_CAPABILITIES:
            yield f"adds capability {added}, which is not in the allowed list"


@rule(
    "container-no-new-privileges",
    (CONTAINER,),
    "no-new-privileges is set",
    "CIS 5.26: setuid binaries and file capabilities gain nothing",
)
def no_new_privileges(resource: Resource, _config):
    options = [str(o).replace("=", ":") for o in items(resource.inputs.get("securityOpts"))]
    if "no-new-privileges:true" not in options and "no-new-privileges" not in options:
        yield "securityOpts lacks no-new-privileges:true"


@rule(
    "container-isolated",
    (CONTAINER,),
    "Not privileged; no host network, PID, IPC or user namespace",
    "CIS 5.5, 5.10, 5.16, 5.17, 5.31: sharing a host namespace removes the container boundary",
)
def isolated(resource: Resource, _config):
    inputs = resource.inputs
    if inputs.get("privileged") is True:
        yield "privileged is true"
    for key in ("networkMode", "pidMode", "ipcMode", "usernsMode", "cgroupnsMode"):
        if str(inputs.get(key) or "") == "host":
            yield f"{key} is host"
    if not inputs.get("networkMode") or str(inputs.get("networkMode")) in ("bridge", "default"):
        yield "networkMode is Docker's default bridge; attach the container to a project network"
    if items(inputs.get("devices")):
        yield "host devices are mapped into the container"


@rule(
    "container-no-docker-socket",
    (CONTAINER,),
    "No Docker or containerd socket is mounted",
    "CIS 5.32: the socket is root on the host",
)
def no_docker_socket(resource: Resource, _config):
    for source, _target, _read_only in _mounts(resource):
        if any(source.endswith(name) for name in DOCKER_SOCKETS) or source in ("/run", "/var/run"):
            yield f"mounts {source}, which exposes the container engine"


@rule(
    "container-mounts-confined",
    (CONTAINER,),
    "Writable mounts only under the data volume; read-only ones only from the rendered config",
    "CIS 5.6: host system folders stay out of containers",
)
def mounts_confined(resource: Resource, _config):
    for source, target, read_only in _mounts(resource):
        if source.startswith(WRITABLE_ROOT):
            continue
        if read_only and source.startswith(READ_ONLY_ROOT):
            continue
        yield f"mounts {source} at {target}; only {WRITABLE_ROOT} (or read-only {READ_ONLY_ROOT})"


def _mounts(resource: Resource):
    for volume in items(resource.inputs.get("volumes")):
        yield (
            str(volume.get("hostPath") or volume.get("volumeName") or ""),
            str(volume.get("containerPath")),
            volume.get("readOnly") is True,
        )
    for mount in items(resource.inputs.get("mounts")):
        yield (
            str(mount.get("source") or ""),
            str(mount.get("target")),
            mount.get("readOnly") is True,
        )


@rule(
    "container-resource-limits",
    (CONTAINER,),
    "Memory limit, no extra swap, and a process-limit slice",
    "CIS 5.11, 5.29: one runaway process or fork bomb cannot starve the others",
)
def resource_limits(resource: Resource, _config):
    memory = resource.inputs.get("memory")
    if not isinstance(memory, (int, float)) or memory <= 0:
        yield "memory is not set; give the container a memory limit in MB"
    elif resource.inputs.get("memorySwap") != memory:
        yield "memorySwap differs from memory; the container could swap past its limit"
    parent = str(resource.inputs.get("cgroupParent") or "")
    if not SLICE.fullmatch(parent):
        yield f"cgroupParent {parent!r} is not a hn8n-*.slice whose TasksMax limits processes"


@rule(
    "container-health-check",
    (CONTAINER,),
    "Has a health check",
    "CIS 5.27: Docker and the deployment see a hung service",
)
def health_check(resource: Resource, _config):
    check = resource.inputs.get("healthcheck") or {}
    tests = [str(t) for t in items(check.get("tests"))]
    if not tests or tests[0] == "NONE":
        yield "healthcheck.tests is empty"


@rule(
    "container-restart-policy",
    (CONTAINER,),
    "Restarts after a crash or reboot",
    "A payment pipeline must come back on its own",
    severity="medium",
)
def restart_policy(resource: Resource, _config):
    restart = str(resource.inputs.get("restart") or "no")
    if restart not in ("unless-stopped", "always") and not restart.startswith("on-failure"):
        yield f"restart is {restart!r}; use unless-stopped"


@rule(
    "container-log-rotation",
    (CONTAINER,),
    "Logs rotate by size",
    "Unrotated logs fill the disk and stop Postgres",
    severity="medium",
)
def log_rotation(resource: Resource, _config):
    options = resource.inputs.get("logOpts") or {}
    if str(resource.inputs.get("logDriver") or "") not in ("json-file", "local"):
        yield "logDriver is not json-file or local"
    for key in ("max-size", "max-file"):
        if key not in options:
            yield f"logOpts lacks {key}"


@rule(
    "image-pinned",
    (CONTAINER, REMOTE_IMAGE),
    "Images are pinned to an exact version, never latest",
    "An unpinned tag deploys whatever was pushed last",
)
def image_pinned(resource: Resource, _config):
    if resource.type == REMOTE_IMAGE:
        reference = str(resource.inputs.get("name") or "")
    else:
        reference = labels(resource.inputs).get(IMAGE_LABEL, "")
    repository, _, tag = reference.rpartition(":")
    if "@sha256:" in reference:
        return
    if (
        not repository
        or "/" in tag
        or tag in ("", "latest", "stable", "next")
        or not any(c.isdigit() for c in tag)
    ):
        yield f"image {reference!r} is not pinned to a versioned tag"


@rule(
    "container-ports-proxy-only",
    (CONTAINER,),
    "Only the proxy publishes ports: 80/tcp, 443/tcp, 443/udp",
    "Published ports bypass UFW; everything else is reached through the proxy",
)
def ports_proxy_only(resource: Resource, _config):
    ports = items(resource.inputs.get("ports"))
    if not ports:
        return
    service = labels(resource.inputs).get(SERVICE_LABEL, resource.name)
    if service != PROXY_SERVICE:
        yield f"publishes ports but is not the proxy ({service})"
        return
    for port in ports:
        published = (
            int(port.get("external") or port.get("internal")),
            str(port.get("protocol") or "tcp"),
        )
        if published not in PROXY_PORTS:
            yield f"publishes {published[0]}/{published[1]}, which the firewalls do not allow"
