"""fail2ban jails and unattended-upgrades settings."""

from ._spec import HostFile, HostSpec, admin_networks
from ._text import Setting, render_file, render_settings

FAIL2BAN_JAILS = "/etc/fail2ban/jail.d/hardened-n8n.local"
FAIL2BAN_SETTINGS = "/etc/fail2ban/fail2ban.d/hardened-n8n.local"
# apt reads apt.conf.d in name order and later values win, so 52 overrides 20auto-upgrades
# and 50unattended-upgrades. The packaged files stay untouched, so upgrades never prompt.
APT_UPGRADES = "/etc/apt/apt.conf.d/52hardened-n8n-upgrades"

# Admin networks at least this narrow are treated as the operator's own and never banned.
TRUSTED_PREFIX_IPV4 = 24
TRUSTED_PREFIX_IPV6 = 48
FAIL2BAN_LOG = "/var/log/fail2ban.log"


def trusted_admin_networks(spec: HostSpec) -> tuple[str, ...]:
    """Return the admin CIDRs narrow enough for fail2ban's ignoreip."""
    trusted = []
    for network in admin_networks(spec):
        limit = TRUSTED_PREFIX_IPV4 if network.version == 4 else TRUSTED_PREFIX_IPV6
        if network.prefixlen >= limit:
            trusted.append(str(network))
    return tuple(trusted)


def render_fail2ban_jails(spec: HostSpec) -> HostFile:
    intro = (
        "fail2ban jails for the hardened-n8n host. A .local file in jail.d is read after the\n"
        "packaged defaults-debian.conf, so these values win (fail2ban 1.1.0 on Debian 13)."
    )
    ignored = " ".join(("127.0.0.1/8", "::1", *trusted_admin_networks(spec)))
    defaults = [
        Setting(
            "Ban with nftables, as Debian 13's defaults-debian.conf does. The bans live in their\n"
            "own table (inet f2b-table, input hook, priority -1), so they apply before UFW's\n"
            "rules. The ufw action would instead add UFW rules, which n8n-host-apply deletes\n"
            "as rules not in /etc/hardened-n8n/ufw-rules.\n"
            "NOTE: the input hook sees traffic to the host only. Published container ports are\n"
            "forwarded, so a ban blocks SSH but not the web ports.",
            "banaction = nftables",
        ),
        Setting(
            "The same table for jails that ban every port (recidive).",
            "banaction_allports = nftables[type=allports]",
        ),
        Setting(
            f"Never ban the host itself, nor admin networks of /{TRUSTED_PREFIX_IPV4} (IPv4) or\n"
            f"/{TRUSTED_PREFIX_IPV6} (IPv6) and narrower: a mistyped key there must not lock the\n"
            "admin out for a week through recidive. Broader admin networks (0.0.0.0/0 included)\n"
            "are banned like anyone else, because UFW lets all of them reach SSH and fail2ban is\n"
            "then what stops a scanner inside them.",
            f"ignoreip = {ignored}",
        ),
    ]
    sshd = [
        Setting("Watch SSH logins.", "enabled = true"),
        Setting("Ban the port sshd listens on.", f"port = {spec.ssh_port}"),
        Setting(
            "Debian 13 writes no /var/log/auth.log by default, so read the journal.",
            "backend = systemd",
        ),
        Setting(
            "OpenSSH 10 logs failed logins from sshd-session, which the packaged\n"
            "defaults-debian.conf does not list. This is the match of filter.d/sshd.conf.",
            "journalmatch = _SYSTEMD_UNIT=ssh.service + _COMM=sshd + _COMM=sshd-session",
        ),
        Setting("Five failures within 10 minutes ban an address for one hour.", "maxretry = 5"),
        Setting("The window the failures are counted in.", "findtime = 10m"),
        Setting("How long a ban lasts.", "bantime = 1h"),
    ]
    recidive = [
        Setting(
            "Ban addresses that keep coming back, on every port, for a week.", "enabled = true"
        ),
        Setting(
            "fail2ban writes its own log to this file (fail2ban.conf logtarget).",
            f"logpath = {FAIL2BAN_LOG}",
        ),
        Setting("A plain file, so not the journal backend used for sshd.", "backend = auto"),
        Setting("Five bans within a day.", "findtime = 1d"),
        Setting("Ban for a week.", "bantime = 1w"),
    ]
    body = (
        "[DEFAULT]\n"
        + render_settings(defaults)
        + "\n[sshd]\n"
        + render_settings(sshd)
        + "\n[recidive]\n"
        + render_settings(recidive)
    )
    return HostFile(FAIL2BAN_JAILS, render_file(intro, body))


def render_fail2ban_settings() -> HostFile:
    intro = (
        "fail2ban's own settings for the hardened-n8n host, read after fail2ban.conf\n"
        "(fail2ban 1.1.0 on Debian 13)."
    )
    settings = [
        Setting(
            "Keep bans in fail2ban's database longer than the recidive jail's one-week ban, so\n"
            "a restart or reboot restores them; the packaged default of one day would drop them.",
            "dbpurgeage = 8d",
        ),
    ]
    return HostFile(
        FAIL2BAN_SETTINGS, render_file(intro, "[DEFAULT]\n" + render_settings(settings))
    )


def render_apt_upgrades(spec: HostSpec) -> HostFile:
    intro = (
        "unattended-upgrades: security updates only, installed daily.\n"
        "Origin patterns are those of Debian 13's packaged 50unattended-upgrades."
    )
    reboot = "true" if spec.auto_reboot else "false"
    settings = [
        Setting("Refresh the package lists every day.", 'APT::Periodic::Update-Package-Lists "1";'),
        Setting("Run unattended-upgrade every day.", 'APT::Periodic::Unattended-Upgrade "1";'),
        Setting("Clean the package cache weekly.", 'APT::Periodic::AutocleanInterval "7";'),
        Setting(
            "Empty the origin list that 50unattended-upgrades filled (it also lists the plain\n"
            "Debian archive, which would install point-release updates too), then allow the\n"
            "security archive only.",
            "#clear Unattended-Upgrade::Origins-Pattern;\n"
            "Unattended-Upgrade::Origins-Pattern {\n"
            '    "origin=Debian,codename=${distro_codename},label=Debian-Security";\n'
            '    "origin=Debian,codename=${distro_codename}-security,label=Debian-Security";\n'
            "};",
        ),
        Setting(
            "Reboot when an upgraded package asks for it (/var/run/reboot-required), if the\n"
            "stack settings allow it.",
            f'Unattended-Upgrade::Automatic-Reboot "{reboot}";',
        ),
        Setting(
            "Start of the reboot window, in the server's time zone.",
            f'Unattended-Upgrade::Automatic-Reboot-Time "{spec.reboot_time}";',
        ),
    ]
    # apt.conf comments start with //, because "#clear" is an apt directive, not a comment.
    content = render_file(intro, render_settings(settings, prefix="//"), prefix="//")
    return HostFile(APT_UPGRADES, content)
