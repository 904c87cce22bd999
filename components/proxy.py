"""Caddy, the TLS reverse proxy: the only container that publishes ports."""

import hashlib

import pulumi
import pulumi_docker as docker
from pulumi_docker import ContainerPortArgs

from components import caddyfile, host_files, services
from components.containers import ContainerConfig, Healthcheck
from components.n8n import N8n
from components.settings import Settings

CADDYFILE_PATH = f"{services.CONFIG_DIR}/Caddyfile"
# (port, protocol) pairs published on every host address: HTTP for ACME and redirects, HTTPS,
# and HTTP/3 over QUIC.
PUBLISHED_PORTS = ((80, "tcp"), (443, "tcp"), (443, "udp"))

# Busybox wget of the Alpine image requests the health site that the Caddyfile binds to loopback.
HEALTHY = ["CMD", "wget", "-q", "-O", "/dev/null", f"http://{caddyfile.HEALTH_ADDRESS}/healthz"]


def render_proxy_file(settings: Settings) -> host_files.HostFile:
    """Render the Caddyfile as a host file, mounted read-only into the container."""
    with_gateway = bool(settings.webhook_routes)
    text = caddyfile.render_caddyfile(
        domain=settings.domain,
        acme_email=settings.acme_email,
        n8n_upstream=f"n8n-main:{services.N8N_PORT}",
        gateway_upstream=f"webhook-gateway:{services.GATEWAY_PORT}" if with_gateway else None,
        gateway_paths=tuple(route.public_path for route in settings.webhook_routes),
        block_direct_webhooks=True,
    )
    return host_files.HostFile(path=CADDYFILE_PATH, content=text, mode="0644")


class Proxy(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        plan: services.ServicePlan,
        proxy_file: host_files.HostFile,
        stack: N8n,
        upstreams: list[docker.Container],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("hardened-n8n:proxy:Proxy", name, None, opts)
        config = ContainerConfig(
            image_ref=plan.image,
            healthcheck=Healthcheck(HEALTHY),
            command=["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"],
            # A non-root process may bind ports 80 and 443 inside its own network namespace.
            # No capability is added: file capabilities are void under no-new-privileges.
            sysctls={"net.ipv4.ip_unprivileged_port_start": "80"},
            ports=[
                ContainerPortArgs(internal=port, external=port, protocol=protocol)
                for port, protocol in PUBLISHED_PORTS
            ],
            read_only_files={CADDYFILE_PATH: "/etc/caddy/Caddyfile"},
            config_digest=hashlib.sha256(proxy_file.content.encode()).hexdigest()[:16],
        )
        self.container = stack.add_container(plan, config, upstreams, parent=self)
        self.register_outputs({"container": self.container.name})
