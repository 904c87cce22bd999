"""Tests for components/host_files: plain checks of the rendered text, then the real tools.

The tool tests run sshd, dockerd, fail2ban-client, systemd-analyze, cloud-init, ufw, apt-config
and the apply script from the Debian 13 root (tests/tool_root.py finds it). Each test works in its
own overlay of that root inside a private mount and network namespace, so the shared root,
the host's firewall and the host's kernel settings stay untouched. They need root.
"""

import base64
import configparser
import gzip
import json
import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from sandbox import SCRATCH, Sandbox, output, throwaway_host_key

from components import host_files, services
from components.host_files import DataDir, HostFile, HostSpec, Slice
from components.host_files._firewall import DOCKER_USER_SCRIPT, UFW_RULES, ufw_rules
from components.host_files._services import trusted_admin_networks
from components.host_files._ssh import SSHD_DROP_IN
from components.host_files._sysctl import SYSCTL_PATH, sysctl_keys
from components.host_files._text import HEADER

ADMIN_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ7hUjfF3Yp9Wq2Rkz0dTgE5mB1s8xNcVaLoPq4uZyXw admin@example"
)
SPEC = HostSpec(
    admin_user="ops",
    admin_ssh_keys=(ADMIN_KEY,),
    admin_cidrs=("203.0.113.0/24", "2001:db8::/32"),
    volume_device="/dev/disk/by-id/scsi-0HC_Volume_1234567",
    data_mount="/srv/n8n-data",
    data_dirs=(
        DataDir("/srv/n8n-data/n8n", 1000, 1000),
        DataDir("/srv/n8n-data/postgres", 999, 999, "0700"),
    ),
    slices=(Slice("n8n-main.slice", 512), Slice("n8n-postgres.slice", 256)),
    auto_reboot=True,
    reboot_time="03:30",
    timezone="Europe/Berlin",
)
# A file that is not a hardening file, like those the deploy adds for its containers.
EXTRA_FILE = HostFile("/etc/hardened-n8n/extra/example.conf", "# example\nkey = value\n")
APPLY = "/usr/local/sbin/n8n-host-apply"
# A folder inside the sandbox for test inputs; nothing of the server lives there.
APPLY_COPY = f"{SCRATCH}/n8n-host-apply"
PROC_SYS_COPY = f"{SCRATCH}/proc-sys"
# Hetzner's documented limit for user_data (pulumi-hcloud 1.43.3, Server.user_data).
USER_DATA_LIMIT = 32 * 1024


def files_by_path(spec: HostSpec = SPEC) -> dict[str, HostFile]:
    return {f.path: f for f in host_files.render_host_files(spec)}


def content_of(path: str, spec: HostSpec = SPEC) -> str:
    return files_by_path(spec)[path].content


def setting_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


# Plain checks of the rendered text.


def test_host_files_sorted_unique_absolute():
    files = host_files.render_host_files(SPEC)
    paths = [f.path for f in files]
    assert paths == sorted(paths)
    assert len(set(paths)) == len(paths)
    for host_file in files:
        assert host_file.path.startswith("/"), host_file.path
        assert host_file.mode in ("0600", "0644", "0755"), host_file.path


def test_every_file_starts_with_header():
    for host_file in host_files.render_host_files(SPEC):
        if host_file.path.endswith(".json"):
            # dockerd rejects unknown keys, so daemon.json carries no header.
            continue
        first_lines = host_file.content.splitlines()[:2]
        assert any(HEADER in line for line in first_lines), host_file.path


def test_daemon_json_header_in_sibling_notes():
    files = files_by_path()
    assert "/etc/docker/daemon.json" in files
    assert HEADER in files["/etc/docker/daemon.json.md"].content.splitlines()[0]


@pytest.mark.parametrize(
    "path",
    [
        SSHD_DROP_IN,
        SYSCTL_PATH,
        "/etc/default/ufw",
        "/etc/fail2ban/jail.d/hardened-n8n.local",
        "/etc/systemd/journald.conf.d/60-hardened-n8n.conf",
        "/etc/systemd/system/docker.service.d/10-hardened-n8n.conf",
        "/etc/systemd/system/n8n-data-dirs.service",
        "/etc/systemd/system/n8n-docker-user-firewall.service",
        "/etc/systemd/system/n8n-main.slice",
    ],
)
def test_each_setting_has_comment_above(path):
    lines = content_of(path).splitlines()
    for number, line in enumerate(lines):
        if not line.strip() or line.startswith(("#", "[", "Description=")):
            continue
        above = lines[number - 1]
        # A repeated key (several ExecStart= lines) shares the reason above the first one.
        repeated = above.partition("=")[0] == line.partition("=")[0]
        assert above.startswith("#") or repeated, f"{path}: no reason above {line!r}"


def test_sshd_drop_in_sorts_before_cloud_init():
    assert SSHD_DROP_IN.startswith("/etc/ssh/sshd_config.d/")
    assert SSHD_DROP_IN.endswith(".conf")
    assert Path(SSHD_DROP_IN).name < "50-cloud-init.conf"


def test_sshd_drop_in_readable_by_root_only():
    assert files_by_path()[SSHD_DROP_IN].mode == "0600"


