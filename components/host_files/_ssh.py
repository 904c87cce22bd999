"""The sshd drop-in: key-only login for the admin user with modern algorithms."""

from ._spec import HostFile, HostSpec
from ._text import Setting, render_file, render_settings

# sshd keeps the first value it reads for most keywords, and Debian's sshd_config includes
# sshd_config.d/*.conf at its top in name order, so "10-" wins over cloud-init's
# 50-cloud-init.conf and over the main file.
SSHD_DROP_IN = "/etc/ssh/sshd_config.d/10-hardened-n8n.conf"
# The only host key: cloud-init installs it from user-data, so the key the program pins is the
# key the server presents from the first boot.
HOST_KEY_PATH = "/etc/ssh/ssh_host_ed25519_key"

# Algorithm lists are checked against `ssh -Q kex|cipher|mac` of OpenSSH 10.0p2 (Debian 13).
# Every list keeps one entry that golang.org/x/crypto/ssh also implements (curve25519-sha256,
# the AES-GCM/ChaCha20 ciphers, the SHA-2 ETM MACs), because pulumi-command connects with it.
KEX_ALGORITHMS = (
    "mlkem768x25519-sha256",
    "sntrup761x25519-sha512",
    "sntrup761x25519-sha512@openssh.com",
    "curve25519-sha256",
    "curve25519-sha256@libssh.org",
)
CIPHERS = (
    "chacha20-poly1305@openssh.com",
    "aes256-gcm@openssh.com",
    "aes128-gcm@openssh.com",
)
MACS = (
    "hmac-sha2-512-etm@openssh.com",
    "hmac-sha2-256-etm@openssh.com",
    "umac-128-etm@openssh.com",
)


def render_sshd_drop_in(spec: HostSpec) -> HostFile:
    intro = (
        "sshd hardening for the hardened-n8n host. This file sorts before 50-cloud-init.conf,\n"
        "and sshd keeps the first value it reads, so these values win. Check ids are from\n"
        "the dev-sec ssh-baseline (sshd-NN)."
    )
    settings = [
        *_listener_settings(spec),
        *_authentication_settings(spec),
        *_algorithm_settings(),
        *_session_settings(),
        *_forwarding_settings(),
    ]
    content = render_file(intro, render_settings(settings))
    # sshd-05 requires that only root can read the sshd configuration.
    return HostFile(SSHD_DROP_IN, content, "0600")


def _listener_settings(spec: HostSpec) -> list[Setting]:
    return [
        Setting(
            "The port UFW opens for the admin networks only (sshd-07).", f"Port {spec.ssh_port}"
        ),
        Setting(
            "Admin networks may be IPv4 or IPv6, so sshd listens on both (sshd-08).",
            "AddressFamily any",
        ),
        Setting(
            "Only the ED25519 key that cloud-init installs from user-data, the key the deploy\n"
            "program pins (sshd-14).",
            f"HostKey {HOST_KEY_PATH}",
        ),
        Setting(
            "Offer only the pinned key's algorithm, so no client can be steered to another key.",
            "HostKeyAlgorithms ssh-ed25519",
        ),
    ]


