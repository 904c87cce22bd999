"""The payment webhook gateway: built on the host from gateway/, run like every container."""

import hashlib
import json
from pathlib import Path

import pulumi
import pulumi_docker as docker

from components import environment, services
from components.containers import ContainerConfig, Healthcheck
from components.n8n import N8n
from components.secrets import Secrets
from components.settings import Settings

# Relative to the project folder, where Pulumi runs the program; the Docker engine on the host
# receives this folder as the build context.
BUILD_CONTEXT = "gateway"
METRICS_PORT = 9102
HEALTH = ["CMD", "python", "-m", "webhook_gateway.healthcheck"]


def context_digest(folder: Path) -> str:
    """Hash the files the image is built from, so a change to them rebuilds the image."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_dir() or "__pycache__" in relative.parts or relative.parts[0] == "tests":
            continue
        digest.update(str(relative).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


class WebhookGateway(pulumi.ComponentResource):
    """Checks signature, freshness and uniqueness of payment webhooks before n8n receives them."""

    def __init__(
        self,
        name: str,
        settings: Settings,
        secrets: Secrets,
        plan: services.ServicePlan,
        stack: N8n,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("hardened-n8n:gateway:WebhookGateway", name, None, opts)
        tag = context_digest(Path(BUILD_CONTEXT))
        self.image = docker.RemoteImage(
            f"{name}-gateway-image",
            name=f"{plan.image}:{tag}",
            build=docker.RemoteImageBuildArgs(context=BUILD_CONTEXT, dockerfile="Dockerfile"),
            keep_locally=True,
            opts=stack.image_options(self),
        )
        config = ContainerConfig(
            image_ref=f"{plan.image}:{tag}",
            healthcheck=Healthcheck(HEALTH),
            envs=environment.render_env(gateway_env(settings, secrets)),
        )
        after = [stack.containers["redis"], stack.containers["n8n-main"]]
        self.container = stack.add_container(plan, config, after, parent=self, image=self.image)
        self.register_outputs({"container": self.container.name, "image": self.image.name})


def gateway_env(settings: Settings, secrets: Secrets) -> dict[str, environment.EnvValue]:
    routes = [route.gateway_config for route in settings.webhook_routes]
    signing = settings.webhook_secrets.apply(json.dumps)
    return {
        "GATEWAY_ROUTES": json.dumps(routes, sort_keys=True),
        "GATEWAY_SECRETS": pulumi.Output.secret(signing),
        "GATEWAY_N8N_URL": f"http://n8n-main:{services.N8N_PORT}",
        "GATEWAY_REDIS_HOST": "redis",
        "GATEWAY_REDIS_PORT": "6379",
        "GATEWAY_REDIS_PASSWORD": secrets.redis_password,
        "GATEWAY_PORT": str(services.GATEWAY_PORT),
        # Reachable on the Docker networks only: the gateway publishes no port.
        "GATEWAY_METRICS_PORT": str(METRICS_PORT),
        "GATEWAY_TRUSTED_PROXY_HOPS": "1",
    }