def test_host_files_contain_no_secret():
    host_key = "-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0\n-----END OPENSSH PRIVATE KEY-----\n"
    files = host_files.render_host_files(SPEC)
    bundle = host_files.render_apply_bundle(files)
    for host_file in files:
        assert "PRIVATE KEY" not in host_file.content, host_file.path
    assert "PRIVATE KEY" not in bundle
    assert "c2VjcmV0" not in bundle
    cloud_config = host_files.render_cloud_config(SPEC, files, host_key, ADMIN_KEY)
    assert "c2VjcmV0" in cloud_config, "the host key belongs in user-data only"


def test_admin_cidrs_only_in_ssh_rules():
    rules = ufw_rules(SPEC)
    for cidr in SPEC.admin_cidrs:
        with_cidr = [rule for rule in rules if cidr in rule]
        assert with_cidr == [f"limit from {cidr} to any port 22 proto tcp"]
    for rule in rules:
        if "port 22 " in rule:
            assert rule.startswith("limit from "), rule
        else:
            assert " from " not in rule, rule


def test_ufw_rules_file_lists_rules():
    assert setting_lines(content_of(UFW_RULES)) == list(ufw_rules(SPEC))


def test_published_ports_open_to_anyone():
    assert ufw_rules(SPEC)[-3:] == ("allow 80/tcp", "allow 443/tcp", "allow 443/udp")


def test_ssh_port_follows_spec():
    spec = replace(SPEC, ssh_port=2222)
    assert "Port 2222" in setting_lines(content_of(SSHD_DROP_IN, spec))
    assert all("port 2222 proto tcp" in rule for rule in ufw_rules(spec)[:2])
    assert "port = 2222" in content_of("/etc/fail2ban/jail.d/hardened-n8n.local", spec)


def test_fail2ban_ignores_narrow_admin_networks():
    spec = replace(SPEC, admin_cidrs=("203.0.113.0/24", "0.0.0.0/0", "2001:db8:1::/48", "::/0"))
    assert trusted_admin_networks(spec) == ("203.0.113.0/24", "2001:db8:1::/48")
    jail = content_of("/etc/fail2ban/jail.d/hardened-n8n.local", spec)
    assert "ignoreip = 127.0.0.1/8 ::1 203.0.113.0/24 2001:db8:1::/48" in jail.splitlines()


# Required values, one table per file. The tool tests read the same files back.
REQUIRED_SSHD = {
    "usepam": "yes",
    "permitrootlogin": "no",
    "passwordauthentication": "no",
    "kbdinteractiveauthentication": "no",
    "authenticationmethods": "publickey",
    "pubkeyauthentication": "yes",
    "permitemptypasswords": "no",
    "allowusers": "ops",
    "maxauthtries": "3",
    "logingracetime": "30",
    "clientaliveinterval": "300",
    "clientalivecountmax": "3",
    "disableforwarding": "yes",
    "allowtcpforwarding": "no",
    "allowagentforwarding": "no",
    "allowstreamlocalforwarding": "no",
    "x11forwarding": "no",
    "permittunnel": "no",
    "gatewayports": "no",
    "hostkeyalgorithms": "ssh-ed25519",
    "hostkey": "/etc/ssh/ssh_host_ed25519_key",
    "kexalgorithms": "mlkem768x25519-sha256,sntrup761x25519-sha512,"
    "sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org",
    "ciphers": "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com",
    "macs": "hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com,umac-128-etm@openssh.com",
}
REQUIRED_SYSCTL = {
    "net.ipv4.ip_forward": "1",
    "net.ipv4.conf.all.rp_filter": "1",
    "net.ipv4.conf.default.rp_filter": "1",
    "net.ipv4.tcp_syncookies": "1",
    "net.ipv4.conf.all.accept_redirects": "0",
    "net.ipv4.conf.default.accept_redirects": "0",
    "net.ipv4.conf.all.send_redirects": "0",
    "net.ipv4.conf.all.accept_source_route": "0",
    "net.ipv4.conf.all.log_martians": "1",
    "net.ipv6.conf.all.accept_redirects": "0",
    "net.ipv6.conf.all.accept_source_route": "0",
    "kernel.kptr_restrict": "2",
    "kernel.dmesg_restrict": "1",
    "fs.protected_hardlinks": "1",
    "fs.protected_symlinks": "1",
    "fs.protected_fifos": "2",
    "fs.protected_regular": "2",
    "kernel.unprivileged_bpf_disabled": "1",
    "kernel.yama.ptrace_scope": "1",
    "kernel.sysrq": "0",
    "fs.suid_dumpable": "0",
}
REQUIRED_DAEMON_JSON = {
    "icc": False,
    "no-new-privileges": True,
    "live-restore": True,
    "userland-proxy": False,
    "log-driver": "json-file",
    "exec-opts": ["native.cgroupdriver=systemd"],
}
REQUIRED_UFW_DEFAULTS = {
    "IPV6": "yes",
    "DEFAULT_INPUT_POLICY": "DROP",
    "DEFAULT_OUTPUT_POLICY": "ACCEPT",
    "DEFAULT_FORWARD_POLICY": "DROP",
    "MANAGE_BUILTINS": "no",
    "IPT_SYSCTL": SYSCTL_PATH,
}


