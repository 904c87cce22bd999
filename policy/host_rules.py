"""Rules on the Hetzner resources: the edge firewall, the server and the data volume."""

import ipaddress

from policy.model import FIREWALL, SERVER, VOLUME, PolicyConfig, Resource, items, rule

OPEN_NETWORKS = ("0.0.0.0/0", "::/0")
WEB_RULES = {("tcp", "80"), ("tcp", "443"), ("udp", "443")}
MIN_IPV4_PREFIX = 8
MIN_IPV6_PREFIX = 16


@rule(
    "firewall-ssh-admin-only",
    (FIREWALL,),
    "SSH is open only to the admin networks",
    "dev-sec ssh: a key-only SSH server still should not face the whole internet",
)
def ssh_admin_only(resource: Resource, config: PolicyConfig):
    ssh_rules = [r for r in _inbound(resource) if _covers_ssh(r)]
    if not ssh_rules:
        yield "has no inbound SSH rule; the admin could not reach the server"
    for each in ssh_rules:
        sources = [str(s) for s in items(each.get("sourceIps"))]
        for source in sources:
            if _too_broad(source):
                yield f"allows SSH from {source}; allow only the admin networks"
        if config.admin_cidrs is not None and sorted(sources) != sorted(config.admin_cidrs):
            yield f"allows SSH from {sorted(sources)}, not the configured adminCidrs"


@rule(
    "firewall-web-only",
    (FIREWALL,),
    "Nothing inbound besides SSH and 80/tcp, 443/tcp, 443/udp",
    "Every other port is reached through the proxy or not at all",
)
def web_only(resource: Resource, _config):
    for each in _inbound(resource):
        protocol = str(each.get("protocol"))
        port = str(each.get("port") or "")
        if _covers_ssh(each) and port == "22":
            continue
        if (protocol, port) not in WEB_RULES:
            yield f"allows inbound {protocol} {port or 'any port'}"


def _inbound(resource: Resource):
    return [r for r in items(resource.inputs.get("rules")) if str(r.get("direction")) == "in"]


def _covers_ssh(each) -> bool:
    if str(each.get("protocol")) != "tcp":
        return False
    port = str(each.get("port") or "any")
    if port == "any":
        return True
    low, _, high = port.partition("-")
    return int(low) <= 22 <= int(high or low)


def _too_broad(source: str) -> bool:
    try:
        network = ipaddress.ip_network(source, strict=False)
    except ValueError:
        return True
    minimum = MIN_IPV4_PREFIX if network.version == 4 else MIN_IPV6_PREFIX
    return source in OPEN_NETWORKS or network.prefixlen < minimum


@rule(
    "server-firewall-attached",
    (SERVER,),
    "The server is created with the edge firewall attached",
    "Attached later, the firewall leaves the first boot unprotected",
)
def firewall_attached(resource: Resource, _config):
    if not items(resource.inputs.get("firewallIds")):
        yield "firewallIds is empty; attach the edge firewall at creation"


@rule(
    "server-protection",
    (SERVER, VOLUME),
    "Delete (and rebuild) protection where the stack asks",
    "A mistyped destroy must not erase production",
)
def protection(resource: Resource, config: PolicyConfig):
    if not config.require_delete_protection:
        return
    if resource.inputs.get("deleteProtection") is not True:
        yield "deleteProtection is not true"
    if resource.type == SERVER and resource.inputs.get("rebuildProtection") is not True:
        yield "rebuildProtection is not true"


@rule(
    "server-backups",
    (SERVER,),
    "Hetzner backups are on where the stack asks",
    "The volume holds the data, but the system disk holds the host setup",
    severity="medium",
)
def backups(resource: Resource, config: PolicyConfig):
    if config.require_backups and resource.inputs.get("backups") is not True:
        yield "backups is not true"
