"""The hardened defaults every container of the deployment is built from.

No component creates a docker.Container directly: each goes through `hardened_container`, so a
new container gets every setting below, and the policy rules check that none was lost.
"""

from dataclasses import dataclass, field

import pulumi
import pulumi_docker as docker

from components.services import ServicePlan

IMAGE_LABEL = "hardened-n8n.image"
SERVICE_LABEL = "hardened-n8n.service"

# json-file keeps `docker logs` working; without rotation one noisy container fills the disk.
# Check numbers below are those of the CIS Docker Benchmark v1.6.0, section 5 unless noted.
LOG_DRIVER = "json-file"
LOG_OPTIONS = {"max-size": "10m", "max-file": "5"}

# Scratch space on tmpfs, since the root filesystem is read-only. noexec and nosuid: nothing
# written at run time can be executed or gain privileges.
SCRATCH_OPTIONS = "rw,noexec,nosuid,nodev,size=64m"
SHARED_SCRATCH = ("/tmp", "/var/tmp")

# CIS 5.15 suggests on-failure:5; a payment pipeline must come back after any stop, and the
# health checks and `wait` surface a crash loop instead.
RESTART_POLICY = "unless-stopped"


@dataclass(frozen=True)
class Healthcheck:
    test: list[str]
    interval: str = "30s"
    timeout: str = "5s"
    retries: int = 3
    start_period: str = "60s"


@dataclass(frozen=True)
class ContainerConfig:
    """The settings that differ between containers; `hardened_container` fixes the rest."""

    image_ref: str
    healthcheck: Healthcheck
    envs: pulumi.Input[list[str]] | None = None
    command: list[str] | None = None
    # Capabilities added back after dropping all, each with the reason it is needed.
    capabilities: dict[str, str] = field(default_factory=dict)
    sysctls: dict[str, str] = field(default_factory=dict)
    ports: list[docker.ContainerPortArgs] = field(default_factory=list)
    read_only_files: dict[str, str] = field(default_factory=dict)  # host path -> container path
    # Changes when a mounted file changes, so the container is replaced and rereads it.
    config_digest: str | None = None


def hardened_container(
    plan: ServicePlan,
    config: ContainerConfig,
    image: docker.RemoteImage,
    networks: dict[str, docker.Network],
    opts: pulumi.ResourceOptions,
) -> docker.Container:
    """Declare one container with the project's hardening applied."""
    labels = {SERVICE_LABEL: plan.name, IMAGE_LABEL: config.image_ref}
    if config.config_digest:
        labels["hardened-n8n.config-digest"] = config.config_digest
    return docker.Container(
        plan.name,
        name=plan.name,
        image=image.image_id,
        envs=config.envs,
        command=config.command,
        # CIS 4.1 (a user for the container): a fixed non-root uid:gid, not the image's default.
        user=plan.user_spec,
        # CIS 5.13 (root filesystem read-only): writes go to tmpfs or the data volume.
        read_only=True,
        tmpfs=_scratch(plan),
        volumes=_volumes(plan, config),
        # CIS 5.4 (capabilities restricted): drop all, add back only what is listed.
        capabilities=docker.ContainerCapabilitiesArgs(
            drops=["ALL"], adds=sorted(config.capabilities) or None
        ),
        # CIS 5.26 (no additional privileges): setuid binaries gain nothing.
        security_opts=["no-new-privileges:true"],
        privileged=False,  # CIS 5.5 (privileged containers not used)
        # CIS 5.10, 5.16, 5.17, 5.30: own network, PID and IPC namespaces, never docker0.
        # The container starts on its first network and joins the others before it starts.
        # Listing the first one again would make the provider connect it twice, which Docker
        # rejects. Other containers reach it by its container name on every user network.
        network_mode=networks[plan.networks[0]].name,
        networks_advanced=[
            docker.ContainerNetworksAdvancedArgs(name=networks[n].name) for n in plan.networks[1:]
        ]
        or None,
        ipc_mode="private",
        # CIS 5.11 (memory usage limited), with no swap beyond the limit.
        memory=plan.memory_mb,
        memory_swap=plan.memory_mb,
        # CIS 5.29 (PIDs cgroup limit): pulumi-docker has no pids_limit argument, so the
        # container runs in its own systemd slice, whose TasksMax the host files set.
        cgroup_parent=plan.slice_name,
        sysctls=config.sysctls or None,
        ports=config.ports or None,
        restart=RESTART_POLICY,
        healthcheck=_healthcheck(config.healthcheck),  # CIS 5.27 (health checked at runtime)
        log_driver=LOG_DRIVER,
        log_opts=LOG_OPTIONS,
        labels=[docker.ContainerLabelArgs(label=k, value=v) for k, v in sorted(labels.items())],
        # Fail the deployment while a container is unhealthy instead of reporting success.
        wait=True,
        wait_timeout=300,
        stop_timeout=30,
        destroy_grace_seconds=30,
        opts=opts,
    )


def _scratch(plan: ServicePlan) -> dict[str, str]:
    uid, gid = plan.user
    scratch = {path: f"{SCRATCH_OPTIONS},mode=1777" for path in SHARED_SCRATCH}
    for path in plan.scratch:
        scratch[path] = f"{SCRATCH_OPTIONS},uid={uid},gid={gid},mode=0700"
    return scratch


def _volumes(plan: ServicePlan, config: ContainerConfig) -> list[docker.ContainerVolumeArgs] | None:
    volumes = [
        docker.ContainerVolumeArgs(host_path=m.host_path, container_path=m.container_path)
        for m in plan.data
    ]
    volumes += [
        docker.ContainerVolumeArgs(host_path=host, container_path=inside, read_only=True)
        for host, inside in sorted(config.read_only_files.items())
    ]
    return volumes or None


def _healthcheck(check: Healthcheck) -> docker.ContainerHealthcheckArgs:
    return docker.ContainerHealthcheckArgs(
        tests=check.test,
        interval=check.interval,
        timeout=check.timeout,
        retries=check.retries,
        start_period=check.start_period,
    )