def test_sysctl_required_values():
    values = dict(line.split(" = ") for line in setting_lines(content_of(SYSCTL_PATH)))
    for key, value in REQUIRED_SYSCTL.items():
        assert values.get(key) == value, key
    assert list(values) == list(sysctl_keys())


def test_sysctl_keeps_forwarding_for_docker():
    text = content_of(SYSCTL_PATH)
    assert "net.ipv4.ip_forward = 1" in text.splitlines()
    assert "Docker" in text.split("net.ipv4.ip_forward = 1")[0].splitlines()[-2]


def test_daemon_json_required_values():
    daemon = json.loads(content_of("/etc/docker/daemon.json"))
    for key, value in REQUIRED_DAEMON_JSON.items():
        assert daemon.get(key) == value, key
    assert set(daemon["log-opts"]) == {"max-size", "max-file"}
    assert "userns-remap" not in daemon


def test_daemon_notes_explain_every_key():
    notes = content_of("/etc/docker/daemon.json.md")
    for key in json.loads(content_of("/etc/docker/daemon.json")):
        assert f"- `{key}`: " in notes, key
    assert "- `userns-remap`: " in notes


def test_ufw_defaults_required_values():
    values = {}
    for line in setting_lines(content_of("/etc/default/ufw")):
        key, _, value = line.partition("=")
        values[key] = value.strip('"')
    for key, value in REQUIRED_UFW_DEFAULTS.items():
        assert values.get(key) == value, key


def test_journald_storage_and_cap():
    parser = configparser.ConfigParser()
    parser.read_string(content_of("/etc/systemd/journald.conf.d/60-hardened-n8n.conf"))
    assert parser["Journal"]["Storage"] == "persistent"
    assert parser["Journal"]["SystemMaxUse"] == "1G"
    spec = replace(SPEC, journal_max_use="500M")
    parser.read_string(content_of("/etc/systemd/journald.conf.d/60-hardened-n8n.conf", spec))
    assert parser["Journal"]["SystemMaxUse"] == "500M"


def test_slices_set_tasks_max():
    files = files_by_path()
    for slice_ in SPEC.slices:
        unit = configparser.ConfigParser()
        unit.read_string(files[f"/etc/systemd/system/{slice_.name}"].content)
        assert unit["Slice"]["TasksMax"] == str(slice_.tasks_max)


def test_data_dirs_unit_creates_each_folder():
    unit = content_of("/etc/systemd/system/n8n-data-dirs.service")
    assert f"RequiresMountsFor={SPEC.data_mount}" in unit.splitlines()
    assert "Before=docker.service" in unit.splitlines()
    for data_dir in SPEC.data_dirs:
        line = (
            f"ExecStart=/usr/bin/install -d -o {data_dir.uid} -g {data_dir.gid} "
            f"-m {data_dir.mode} {data_dir.path}"
        )
        assert line in unit.splitlines()


def test_no_data_dirs_means_no_data_dirs_unit():
    assert "/etc/systemd/system/n8n-data-dirs.service" not in files_by_path(
        replace(SPEC, data_dirs=())
    )


def test_docker_waits_for_data_mount():
    drop_in = content_of("/etc/systemd/system/docker.service.d/10-hardened-n8n.conf")
    assert f"RequiresMountsFor={SPEC.data_mount}" in drop_in.splitlines()


def test_spec_validation_lists_every_problem():
    bad = replace(
        SPEC,
        admin_user="root",
        admin_cidrs=("203.0.113.7/24",),
        volume_device="/dev/sdb",
        data_dirs=(DataDir("/opt/outside", 1, 1),),
        slices=(Slice("n8n-a-b.slice", 0),),
        reboot_time="25:00",
        journal_max_use="lots",
    )
    with pytest.raises(ValueError) as raised:
        host_files.render_host_files(bad)
    message = str(raised.value)
    for field in (
        "admin_user",
        "admin_cidrs",
        "volume_device",
        "data_dirs",
        "slices name",
        "tasks_max",
        "reboot_time",
        "journal_max_use",
    ):
        assert field in message, field


def test_spec_rejects_world_writable_data_dir():
    bad = replace(SPEC, data_dirs=(DataDir("/srv/n8n-data/x", 1, 1, "0777"),))
    with pytest.raises(ValueError, match="world-writable"):
        host_files.render_host_files(bad)


def test_bundle_round_trips_every_file():
    files = host_files.render_host_files(SPEC) + (EXTRA_FILE,)
    bundle = json.loads(host_files.render_apply_bundle(files))
    assert bundle["format"] == 1
    decoded = {(e["path"], e["mode"], e["content"]) for e in bundle["files"]}
    assert decoded == {(f.path, f.mode, f.content) for f in files}


def test_user_data_gzipped_within_limit():
    files = host_files.render_host_files(SPEC) + (EXTRA_FILE,)
    key = (
        "-----BEGIN OPENSSH PRIVATE KEY-----\n"
        + "A" * 400
        + "\n-----END OPENSSH PRIVATE KEY-----\n"
    )
    user_data = host_files.render_user_data(SPEC, files, key, ADMIN_KEY)
    assert len(user_data.encode()) <= USER_DATA_LIMIT
    decoded = gzip.decompress(base64.b64decode(user_data, validate=True)).decode()
    assert decoded == host_files.render_cloud_config(SPEC, files, key, ADMIN_KEY)
    assert decoded.startswith("#cloud-config\n")


