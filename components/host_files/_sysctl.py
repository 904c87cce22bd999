"""Kernel and network settings (sysctl drop-in) and journald storage."""

from ._spec import HostFile, HostSpec
from ._text import Setting, render_file, render_settings

SYSCTL_PATH = "/etc/sysctl.d/60-hardened-n8n.conf"
JOURNALD_DROP_IN = "/etc/systemd/journald.conf.d/60-hardened-n8n.conf"

# Every key was checked to exist on Debian 13's kernel: the kernel config of
# linux-headers-6.12.117+deb13-amd64 and -cloud-amd64 enables SECURITY_YAMA, KEXEC_CORE,
# MAGIC_SYSRQ, BPF_SYSCALL, BPF_JIT, LDISC_AUTOLOAD and IPV6. Ids are dev-sec linux-baseline
# checks (sysctl-NN). Keys without an id are kernel self-protection settings it does not check.
# IPv6 router advertisement settings (sysctl-21 to sysctl-28) are left at their defaults, so
# the IPv6 setup of the cloud image keeps working as shipped.
_NETWORK = (
    Setting(
        "Kept on on purpose (deviates from sysctl-01): Docker routes container traffic through\n"
        "the host. The FORWARD policy is drop and DOCKER-USER filters what Docker accepts.",
        "net.ipv4.ip_forward = 1",
    ),
    Setting(
        "Drop packets whose source would not be routed back out that interface (sysctl-02).",
        "net.ipv4.conf.all.rp_filter = 1",
    ),
    Setting(
        "The same for interfaces created later, such as Docker bridges (sysctl-02).",
        "net.ipv4.conf.default.rp_filter = 1",
    ),
    Setting(
        "Do not log bogus ICMP error responses (sysctl-03).",
        "net.ipv4.icmp_ignore_bogus_error_responses = 1",
    ),
    Setting(
        "Ignore ping to broadcast addresses (sysctl-04).",
        "net.ipv4.icmp_echo_ignore_broadcasts = 1",
    ),
    Setting(
        "Answer ARP only for addresses on the asking interface (sysctl-08).",
        "net.ipv4.conf.all.arp_ignore = 1",
    ),
    Setting(
        "Use the best local address in ARP requests (sysctl-09).",
        "net.ipv4.conf.all.arp_announce = 2",
    ),
    Setting(
        "Drop RST packets for sockets in TIME-WAIT, RFC 1337 (sysctl-10).",
        "net.ipv4.tcp_rfc1337 = 1",
    ),
    Setting("Answer SYN floods with SYN cookies (sysctl-11).", "net.ipv4.tcp_syncookies = 1"),
    Setting("No source-routed packets (sysctl-13).", "net.ipv4.conf.all.accept_source_route = 0"),
    Setting(
        "No source-routed packets on new interfaces (sysctl-13).",
        "net.ipv4.conf.default.accept_source_route = 0",
    ),
    Setting(
        "Ignore ICMP redirects, which can reroute traffic (sysctl-14).",
        "net.ipv4.conf.all.accept_redirects = 0",
    ),
    Setting(
        "Ignore ICMP redirects on new interfaces (sysctl-14).",
        "net.ipv4.conf.default.accept_redirects = 0",
    ),
    Setting(
        "Ignore redirects from gateways too (sysctl-15).", "net.ipv4.conf.all.secure_redirects = 0"
    ),
    Setting(
        "Ignore redirects from gateways on new interfaces (sysctl-15).",
        "net.ipv4.conf.default.secure_redirects = 0",
    ),
    Setting(
        "Send no redirects. Forwarding is on for Docker, but the host is no router (sysctl-16).",
        "net.ipv4.conf.all.send_redirects = 0",
    ),
    Setting(
        "Send no redirects from new interfaces (sysctl-16).",
        "net.ipv4.conf.default.send_redirects = 0",
    ),
    Setting(
        "Log packets with impossible addresses (sysctl-17).", "net.ipv4.conf.all.log_martians = 1"
    ),
    Setting(
        "Log impossible addresses on new interfaces (sysctl-17).",
        "net.ipv4.conf.default.log_martians = 1",
    ),
    Setting("Ignore IPv6 redirects (sysctl-20).", "net.ipv6.conf.all.accept_redirects = 0"),
    Setting(
        "Ignore IPv6 redirects on new interfaces (sysctl-20).",
        "net.ipv6.conf.default.accept_redirects = 0",
    ),
    Setting("No IPv6 source routing.", "net.ipv6.conf.all.accept_source_route = 0"),
    Setting(
        "No IPv6 source routing on new interfaces.", "net.ipv6.conf.default.accept_source_route = 0"
    ),
)

