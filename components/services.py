"""The containers of the deployment, as plain data computed from the settings.

Both the host (which creates each container's data folder and process-limit slice) and the
container resources are built from this one plan, so the two cannot disagree.
"""

from dataclasses import dataclass, field

# Images pinned to exact releases. n8n and its task runners must carry the same version.
POSTGRES_IMAGE = "postgres:17.6-alpine"
REDIS_IMAGE = "redis:8.2.1-alpine"
CADDY_IMAGE = "caddy:2.10.2-alpine"
N8N_IMAGE = "n8nio/n8n"
RUNNERS_IMAGE = "n8nio/runners"

DATA_MOUNT = "/srv/n8n-data"
# Files the program renders for containers (the Caddyfile); delivered with the host files.
CONFIG_DIR = "/etc/hardened-n8n"

# Numeric users: the official images' own service users, so files they create keep one owner.
POSTGRES_USER = (70, 70)  # "postgres" in the Alpine image
REDIS_USER = (999, 1000)  # "redis" in the Alpine image
NODE_USER = (1000, 1000)  # "node" in the n8n image
RUNNER_USER = (1000, 1000)  # "runner" in the n8nio/runners image
CADDY_USER = (1001, 1001)  # no user in the Caddy image; any non-root id that owns /data
GATEWAY_USER = (10001, 10001)  # set by gateway/Dockerfile

N8N_PORT = 5678
BROKER_PORT = 5679
RUNNER_HEALTH_PORT = 5680
GATEWAY_PORT = 8080


@dataclass(frozen=True)
class DataMount:
    """A folder on the data volume bind-mounted into one container."""

    host_path: str
    container_path: str


@dataclass(frozen=True)
class ServicePlan:
    name: str
    role: str
    image: str
    user: tuple[int, int]
    memory_mb: int
    tasks_max: int
    networks: tuple[str, ...]
    data: tuple[DataMount, ...] = ()
    # Extra writable paths the image needs, besides /tmp and /var/tmp, as tmpfs.
    scratch: tuple[str, ...] = ()
    publishes_ports: bool = False
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def slice_name(self) -> str:
        # A dash in a slice name nests it under a parent slice, so the container name loses its
        # dashes: "n8n-worker-1" runs in "hn8n-n8nworker1.slice".
        return "hn8n-" + self.name.replace("-", "") + ".slice"

    @property
    def user_spec(self) -> str:
        return f"{self.user[0]}:{self.user[1]}"


# Network names. "backend" (internal: no route out) joins Postgres and Redis to their clients.
# "runners" (internal) joins each task runner to its n8n process and to nothing else, so code
# run by a Code node reaches neither the database nor the internet. "egress" lets n8n reach the
# internet for workflow HTTP calls. "edge" joins the proxy to the services it routes to.
BACKEND = "backend"
RUNNERS = "runners"
EGRESS = "egress"
EDGE = "edge"
INTERNAL_NETWORKS = (BACKEND, RUNNERS)
NETWORKS = (BACKEND, RUNNERS, EGRESS, EDGE)


def plan_services(
    n8n_version: str, worker_count: int, with_gateway: bool
) -> tuple[ServicePlan, ...]:
    """List every container, in the order they depend on each other."""
    plans = [
        ServicePlan(
            "postgres",
            "postgres",
            POSTGRES_IMAGE,
            POSTGRES_USER,
            memory_mb=1024,
            tasks_max=256,
            networks=(BACKEND,),
            data=(DataMount(f"{DATA_MOUNT}/postgres", "/var/lib/postgresql/data"),),
            scratch=("/var/run/postgresql",),
        ),
        ServicePlan(
            "redis",
            "redis",
            REDIS_IMAGE,
            REDIS_USER,
            memory_mb=512,
            tasks_max=64,
            networks=(BACKEND,),
            data=(DataMount(f"{DATA_MOUNT}/redis", "/data"),),
        ),
        _n8n_plan("n8n-main", "n8n-main", n8n_version, with_edge=True),
        _runner_plan("n8n-runner-main", n8n_version),
    ]
    for index in range(1, worker_count + 1):
        plans.append(_n8n_plan(f"n8n-worker-{index}", "n8n-worker", n8n_version, with_edge=False))
        plans.append(_runner_plan(f"n8n-runner-worker-{index}", n8n_version))
    if with_gateway:
        plans.append(
            ServicePlan(
                "webhook-gateway",
                "gateway",
                "hardened-n8n/webhook-gateway",
                GATEWAY_USER,
                memory_mb=256,
                tasks_max=64,
                networks=(EDGE, BACKEND),
            )
        )
    plans.append(
        ServicePlan(
            "caddy",
            "proxy",
            CADDY_IMAGE,
            CADDY_USER,
            memory_mb=256,
            tasks_max=128,
            networks=(EDGE,),
            data=(
                DataMount(f"{DATA_MOUNT}/caddy/data", "/data"),
                DataMount(f"{DATA_MOUNT}/caddy/config", "/config"),
            ),
            publishes_ports=True,
        )
    )
    return tuple(plans)


def _n8n_plan(name: str, role: str, version: str, with_edge: bool) -> ServicePlan:
    networks = (BACKEND, RUNNERS, EGRESS, EDGE) if with_edge else (BACKEND, RUNNERS, EGRESS)
    # Only main keeps files: its settings file and the instance id. Workers get the encryption
    # key from the environment and store binary data in the database (queue mode's default).
    data = (DataMount(f"{DATA_MOUNT}/n8n", "/home/node/.n8n"),) if role == "n8n-main" else ()
    return ServicePlan(
        name,
        role,
        f"{N8N_IMAGE}:{version}",
        NODE_USER,
        memory_mb=1536 if role == "n8n-main" else 1024,
        tasks_max=256,
        networks=networks,
        data=data,
        scratch=("/home/node/.cache",) if data else ("/home/node/.cache", "/home/node/.n8n"),
    )


def _runner_plan(name: str, version: str) -> ServicePlan:
    return ServicePlan(
        name,
        "task-runner",
        f"{RUNNERS_IMAGE}:{version}",
        RUNNER_USER,
        memory_mb=512,
        tasks_max=128,
        networks=(RUNNERS,),
        scratch=("/home/runner/.cache",),
    )


def data_folders(plans: tuple[ServicePlan, ...]) -> list[tuple[str, tuple[int, int]]]:
    """Return each data folder on the volume with the uid:gid that must own it."""
    return [(mount.host_path, plan.user) for plan in plans for mount in plan.data]
