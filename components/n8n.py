"""n8n in queue mode: networks, Postgres, Redis, main, workers and their task runners."""

import pulumi
import pulumi_docker as docker

from components import environment, services
from components.containers import ContainerConfig, Healthcheck, hardened_container
from components.secrets import Secrets
from components.settings import Settings

# Postgres's entrypoint creates the database as the container's user; no capability is needed.
PG_READY = ["CMD-SHELL", "pg_isready -q -h 127.0.0.1 -U $POSTGRES_USER -d $POSTGRES_DB"]
REDIS_PING = ["CMD-SHELL", 'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli ping | grep -q PONG']

# The password reaches Redis through a file on tmpfs, not the command line that `ps` shows.
# The generated and validated passwords contain no character that would need quoting here.
REDIS_COMMAND = [
    "sh",
    "-c",
    "umask 077 && printf 'requirepass %s\\n' \"$REDIS_PASSWORD\" > /tmp/redis.conf"
    " && exec redis-server /tmp/redis.conf --appendonly yes --dir /data",
]


def http_health(port: int) -> list[str]:
    """Return a health check that needs only node, present in both n8n images."""
    script = (
        f"fetch('http://127.0.0.1:{port}/healthz')"
        ".then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
    )
    return ["CMD", "node", "-e", script]


class N8n(pulumi.ComponentResource):
    """Every container of n8n and its data stores, on the host's Docker engine."""

    def __init__(
        self,
        name: str,
        settings: Settings,
        secrets: Secrets,
        plans: tuple[services.ServicePlan, ...],
        provider: docker.Provider,
        gate: list[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("hardened-n8n:n8n:N8n", name, None, opts)
        self._settings = settings
        self._secrets = secrets
        self._provider = provider
        self._gate = gate
        self._images: dict[str, docker.RemoteImage] = {}
        self.networks = self._create_networks(name)
        self.containers: dict[str, docker.Container] = {}

        by_name = {plan.name: plan for plan in plans}
        stores = [self._postgres(by_name["postgres"]), self._redis(by_name["redis"])]
        main = self._n8n(by_name["n8n-main"], stores)
        self._runner(by_name["n8n-runner-main"], "n8n-main", main)
        for plan in plans:
            if plan.role == "n8n-worker":
                worker = self._n8n(plan, stores + [main])
                self._runner(
                    by_name[plan.name.replace("n8n-worker", "n8n-runner-worker")], plan.name, worker
                )

        self.register_outputs({"containers": sorted(self.containers)})

    def _create_networks(self, name: str) -> dict[str, docker.Network]:
        networks = {}
        for role in services.NETWORKS:
            networks[role] = docker.Network(
                f"{name}-{role}",
                name=f"hn8n-{role}",
                driver="bridge",
                # Internal networks have no route out of the host.
                internal=role in services.INTERNAL_NETWORKS,
                opts=self._options([]),
            )
        return networks

    def _options(
        self, depends_on: list[pulumi.Resource], parent: pulumi.Resource | None = None
    ) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(
            parent=parent or self, provider=self._provider, depends_on=self._gate + depends_on
        )

    def image(self, reference: str) -> docker.RemoteImage:
        """Pull an image once, however many containers use it."""
        if reference not in self._images:
            self._images[reference] = docker.RemoteImage(
                reference.replace("/", "-").replace(":", "-"),
                name=reference,
                keep_locally=True,
                opts=self._options([]),
            )
        return self._images[reference]

    def add_container(
        self,
        plan: services.ServicePlan,
        config: ContainerConfig,
        after: list[pulumi.Resource],
        parent: pulumi.Resource | None = None,
        image: docker.RemoteImage | None = None,
    ) -> docker.Container:
        """Declare a hardened container on this deployment's networks and Docker host."""
        container = hardened_container(
            plan,
            config,
            image or self.image(config.image_ref),
            self.networks,
            self._options(after, parent),
        )
        self.containers[plan.name] = container
        return container

    def image_options(self, parent: pulumi.Resource) -> pulumi.ResourceOptions:
        return self._options([], parent)

    def _postgres(self, plan: services.ServicePlan) -> docker.Container:
        config = ContainerConfig(
            image_ref=plan.image,
            healthcheck=Healthcheck(PG_READY),
            envs=environment.render_env(environment.postgres_env(self._secrets)),
        )
        return self.add_container(plan, config, [])

    def _redis(self, plan: services.ServicePlan) -> docker.Container:
        config = ContainerConfig(
            image_ref=plan.image,
            healthcheck=Healthcheck(REDIS_PING),
            envs=environment.render_env(environment.redis_env(self._secrets)),
            command=REDIS_COMMAND,
        )
        return self.add_container(plan, config, [])

    def _n8n(self, plan: services.ServicePlan, after: list) -> docker.Container:
        env = environment.n8n_env(self._settings, self._secrets, plan.role)
        config = ContainerConfig(
            image_ref=plan.image,
            # Main serves the editor and webhooks. A worker serves its queue health check on
            # the same port, since QUEUE_HEALTH_CHECK_PORT defaults to it.
            healthcheck=Healthcheck(http_health(services.N8N_PORT)),
            envs=environment.render_env(env),
            command=["worker"] if plan.role == "n8n-worker" else None,
        )
        return self.add_container(plan, config, after)

    def _runner(self, plan: services.ServicePlan, broker: str, process: docker.Container) -> None:
        env = environment.runner_env(self._secrets, broker, self._settings.timezone)
        config = ContainerConfig(
            image_ref=plan.image,
            # NOTE: the launcher's health server port is its documented default (5680); the
            # n8nio/runners image sets no other.
            healthcheck=Healthcheck(http_health(services.RUNNER_HEALTH_PORT)),
            envs=environment.render_env(env),
        )
        self.add_container(plan, config, [process])
