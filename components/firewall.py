"""The Hetzner Cloud Firewall in front of the server (the edge firewall)."""

import pulumi
import pulumi_hcloud as hcloud

ANYWHERE = ["0.0.0.0/0", "::/0"]

# Inbound rules besides SSH: the proxy's HTTP (ACME challenges and redirects), HTTPS, and
# HTTP/3 over QUIC. Hetzner's firewall drops every inbound packet no rule allows; outbound
# traffic is not filtered while no outbound rule exists.
PUBLIC_RULES = (
    ("tcp", "80", "HTTP, redirected to HTTPS; ACME HTTP-01 challenges"),
    ("tcp", "443", "HTTPS to the reverse proxy"),
    ("udp", "443", "HTTP/3 (QUIC) to the reverse proxy"),
)


class EdgeFirewall(pulumi.ComponentResource):
    """Inbound SSH from the admin networks only, and web traffic from anywhere."""

    def __init__(
        self,
        name: str,
        admin_cidrs: tuple[str, ...],
        labels: dict[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("hardened-n8n:firewall:EdgeFirewall", name, None, opts)
        rules = [_ssh_rule(admin_cidrs)] + [
            _public_rule(protocol, port, why) for protocol, port, why in PUBLIC_RULES
        ]
        self.firewall = hcloud.Firewall(
            f"{name}-edge",
            name=f"{name}-edge",
            rules=rules,
            labels=labels,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.id = self.firewall.id
        self.register_outputs({"firewall_id": self.firewall.id})


def _ssh_rule(admin_cidrs: tuple[str, ...]) -> hcloud.FirewallRuleArgs:
    return hcloud.FirewallRuleArgs(
        direction="in",
        protocol="tcp",
        port="22",
        source_ips=list(admin_cidrs),
        description="SSH from the admin networks only",
    )


def _public_rule(protocol: str, port: str, why: str) -> hcloud.FirewallRuleArgs:
    return hcloud.FirewallRuleArgs(
        direction="in", protocol=protocol, port=port, source_ips=ANYWHERE, description=why
    )