def cloud_config(files: tuple[HostFile, ...] = ()) -> dict:
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0\n-----END OPENSSH PRIVATE KEY-----\n"
    files = files or host_files.render_host_files(SPEC)
    document = host_files.render_cloud_config(SPEC, files, key, "ssh-ed25519 AAAAC3Nz host")
    return yaml.safe_load(document)


def test_cloud_config_admin_user_key_only():
    config = cloud_config()
    assert config["disable_root"] is True
    assert config["ssh_pwauth"] is False
    [admin] = config["users"]
    assert admin["name"] == "ops"
    assert admin["lock_passwd"] is True
    assert admin["shell"] == "/bin/bash"
    assert admin["sudo"] == "ALL=(ALL) NOPASSWD:ALL"
    assert admin["ssh_authorized_keys"] == [ADMIN_KEY]
    assert "passwd" not in admin


def test_admin_ids_apart_from_container_ids():
    [admin] = cloud_config()["users"]
    plans = services.plan_services("2.41.3", worker_count=2, with_gateway=True)
    container_ids = {number for plan in plans for number in plan.user}

    assert admin["uid"] not in container_ids
    # cloud-init would create the docker group before docker.io does, as a regular group whose
    # gid a container could share. So the admin joins docker.io's system group in runcmd.
    assert "groups" not in admin


def test_fail2ban_keeps_bans_past_recidive():
    text = content_of("/etc/fail2ban/fail2ban.d/hardened-n8n.local")

    assert "dbpurgeage = 8d" in setting_lines(text)


def test_cloud_config_installs_pinned_host_key_only():
    config = cloud_config()
    assert config["ssh_deletekeys"] is True
    assert set(config["ssh_keys"]) == {"ed25519_private", "ed25519_public"}
    assert config["ssh_keys"]["ed25519_public"] == "ssh-ed25519 AAAAC3Nz host"


def test_cloud_config_packages():
    packages = cloud_config()["packages"]
    for package in ("ufw", "fail2ban", "python3-systemd", "unattended-upgrades", "docker.io"):
        assert package in packages, package


def test_cloud_config_volume_mount():
    [mount] = cloud_config()["mounts"]
    device, mount_point, filesystem, options, _, _ = mount
    assert device == SPEC.volume_device
    assert mount_point == SPEC.data_mount
    assert filesystem == "ext4"
    assert "nofail" in options.split(",")
    assert any(o.startswith("x-systemd.device-timeout=") for o in options.split(","))


def test_cloud_config_write_files_and_runcmd():
    files = host_files.render_host_files(SPEC) + (EXTRA_FILE,)
    config = cloud_config(files)
    written = {entry["path"]: entry for entry in config["write_files"]}
    for host_file in files:
        assert written[host_file.path]["content"] == host_file.content, host_file.path
        assert written[host_file.path]["permissions"] == host_file.mode, host_file.path
    manifest = written["/etc/hardened-n8n/manifest"]["content"]
    assert setting_lines(manifest) == [
        f"{f.mode} {f.path}" for f in sorted(files, key=lambda f: f.path)
    ]
    assert config["runcmd"] == [
        ["usermod", "--append", "--groups", "docker", "ops"],
        [APPLY, "--installed"],
    ]
    assert config["timezone"] == SPEC.timezone


def test_user_data_rejects_non_openssh_key():
    files = host_files.render_host_files(SPEC)
    with pytest.raises(ValueError, match="host_key_private") as raised:
        host_files.render_user_data(SPEC, files, "not a key: s3cr3t", ADMIN_KEY)
    assert "s3cr3t" not in str(raised.value)


def test_apply_and_ready_commands():
    assert host_files.APPLY_COMMAND.split() == ["sudo", "-n", APPLY]
    assert host_files.READY_COMMAND.split() == ["sudo", "-n", "/usr/local/sbin/n8n-host-ready"]
    assert files_by_path()[APPLY].mode == "0755"


def test_unattended_upgrades_reboot_follows_spec():
    on = content_of("/etc/apt/apt.conf.d/52hardened-n8n-upgrades")
    off = content_of(
        "/etc/apt/apt.conf.d/52hardened-n8n-upgrades", replace(SPEC, auto_reboot=False)
    )
    assert 'Unattended-Upgrade::Automatic-Reboot "true";' in on.splitlines()
    assert 'Unattended-Upgrade::Automatic-Reboot "false";' in off.splitlines()
    assert 'Unattended-Upgrade::Automatic-Reboot-Time "03:30";' in on.splitlines()


# The real tools, each in a throwaway overlay of the Debian 13 root.


def test_cloud_config_passes_cloud_init_schema(sandbox):
    private, public = throwaway_host_key(sandbox)
    files = host_files.render_host_files(SPEC) + (EXTRA_FILE,)
    sandbox.put(
        f"{SCRATCH}/cloud-config.yaml", host_files.render_cloud_config(SPEC, files, private, public)
    )

    result = sandbox.run(f"cloud-init schema -c {SCRATCH}/cloud-config.yaml")

    assert result.returncode == 0, output(result)
    assert "Valid schema" in output(result)


