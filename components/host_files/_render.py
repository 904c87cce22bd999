"""All host files for one spec."""

from ._apply import render_apply_files
from ._docker import render_docker_files
from ._firewall import render_firewall_files
from ._services import render_apt_upgrades, render_fail2ban_jails, render_fail2ban_settings
from ._spec import HostFile, HostSpec, validate_spec
from ._ssh import render_sshd_drop_in
from ._sysctl import render_journald, render_sysctl


def render_host_files(spec: HostSpec) -> tuple[HostFile, ...]:
    """Return every hardening file for the spec, sorted by path. No file contains a secret.

    Raises ValueError listing every invalid field of the spec.
    """
    validate_spec(spec)
    files = (
        render_sshd_drop_in(spec),
        *render_firewall_files(spec),
        render_fail2ban_jails(spec),
        render_fail2ban_settings(),
        render_apt_upgrades(spec),
        render_sysctl(),
        render_journald(spec),
        *render_docker_files(spec),
        *render_apply_files(spec),
    )
    return tuple(sorted(files, key=lambda f: f.path))