def _authentication_settings(spec: HostSpec) -> list[Setting]:
    return [
        Setting("Nobody logs in as root. The admin user has sudo (sshd-06).", "PermitRootLogin no"),
        Setting(
            "Only the admin user may log in. sshd rejects every other account.",
            f"AllowUsers {spec.admin_user}",
        ),
        Setting(
            "Public keys are the only way in: no password, no keyboard-interactive prompt.",
            "AuthenticationMethods publickey",
        ),
        Setting("Public key authentication stays on (sshd-22).", "PubkeyAuthentication yes"),
        Setting("Passwords are never accepted (sshd-27).", "PasswordAuthentication no"),
        Setting("Empty passwords are never accepted (sshd-28).", "PermitEmptyPasswords no"),
        Setting(
            "No challenge-response prompts, which PAM could satisfy with a password (sshd-29).",
            "KbdInteractiveAuthentication no",
        ),
        Setting(
            "PAM stays on for account and session setup, as on Debian by default. This deviates\n"
            "from sshd-26, but with passwords and keyboard-interactive off PAM asks for nothing.",
            "UsePAM yes",
        ),
        Setting("Host-based trust is not used (sshd-25).", "HostbasedAuthentication no"),
        Setting("Ignore legacy .rhosts files (sshd-23).", "IgnoreRhosts yes"),
        Setting(
            "Ignore users' known_hosts for authentication (sshd-24).", "IgnoreUserKnownHosts yes"
        ),
        Setting(
            "No Kerberos: it can fall back to passwords (sshd-30).", "KerberosAuthentication no"
        ),
        Setting("No GSSAPI authentication (sshd-33).", "GSSAPIAuthentication no"),
        Setting(
            "Three attempts per connection. sshd-19 checks for 2 by default, and 3 lets a client\n"
            "offer one more agent key before the right one.",
            "MaxAuthTries 3",
        ),
        Setting("Half-open logins are dropped after 30 seconds (sshd-18).", "LoginGraceTime 30s"),
        Setting(
            "Refuse some, then all, unauthenticated connections beyond 10 at once (sshd-21).",
            "MaxStartups 10:30:100",
        ),
        Setting(
            "Reject home folders and key files that others can write (sshd-11).", "StrictModes yes"
        ),
        Setting(
            "Users cannot pass environment variables such as LD_PRELOAD to sshd (sshd-17).",
            "PermitUserEnvironment no",
        ),
    ]


def _algorithm_settings() -> list[Setting]:
    return [
        Setting(
            "Post-quantum hybrids first, then curve25519. No NIST curves, no SHA-1 groups\n"
            "(sshd-02).",
            "KexAlgorithms " + ",".join(KEX_ALGORITHMS),
        ),
        Setting("Authenticated encryption only (sshd-01).", "Ciphers " + ",".join(CIPHERS)),
        Setting(
            "Encrypt-then-MAC SHA-2 and UMAC-128 only. Unused with the AEAD ciphers above,\n"
            "but it keeps weaker MACs out if a cipher is ever added (sshd-03).",
            "MACs " + ",".join(MACS),
        ),
    ]


def _session_settings() -> list[Setting]:
    return [
        Setting(
            "Probe idle clients every 300 seconds inside the encrypted channel (sshd-36).",
            "ClientAliveInterval 300",
        ),
        Setting("Drop a client after 3 unanswered probes (sshd-37).", "ClientAliveCountMax 3"),
        Setting(
            "No spoofable plain-TCP keepalives. The probes above replace them (sshd-35).",
            "TCPKeepAlive no",
        ),
        Setting(
            "Log key fingerprints of logins, which fail2ban also reads (sshd-13).",
            "LogLevel VERBOSE",
        ),
        Setting(
            "Log to the AUTH facility that journald tags for auth (sshd-12).", "SyslogFacility AUTH"
        ),
        Setting("No pre-login banner text (sshd-46).", "Banner none"),
        Setting(
            "Do not announce the Debian version in the SSH banner (sshd-47).", "DebianBanner no"
        ),
        Setting("sshd prints no motd, though pam_motd may (sshd-44).", "PrintMotd no"),
        Setting("Up to 10 sessions per connection (sshd-20).", "MaxSessions 10"),
    ]


def _forwarding_settings() -> list[Setting]:
    return [
        Setting(
            "Turn off every kind of forwarding: TCP, agent, X11 and Unix sockets. The deploy\n"
            "program only runs commands, and Docker over SSH runs `docker system dial-stdio`.",
            "DisableForwarding yes",
        ),
        Setting("No TCP port forwarding (sshd-39).", "AllowTcpForwarding no"),
        Setting("No agent forwarding (sshd-40).", "AllowAgentForwarding no"),
        Setting(
            "No Unix socket forwarding, which could reach docker.sock.",
            "AllowStreamLocalForwarding no",
        ),
        Setting("No remote hosts on forwarded ports (sshd-41).", "GatewayPorts no"),
        Setting("No X11 forwarding (sshd-42).", "X11Forwarding no"),
        Setting("No tun/tap tunnels (sshd-38).", "PermitTunnel no"),
    ]