def test_cloud_init_schema_rejects_unknown_key(sandbox):
    private, public = throwaway_host_key(sandbox)
    document = host_files.render_cloud_config(
        SPEC, host_files.render_host_files(SPEC), private, public
    )
    sandbox.put(f"{SCRATCH}/cloud-config.yaml", document + "no_such_module: true\n")

    result = sandbox.run(f"cloud-init schema -c {SCRATCH}/cloud-config.yaml")

    assert result.returncode != 0
    assert "no_such_module" in output(result)


def test_hetzner_datasource_decodes_user_data(sandbox):
    private, public = throwaway_host_key(sandbox)
    files = host_files.render_host_files(SPEC)
    sandbox.put(f"{SCRATCH}/user-data", host_files.render_user_data(SPEC, files, private, public))
    # The two steps cloud-init 25.1 takes for Hetzner: maybe_b64decode in
    # DataSourceHetzner, then gunzip and MIME typing in user_data.
    decode = (
        "from cloudinit import user_data, util\n"
        f"raw = util.maybe_b64decode(open('{SCRATCH}/user-data', 'rb').read())\n"
        "message = user_data.UserDataProcessor({}).process(raw)\n"
        "parts = [p for p in message.walk() if not p.is_multipart()]\n"
        "print(parts[0].get_content_type())\n"
        f"open('{SCRATCH}/decoded', 'wb').write(parts[0].get_payload(decode=True))\n"
    )
    sandbox.put(f"{SCRATCH}/decode.py", decode)

    result = sandbox.run(f"python3 {SCRATCH}/decode.py")

    assert result.returncode == 0, output(result)
    assert result.stdout.strip() == "text/cloud-config"
    expected = host_files.render_cloud_config(SPEC, files, private, public)
    assert sandbox.changed(f"{SCRATCH}/decoded").read_text() == expected


def effective_sshd(sandbox: Sandbox) -> tuple[subprocess.CompletedProcess, dict[str, str]]:
    result = sandbox.run("/usr/sbin/sshd -t && /usr/sbin/sshd -T")
    settings = {}
    for line in result.stdout.splitlines():
        key, _, value = line.partition(" ")
        settings.setdefault(key, value)
    return result, settings


def test_sshd_drop_in_values_win(sandbox):
    drop_in = files_by_path()[SSHD_DROP_IN]
    sandbox.put(SSHD_DROP_IN, drop_in.content, 0o600)
    # What cloud-init might write, and worse: the drop-in must still win.
    sandbox.put(
        "/etc/ssh/sshd_config.d/50-cloud-init.conf",
        "PasswordAuthentication yes\nPermitRootLogin yes\nAllowTcpForwarding yes\n"
        "KbdInteractiveAuthentication yes\nX11Forwarding yes\n",
    )

    result, settings = effective_sshd(sandbox)

    assert result.returncode == 0, output(result)
    for key, value in REQUIRED_SSHD.items():
        assert settings.get(key) == value, key


def test_sshd_algorithms_are_known_to_openssh(sandbox):
    result = sandbox.run("ssh -Q kex; ssh -Q cipher; ssh -Q mac")
    known = set(result.stdout.split())
    for key in ("kexalgorithms", "ciphers", "macs"):
        for algorithm in REQUIRED_SSHD[key].split(","):
            assert algorithm in known, algorithm


def test_dockerd_validates_daemon_json(sandbox):
    sandbox.put(f"{SCRATCH}/daemon.json", content_of("/etc/docker/daemon.json"))

    result = sandbox.run(f"dockerd --validate --config-file {SCRATCH}/daemon.json")

    assert result.returncode == 0, output(result)
    assert "configuration OK" in output(result)


def test_fail2ban_config_test_and_jails(sandbox):
    jail = "/etc/fail2ban/jail.d/hardened-n8n.local"
    sandbox.put(jail, content_of(jail))

    checked = sandbox.run("fail2ban-client -t")
    dumped = sandbox.run("fail2ban-client -d")

    assert checked.returncode == 0, output(checked)
    dump = dumped.stdout
    assert "['add', 'sshd', 'systemd']" in dump
    assert "['add', 'recidive', 'auto']" in dump
    assert "_COMM=sshd-session" in dump
    assert "['set', 'recidive', 'bantime', '1w']" in dump
    assert "['set', 'sshd', 'addaction', 'nftables']" in dump
    assert "['set', 'recidive', 'addaction', 'nftables']" in dump
    assert "hook input priority -1" in dump
    assert "['set', 'sshd', 'addignoreip', '127.0.0.1/8', '::1', '203.0.113.0/24']" in dump


def test_systemd_analyze_verifies_units(sandbox):
    files = files_by_path()
    units = [p for p in files if p.startswith("/etc/systemd/system/")]
    for path in units:
        sandbox.put(path, files[path].content)
    sandbox.put(DOCKER_USER_SCRIPT, files[DOCKER_USER_SCRIPT].content, 0o755)
    names = " ".join(Path(p).name for p in units if "/docker.service.d/" not in p)

    result = sandbox.run(
        f"systemd-analyze verify --man=no --recursive-errors=no {names} docker.service"
    )

    assert result.returncode == 0, output(result)
    assert "hardened-n8n" not in output(result), output(result)


def bash_scripts() -> list[HostFile]:
    return [f for f in host_files.render_host_files(SPEC) if f.content.startswith("#!/bin/bash")]