_KERNEL = (
    Setting("No magic SysRq key combinations (sysctl-30).", "kernel.sysrq = 0"),
    Setting("setuid programs write no core dumps (sysctl-31a).", "fs.suid_dumpable = 0"),
    Setting(
        "Full address space layout randomization (sysctl-32).", "kernel.randomize_va_space = 2"
    ),
    Setting(
        "Only the owner may hard-link a file it cannot write (sysctl-34).",
        "fs.protected_hardlinks = 1",
    ),
    Setting(
        "Do not follow others' symlinks in sticky world-writable folders (sysctl-34).",
        "fs.protected_symlinks = 1",
    ),
    Setting("The same for FIFOs in sticky world-writable folders.", "fs.protected_fifos = 2"),
    Setting(
        "The same for regular files in sticky world-writable folders.", "fs.protected_regular = 2"
    ),
    Setting(
        "Only a parent process may ptrace its descendants (sysctl-35).",
        "kernel.yama.ptrace_scope = 1",
    ),
    Setting("Hide kernel addresses from every user, root included.", "kernel.kptr_restrict = 2"),
    Setting("Only root may read the kernel log.", "kernel.dmesg_restrict = 1"),
    Setting(
        "Unprivileged users may not load BPF programs. Value 1 cannot be undone without a reboot.",
        "kernel.unprivileged_bpf_disabled = 1",
    ),
    Setting("Harden the BPF JIT for every user.", "net.core.bpf_jit_harden = 2"),
    Setting("Unprivileged users may not use perf events.", "kernel.perf_event_paranoid = 3"),
    Setting("Unprivileged users may not load TTY line disciplines.", "dev.tty.ldisc_autoload = 0"),
    Setting(
        "No kexec: nothing may swap the running kernel. It stays off until the next reboot.",
        "kernel.kexec_load_disabled = 1",
    ),
)


def render_sysctl() -> HostFile:
    intro = (
        "Kernel and network hardening. Sorts after the packaged /usr/lib/sysctl.d files, so\n"
        "these values win. UFW re-applies this file when it starts (IPT_SYSCTL)."
    )
    body = render_settings(_NETWORK) + "\n" + render_settings(_KERNEL)
    return HostFile(SYSCTL_PATH, render_file(intro, body))


def render_journald(spec: HostSpec) -> HostFile:
    intro = "journald storage for the hardened-n8n host."
    settings = [
        Setting(
            "Keep the journal on disk across reboots. Debian's default (auto) does so only\n"
            "while /var/log/journal exists, and persistent creates it. fail2ban reads SSH\n"
            "failures from the journal.",
            "Storage=persistent",
        ),
        Setting(
            "Cap the journal on disk so logs cannot fill the root file system.",
            f"SystemMaxUse={spec.journal_max_use}",
        ),
    ]
    return HostFile(JOURNALD_DROP_IN, render_file(intro, "[Journal]\n" + render_settings(settings)))


def sysctl_keys() -> tuple[str, ...]:
    """Return the keys the sysctl drop-in sets, in file order."""
    return tuple(setting.line.split(" = ")[0] for setting in (*_NETWORK, *_KERNEL))
