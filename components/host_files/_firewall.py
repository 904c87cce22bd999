"""UFW settings and rules, and the DOCKER-USER chain that filters published container ports."""

from ._scripts import render_script
from ._spec import HostFile, HostSpec, admin_networks
from ._sysctl import SYSCTL_PATH
from ._text import Setting, render_file, render_settings, render_unit

UFW_DEFAULTS = "/etc/default/ufw"
UFW_RULES = "/etc/hardened-n8n/ufw-rules"
DOCKER_USER_SCRIPT = "/usr/local/sbin/n8n-docker-user-firewall"
DOCKER_USER_UNIT = "/etc/systemd/system/n8n-docker-user-firewall.service"


def render_firewall_files(spec: HostSpec) -> tuple[HostFile, ...]:
    return (
        _render_ufw_defaults(),
        _render_ufw_rules(spec),
        _render_docker_user_script(spec),
        _render_docker_user_unit(),
    )


def ufw_rules(spec: HostSpec) -> tuple[str, ...]:
    """Return the UFW rules in the form `ufw show added` prints them, without "ufw "."""
    ssh_rules = tuple(
        f"limit from {network} to any port {spec.ssh_port} proto tcp"
        for network in admin_networks(spec)
    )
    published = tuple(f"allow {port}/{protocol}" for port, protocol in spec.published_ports)
    return ssh_rules + published


def _render_ufw_defaults() -> HostFile:
    # Values match Debian 13's packaged /etc/default/ufw except IPT_SYSCTL. The file is sourced
    # by /usr/lib/ufw/ufw-init as shell.
    intro = "UFW defaults, sourced as shell by ufw-init. ENABLED stays in /etc/ufw/ufw.conf."
    settings = [
        Setting("Filter IPv6 as well as IPv4, because the server has both.", "IPV6=yes"),
        Setting(
            "Drop inbound traffic that no rule allows (only SSH and the web ports are allowed).",
            'DEFAULT_INPUT_POLICY="DROP"',
        ),
        Setting(
            "Allow outbound traffic: package updates, ACME and the n8n integrations need it.",
            'DEFAULT_OUTPUT_POLICY="ACCEPT"',
        ),
        Setting(
            "Drop routed traffic by default. Docker accepts its own container traffic in\n"
            "FORWARD, and the DOCKER-USER chain (n8n-docker-user-firewall) filters it first.",
            'DEFAULT_FORWARD_POLICY="DROP"',
        ),
        Setting(
            "Application profiles open nothing by themselves.", 'DEFAULT_APPLICATION_POLICY="SKIP"'
        ),
        Setting(
            "UFW leaves the built-in chains alone, so Docker's rules in them survive a reload.",
            "MANAGE_BUILTINS=no",
        ),
        Setting(
            "ufw-init applies this file with `sysctl -p` whenever it starts. The packaged\n"
            "/etc/ufw/sysctl.conf sets log_martians=0, which would undo the hardening in\n"
            f"{SYSCTL_PATH} (dev-sec sysctl-17), so ufw re-applies that file instead.",
            f"IPT_SYSCTL={SYSCTL_PATH}",
        ),
        Setting("No extra connection-tracking helpers (FTP, IRC and similar).", 'IPT_MODULES=""'),
    ]
    return HostFile(UFW_DEFAULTS, render_file(intro, render_settings(settings)))


def _render_ufw_rules(spec: HostSpec) -> HostFile:
    intro = (
        'UFW rules, one per line as `ufw show added` prints them without the leading "ufw".\n'
        "n8n-host-apply adds the missing ones first, then deletes rules that are not listed\n"
        "here. It never resets UFW, which would leave the host open until every rule is back,\n"
        "and established connections survive either step.\n"
        "\n"
        f"SSH ({spec.ssh_port}/tcp) is reachable from the admin networks only, with `limit`:\n"
        "UFW rejects a source that opens 6 or more connections within 30 seconds (ufw 0.36.2,\n"
        "backend_iptables.py). NOTE: a deploy that opens many SSH connections at once from one\n"
        "address can reach that limit.\n"
        "The web ports are open to everyone. Published container ports do not pass these\n"
        "INPUT rules, because Docker forwards them. n8n-docker-user-firewall filters those."
    )
    lines = "\n".join(ufw_rules(spec)) + "\n"
    return HostFile(UFW_RULES, render_file(intro, lines))


def _render_docker_user_script(spec: HostSpec) -> HostFile:
    ports = " ".join(f"{port}/{protocol}" for port, protocol in spec.published_ports)
    content = render_script("n8n-docker-user-firewall", {"PUBLISHED_PORTS": ports})
    return HostFile(DOCKER_USER_SCRIPT, content, "0755")


def _render_docker_user_unit() -> HostFile:
    intro = (
        "Fills Docker's DOCKER-USER chain after each Docker start. Published ports bypass UFW\n"
        "(Docker's DNAT sends them through FORWARD, not INPUT), so this chain is the filter\n"
        "that keeps a port published by mistake unreachable."
    )
    unit = render_unit(
        {
            "Unit": [
                Setting("", "Description=Filter published container ports in DOCKER-USER"),
                Setting(
                    "Docker creates the DOCKER-USER chain while it starts, so run after it.",
                    "After=docker.service",
                ),
                Setting(
                    "Stop with Docker and start again with it, so every Docker restart, which\n"
                    "may recreate its chains, is followed by a fresh run.",
                    "BindsTo=docker.service",
                ),
            ],
            "Service": [
                Setting("Runs the script once and exits.", "Type=oneshot"),
                Setting("Counts as active afterwards, until Docker stops.", "RemainAfterExit=yes"),
                Setting(
                    "Replaces the chain's rules in one iptables-restore transaction.",
                    f"ExecStart={DOCKER_USER_SCRIPT}",
                ),
            ],
            "Install": [Setting("Runs whenever Docker starts.", "WantedBy=docker.service")],
        }
    )
    return HostFile(DOCKER_USER_UNIT, render_file(intro, unit))