def test_bash_scripts_found():
    assert {f.path for f in bash_scripts()} == {
        DOCKER_USER_SCRIPT,
        "/usr/local/sbin/n8n-host-ready",
    }


@pytest.mark.parametrize("script", bash_scripts(), ids=lambda f: Path(f.path).name)
def test_bash_scripts_pass_shellcheck(script, tmp_path):
    if shutil.which("shellcheck") is None:
        if os.environ.get("HN8N_REQUIRE_TOOLS") == "1":
            pytest.fail("shellcheck is missing: apt-get install shellcheck")
        pytest.skip("shellcheck is missing: apt-get install shellcheck")
    copy = tmp_path / "script"
    copy.write_text(script.content)

    result = subprocess.run(  # noqa: S603 - shellcheck on a rendered script
        [shutil.which("shellcheck"), "--shell=bash", "--severity=style", str(copy)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout


def test_scripts_parse_with_debian_interpreters(sandbox):
    files = files_by_path()
    for script in bash_scripts():
        sandbox.put(script.path, script.content, 0o755)
    sandbox.put(APPLY_COPY, files[APPLY].content, 0o755)
    sandbox.put(f"{SCRATCH}/ufw-defaults", files["/etc/default/ufw"].content)
    checks = [f"bash -n {script.path}" for script in bash_scripts()]
    checks += [f"python3 -m py_compile {APPLY_COPY}", f"sh -n {SCRATCH}/ufw-defaults"]

    result = sandbox.run(" && ".join(checks))

    assert result.returncode == 0, output(result)


def test_docker_user_filters_public_interface(sandbox):
    sandbox.put(DOCKER_USER_SCRIPT, content_of(DOCKER_USER_SCRIPT), 0o755)
    # Docker creates the chain and jumps to it from FORWARD before the script runs.
    prepare = "iptables -N DOCKER-USER && iptables -A FORWARD -j DOCKER-USER"

    first = sandbox.run(
        f"{prepare} && {DOCKER_USER_SCRIPT} && iptables -S DOCKER-USER && "
        f"{DOCKER_USER_SCRIPT} >/dev/null && iptables -S DOCKER-USER",
        network=True,
    )

    assert first.returncode == 0, output(first)
    rules = [line for line in first.stdout.splitlines() if line.startswith("-A ")]
    half = len(rules) // 2
    assert rules[:half] == rules[half:], "a second run must leave the same rules"
    assert rules[:half] == [
        "-A DOCKER-USER -d 169.254.169.254/32 -j DROP",
        "-A DOCKER-USER -i eth0 -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
        "-A DOCKER-USER -i eth0 -p tcp -m conntrack --ctorigdstport 80 --ctdir ORIGINAL -j RETURN",
        "-A DOCKER-USER -i eth0 -p tcp -m conntrack --ctorigdstport 443 --ctdir ORIGINAL -j RETURN",
        "-A DOCKER-USER -i eth0 -p udp -m conntrack --ctorigdstport 443 --ctdir ORIGINAL -j RETURN",
        "-A DOCKER-USER -i eth0 -j DROP",
        "-A DOCKER-USER -j RETURN",
    ]


def test_docker_user_needs_default_route(sandbox):
    sandbox.put(DOCKER_USER_SCRIPT, content_of(DOCKER_USER_SCRIPT), 0o755)

    result = sandbox.run(f"iptables -N DOCKER-USER && {DOCKER_USER_SCRIPT}")

    assert result.returncode != 0
    assert "no IPv4 default route" in result.stderr


def test_ready_fails_before_cloud_init(sandbox):
    ready = "/usr/local/sbin/n8n-host-ready"
    sandbox.put(ready, content_of(ready), 0o755)

    result = sandbox.run(f"HN8N_READY_CLOUD_INIT_TIMEOUT=2 {ready}", timeout=30)

    assert result.returncode == 1
    assert "cloud-init did not finish within 2s" in result.stderr


# The apply script, run for real in the sandbox.


def bundle_files(spec: HostSpec = SPEC) -> tuple[HostFile, ...]:
    return host_files.render_host_files(spec) + (EXTRA_FILE,)


def prepare_apply(sandbox: Sandbox, files: tuple[HostFile, ...]) -> None:
    """Put the apply script outside its install path, and a sysctl tree for the keys.

    The host's kernel is not Debian's (it lacks kernel.yama, for one), so the sysctl check
    gets a folder that lists the keys instead of /proc/sys.
    """
    by_path = {f.path: f for f in files}
    sandbox.put(APPLY_COPY, by_path.get(APPLY, files_by_path()[APPLY]).content, 0o755)
    for key in sysctl_keys():
        sandbox.put(f"{PROC_SYS_COPY}/{key.replace('.', '/')}", "0\n")


def run_apply(
    sandbox: Sandbox, files: tuple[HostFile, ...], *options: str
) -> subprocess.CompletedProcess:
    arguments = " ".join(("--skip-services", f"--proc-sys {PROC_SYS_COPY}", *options))
    return sandbox.run(
        f"python3 {APPLY_COPY} {arguments}",
        stdin=host_files.render_apply_bundle(files),
        timeout=120,
    )


def installed_paths(sandbox: Sandbox, files: tuple[HostFile, ...]) -> list[str]:
    return [f.path for f in files if sandbox.changed(f.path).exists()]


def test_apply_installs_bundle_then_changes_nothing(sandbox):
    files = bundle_files()
    prepare_apply(sandbox, files)

    first = run_apply(sandbox, files)

    assert first.returncode == 0, output(first)
    for host_file in files:
        installed = sandbox.changed(host_file.path)
        assert installed.read_text() == host_file.content, host_file.path
        assert oct(installed.stat().st_mode & 0o7777) == oct(int(host_file.mode, 8)), host_file.path
    # ufw lists IPv6-only rules after the others, so compare without order.
    listed = sandbox.run("ufw show added").stdout.splitlines()[1:]
    assert sorted(line.removeprefix("ufw ") for line in listed) == sorted(ufw_rules(SPEC))
    stamps = {f.path: sandbox.changed(f.path).stat().st_mtime_ns for f in files}

    second = run_apply(sandbox, files)

    assert second.returncode == 0, output(second)
    assert "n8n-host-apply: no changes" in second.stdout
    assert "installed" not in second.stdout
    assert {f.path: sandbox.changed(f.path).stat().st_mtime_ns for f in files} == stamps


def test_apply_deletes_unlisted_ufw_rules(sandbox):
    files = bundle_files()
    prepare_apply(sandbox, files)
    stale = sandbox.run(
        "ufw allow 8080/tcp && ufw limit from 198.51.100.0/24 to any port 22 proto tcp"
    )
    assert stale.returncode == 0, output(stale)

    result = run_apply(sandbox, files)

    assert result.returncode == 0, output(result)
    assert "deleted UFW rule: allow 8080/tcp" in result.stdout
    listed = sandbox.run("ufw show added").stdout
    assert "8080" not in listed
    assert "198.51.100.0/24" not in listed
    assert "ufw limit from 203.0.113.0/24 to any port 22 proto tcp" in listed


def test_apply_check_lists_changed_only(sandbox):
    files = bundle_files()
    prepare_apply(sandbox, files)
    assert run_apply(sandbox, files).returncode == 0
    changed_jail = "/etc/fail2ban/jail.d/hardened-n8n.local"
    edited = tuple(
        replace(f, content=f.content.replace("bantime = 1h", "bantime = 2h"))
        if f.path == changed_jail
        else f
        for f in files
    )

    result = run_apply(sandbox, edited, "--check")

    assert result.returncode == 0, output(result)
    assert result.stdout.splitlines() == [
        f"n8n-host-apply: would install {changed_jail}",
        "n8n-host-apply: would run systemctl reload-or-restart fail2ban.service",
    ]
    assert "bantime = 1h" in sandbox.changed(changed_jail).read_text(), "--check changes nothing"


@pytest.mark.parametrize(
    ("path", "restarts_docker"),
    [
        ("/etc/docker/daemon.json", True),
        ("/etc/systemd/system/docker.service.d/10-hardened-n8n.conf", False),
    ],
)
def test_apply_restarts_docker_for_daemon_json(sandbox, path, restarts_docker):
    files = bundle_files()
    prepare_apply(sandbox, files)
    assert run_apply(sandbox, files).returncode == 0
    edited = tuple(replace(f, content=f.content + "\n") if f.path == path else f for f in files)

    result = run_apply(sandbox, edited, "--check")

    assert result.returncode == 0, output(result)
    restart = "would run systemctl restart docker.service" in result.stdout
    assert restart == restarts_docker


def test_apply_installed_mode_applies_manifest(sandbox):
    files = bundle_files()
    prepare_apply(sandbox, files)
    for host_file in files:
        sandbox.put(host_file.path, host_file.content, int(host_file.mode, 8))
    manifest = "".join(f"{f.mode} {f.path}\n" for f in files)
    sandbox.put("/etc/hardened-n8n/manifest", manifest)

    result = sandbox.run(
        f"python3 {APPLY} --installed --skip-services --proc-sys {PROC_SYS_COPY}", timeout=120
    )

    assert result.returncode == 0, output(result)
    state = json.loads(sandbox.changed("/var/lib/hardened-n8n/applied.json").read_text())
    assert set(state["files"]) == {f.path for f in files}


def edit(files: tuple[HostFile, ...], path: str, old: str, new: str) -> tuple[HostFile, ...]:
    edited = []
    for host_file in files:
        if host_file.path == path:
            assert old in host_file.content, f"{old!r} not in {path}"
            host_file = replace(host_file, content=host_file.content.replace(old, new, 1))
        edited.append(host_file)
    return tuple(edited)


def add(files: tuple[HostFile, ...], path: str, content: str, mode: str = "0644"):
    return (*files, HostFile(path, content, mode))


# Each case breaks one file the way a mistake would. The apply script must name the file,
# exit 2 and install nothing.
BROKEN_BUNDLES = {
    "sshd-bad-value": (
        lambda fs: edit(fs, SSHD_DROP_IN, "PermitRootLogin no", "PermitRootLogin maybe"),
        SSHD_DROP_IN,
    ),
    "sshd-overridden-earlier": (
        lambda fs: add(fs, "/etc/ssh/sshd_config.d/05-early.conf", "PasswordAuthentication yes\n"),
        "passwordauthentication is 'yes' in effect",
    ),
    "daemon-json-unknown-key": (
        lambda fs: edit(
            fs, "/etc/docker/daemon.json", '"icc": false', '"icc": false, "no-such": 1'
        ),
        "/etc/docker/daemon.json: dockerd --validate failed",
    ),
    "fail2ban-missing-action": (
        lambda fs: edit(
            fs,
            "/etc/fail2ban/jail.d/hardened-n8n.local",
            "banaction = nftables",
            "banaction = nope",
        ),
        "/etc/fail2ban/jail.d/hardened-n8n.local: fail2ban-client -t failed",
    ),
    "slice-bad-tasks-max": (
        lambda fs: edit(fs, "/etc/systemd/system/n8n-main.slice", "TasksMax=512", "TasksMax=lots"),
        "n8n-main.slice",
    ),
    "unit-unknown-key": (
        lambda fs: edit(
            fs,
            "/etc/systemd/system/docker.service.d/10-hardened-n8n.conf",
            "RequiresMountsFor=",
            "RequiresMountFor=",
        ),
        "docker.service.d/10-hardened-n8n.conf",
    ),
    "sysctl-unknown-key": (
        lambda fs: edit(fs, SYSCTL_PATH, "kernel.sysrq = 0", "kernel.no_such_key = 0"),
        "kernel.no_such_key does not exist",
    ),
    "apt-syntax": (
        lambda fs: edit(
            fs,
            "/etc/apt/apt.conf.d/52hardened-n8n-upgrades",
            'APT::Periodic::Unattended-Upgrade "1";',
            'APT::Periodic::Unattended-Upgrade "1" x;',
        ),
        "/etc/apt/apt.conf.d/52hardened-n8n-upgrades: apt-config failed",
    ),
    "ufw-bad-network": (
        lambda fs: edit(fs, UFW_RULES, "203.0.113.0/24", "203.0.113.0/33"),
        f"{UFW_RULES}: ufw rejects",
    ),
    "ufw-defaults-syntax": (
        lambda fs: edit(fs, "/etc/default/ufw", "IPV6=yes", 'IPV6="yes'),
        "/etc/default/ufw: shell syntax error",
    ),
    "bash-syntax": (
        lambda fs: edit(fs, DOCKER_USER_SCRIPT, "main() {", "main() {{"),
        f"{DOCKER_USER_SCRIPT}: shell syntax error",
    ),
    "python-syntax": (
        lambda fs: edit(fs, APPLY, "def main(argv: list) -> int:", "def main(argv: list) -> int"),
        f"{APPLY}: invalid Python",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN_BUNDLES))
def test_apply_rejects_broken_file(sandbox, case):
    breaks, expected = BROKEN_BUNDLES[case]
    files = breaks(bundle_files())
    prepare_apply(sandbox, bundle_files())

    result = run_apply(sandbox, files)

    assert result.returncode == 2, output(result)
    assert expected in result.stdout, result.stdout
    assert "nothing was installed" in result.stdout
    assert installed_paths(sandbox, files) == []
    assert sandbox.run("ufw show added").stdout.splitlines()[1:] == ["(None)"]


def test_apply_rolls_back_when_install_fails(sandbox):
    # Files install in path order: the first succeeds, then the second cannot be created
    # because its parent /etc/hostname is a file.
    first = HostFile("/etc/a-first.conf", "first\n")
    blocked = HostFile("/etc/hostname/blocked.conf", "blocked\n")
    sandbox.put(APPLY_COPY, content_of(APPLY), 0o755)
    bundle = host_files.render_apply_bundle((first, blocked))

    result = sandbox.run(f"python3 {APPLY_COPY} --skip-services", stdin=bundle)

    assert result.returncode == 3, output(result)
    assert "installed /etc/a-first.conf" in result.stdout
    assert "every file was restored" in result.stdout
    assert not sandbox.changed("/etc/a-first.conf").exists()


def test_apply_sysctl_keys_on_running_kernel(sandbox):
    # Keys that exist on every kernel this runs on, then one that exists on none.
    good = HostFile(SYSCTL_PATH, "net.ipv4.tcp_syncookies = 1\nfs.protected_symlinks = 1\n")
    bad = HostFile(SYSCTL_PATH, "net.ipv4.tcp_syncookies = 1\nnet.ipv4.no_such_key = 1\n")
    sandbox.put(APPLY_COPY, content_of(APPLY), 0o755)
    command = f"python3 {APPLY_COPY} --skip-services"

    accepted = sandbox.run(command, stdin=host_files.render_apply_bundle((good,)))
    rejected = sandbox.run(command, stdin=host_files.render_apply_bundle((bad,)))

    assert accepted.returncode == 0, output(accepted)
    assert rejected.returncode == 2, output(rejected)
    assert "net.ipv4.no_such_key does not exist on this kernel" in rejected.stdout


def test_apply_rejects_unsafe_bundle_path(sandbox):
    sandbox.put(APPLY_COPY, content_of(APPLY), 0o755)
    bundle = json.dumps(
        {"format": 1, "files": [{"path": "/etc/../root/x", "mode": "0644", "content": ""}]}
    )

    result = sandbox.run(f"python3 {APPLY_COPY} --skip-services", stdin=bundle)

    assert result.returncode == 1
    assert "is not a clean absolute file path" in result.stdout
