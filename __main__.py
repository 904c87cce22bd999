"""hardened-n8n: n8n in queue mode on one hardened Hetzner Cloud server."""

import pulumi

from components import services
from components.firewall import EdgeFirewall
from components.gateway import WebhookGateway
from components.host import Host
from components.n8n import N8n
from components.proxy import Proxy, render_proxy_file
from components.secrets import Secrets
from components.settings import load_settings

# Every setting is checked before the first resource is declared.
settings = load_settings()
name = f"n8n-{settings.stack}"
labels = {"app": "n8n", "managed-by": "pulumi", "stack": settings.stack}
plans = services.plan_services(
    settings.n8n_version, settings.worker_count, with_gateway=bool(settings.webhook_routes)
)
plan_by_name = {plan.name: plan for plan in plans}
proxy_file = render_proxy_file(settings)

secrets = Secrets(name, settings.secret_overrides)

# The edge firewall exists before the server, which is created with it attached.
edge_firewall = EdgeFirewall(name, settings.admin_cidrs, labels)

host = Host(name, settings, plans, edge_firewall.id, (proxy_file,), labels)

n8n = N8n(name, settings, secrets, plans, host.docker_provider, host.gate)

upstreams = [n8n.containers["n8n-main"]]
if settings.webhook_routes:
    gateway = WebhookGateway(name, settings, secrets, plan_by_name["webhook-gateway"], n8n)
    upstreams.append(gateway.container)

Proxy(name, plan_by_name["caddy"], proxy_file, n8n, upstreams)

pulumi.export("ipv4_address", host.server.ipv4_address)
pulumi.export("ipv6_address", host.server.ipv6_address)
pulumi.export("editor_url", f"https://{settings.domain}/")
pulumi.export(
    "ssh", pulumi.Output.concat("ssh ", settings.admin_user, "@", host.server.ipv4_address)
)
pulumi.export("host_public_key", host.host_public_key)
pulumi.export("data_volume_id", host.volume.id)
