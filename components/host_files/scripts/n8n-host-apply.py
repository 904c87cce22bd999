#!/usr/bin/python3
"""Install the hardened-n8n host files from a bundle, then reload only what changed.

The bundle is JSON on stdin: {"format": 1, "files": [{"path", "mode", "content"}]}. With
--installed the bundle is instead built from the files cloud-init already wrote, as listed in
/etc/hardened-n8n/manifest (first boot).

Steps, each finished before the next starts:
1. Stage every file in a private work folder.
2. Validate the staged files with the tools that read them (sshd -t, dockerd --validate,
   fail2ban-client -t, systemd-analyze verify, apt-config, ufw, bash -n, sysctl keys). If
   anything is invalid, print each problem with its file, install nothing and exit 2.
3. Install the files whose content or mode differ, each by an atomic rename. If one fails,
   restore every file already replaced and exit 3.
4. Reload or restart the services whose files changed since the last successful run, and make
   UFW's rules match /etc/hardened-n8n/ufw-rules. Docker restarts only for a new daemon.json
   (live-restore keeps the containers running). Exit 4 if a step fails.
5. Record what was applied in /var/lib/hardened-n8n/applied.json.

A second run with the same bundle installs nothing and reloads nothing.
Python 3 standard library only: it runs on a fresh Debian 13 host.
"""

import argparse
import hashlib
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

STATE_DIR = Path("/var/lib/hardened-n8n")
STATE_FILE = STATE_DIR / "applied.json"
MANIFEST = Path("/etc/hardened-n8n/manifest")
BUNDLE_FORMAT = 1
# Files may go anywhere on the root file system except the kernel's virtual ones.
FORBIDDEN_PREFIXES = ("/proc/", "/sys/", "/dev/", "/run/")
MODE_PATTERN = re.compile(r"^0[0-7]{3}$")

SSHD_DROP_IN_DIR = "/etc/ssh/sshd_config.d/"
SSHD_MAIN = Path("/etc/ssh/sshd_config")
DAEMON_JSON = "/etc/docker/daemon.json"
FAIL2BAN_DIR = "/etc/fail2ban/"
UNIT_DIR = "/etc/systemd/system/"
SYSCTL_DIR = "/etc/sysctl.d/"
APT_PARTS_DIR = "/etc/apt/apt.conf.d/"
JOURNALD_DIR = "/etc/systemd/journald.conf.d/"
UFW_DEFAULTS = "/etc/default/ufw"
UFW_RULES = "/etc/hardened-n8n/ufw-rules"
DATA_DIRS_UNIT = "n8n-data-dirs.service"
DOCKER_USER_UNIT = "n8n-docker-user-firewall.service"
DOCKER_USER_SCRIPT = "/usr/local/sbin/n8n-docker-user-firewall"
# Settings whose effective value `sshd -T` must show as the drop-in sets it. Another drop-in
# that sorts earlier could otherwise override them without any error.
SSHD_ENFORCED = (
    "permitrootlogin",
    "passwordauthentication",
    "kbdinteractiveauthentication",
    "authenticationmethods",
    "pubkeyauthentication",
    "permitemptypasswords",
    "disableforwarding",
    "allowusers",
)
TOOL_TIMEOUT_SECONDS = 120
# A restart of n8n-data-dirs.service waits for the data volume's mount, which waits up to
# x-systemd.device-timeout (300 s in /etc/fstab) for the device.
SERVICE_TIMEOUT_SECONDS = 420

EXIT_INVALID = 2
EXIT_INSTALL_FAILED = 3
EXIT_ACTIVATION_FAILED = 4


class BundleError(Exception):
    """The bundle or manifest cannot be read."""


@dataclass(frozen=True)
class HostFile:
    path: str
    mode: str
    content: bytes

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.mode.encode() + b"\0" + self.content).hexdigest()


@dataclass
class Plan:
    listed: set  # every path in the bundle
    install: list  # HostFile whose content or mode differ on disk
    remove: list  # paths applied last time that the bundle no longer lists
    activate: set  # paths whose services must pick up a change

    @property
    def installed(self) -> set:
        return {host_file.path for host_file in self.install}

    @property
    def is_empty(self) -> bool:
        return not (self.install or self.remove or self.activate)


def log(message: str) -> None:
    print(f"n8n-host-apply: {message}", flush=True)


def run(
    command: list, timeout: int = TOOL_TIMEOUT_SECONDS, **kwargs
) -> subprocess.CompletedProcess:
    """Run a command and capture its output as text.

    A missing program returns exit status 127 and a timeout 124, like the shell and timeout(1).
    """
    try:
        # The commands are this script's own tool calls, with paths from the bundle as arguments.
        return subprocess.run(  # noqa: S603
            command, capture_output=True, text=True, timeout=timeout, check=False, **kwargs
        )
    except FileNotFoundError:
        return subprocess.CompletedProcess(command, 127, "", f"{command[0]}: command not found")
    except subprocess.TimeoutExpired:
        message = f"{command[0]}: timed out after {timeout}s"
        return subprocess.CompletedProcess(command, 124, "", message)


def output_of(result: subprocess.CompletedProcess) -> str:
    return (result.stdout + result.stderr).strip()


# Reading the bundle.


def parse_bundle(text: str) -> list:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise BundleError(f"the bundle on stdin is not JSON: {error}") from error
    if not isinstance(data, dict) or data.get("format") != BUNDLE_FORMAT:
        raise BundleError(f'the bundle must be a JSON object with "format": {BUNDLE_FORMAT}')
    files = [_bundle_file(entry) for entry in data.get("files", [])]
    paths = [f.path for f in files]
    if len(set(paths)) != len(paths):
        raise BundleError("the bundle lists a path twice")
    return files


def _bundle_file(entry) -> HostFile:
    if not isinstance(entry, dict) or not all(
        isinstance(entry.get(key), str) for key in ("path", "mode", "content")
    ):
        raise BundleError(f"bundle entry {entry!r:.80} needs string path, mode and content")
    check_path(entry["path"])
    if not MODE_PATTERN.fullmatch(entry["mode"]):
        raise BundleError(f"{entry['path']}: mode {entry['mode']!r} is not like 0644")
    return HostFile(entry["path"], entry["mode"], entry["content"].encode())


def check_path(path: str) -> None:
    if not path.startswith("/") or os.path.normpath(path) != path or path.endswith("/"):
        raise BundleError(f"{path!r} is not a clean absolute file path")
    if path.startswith(FORBIDDEN_PREFIXES):
        raise BundleError(f"{path} is on a virtual file system")


def read_installed(manifest: Path) -> list:
    """Build the bundle from the installed files that the manifest lists."""
    files = []
    for number, line in enumerate(manifest.read_text().splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        mode, _, path = line.partition(" ")
        if not MODE_PATTERN.fullmatch(mode):
            raise BundleError(f"{manifest}:{number}: expected '<mode> <path>'")
        check_path(path)
        try:
            content = Path(path).read_bytes()
        except OSError as error:
            raise BundleError(f"{path} is listed in {manifest} but unreadable: {error}") from error
        files.append(HostFile(path, mode, content))
    return files


# Staging and validation.


def stage(files: list, work: Path) -> dict:
    """Write every file under work/staged and return {path: staged copy}."""
    staged = {}
    for host_file in files:
        target = work / "staged" / host_file.path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(host_file.content)
        target.chmod(int(host_file.mode, 8))
        staged[host_file.path] = target
    return staged


def validate(files: list, staged: dict, work: Path, proc_sys: Path) -> tuple:
    """Check every staged file with the tool that reads it.

    Returns the problems found and the UFW rules in canonical form (None without a rules file
    or when the rules are invalid).
    """
    by_path = {f.path: f for f in files}
    checks = (
        lambda: validate_sshd(staged, work),
        lambda: validate_dockerd(staged),
        lambda: validate_fail2ban(staged, work),
        lambda: validate_units(by_path, staged, work),
        lambda: validate_sysctl(by_path, proc_sys),
        lambda: validate_apt(staged, work),
        lambda: validate_scripts(by_path, staged),
    )
    problems = []
    for check in checks:
        problems += _guarded(check)
    ufw_rules = None
    if UFW_RULES in by_path:
        try:
            ufw_problems, ufw_rules = canonical_ufw_rules(by_path, staged, work)
        except OSError as error:
            ufw_problems = [f"{UFW_RULES}: cannot check the rules: {error}"]
        problems += ufw_problems
    return problems, ufw_rules


def _guarded(check) -> list:
    # A missing folder (a package not installed yet) is a validation failure, not a crash.
    try:
        return check()
    except OSError as error:
        return [f"cannot validate: {error}"]


def validate_sshd(staged: dict, work: Path) -> list:
    drop_ins = {p: s for p, s in staged.items() if p.startswith(SSHD_DROP_IN_DIR)}
    if not drop_ins:
        return []
    folder = work / "sshd_config.d"
    folder.mkdir()
    for existing in Path(SSHD_DROP_IN_DIR).glob("*.conf"):
        shutil.copy2(existing, folder / existing.name)
    for path, copy in drop_ins.items():
        shutil.copy2(copy, folder / Path(path).name)
    main_text = SSHD_MAIN.read_text()
    if SSHD_DROP_IN_DIR not in main_text:
        return [f"{SSHD_MAIN} does not include {SSHD_DROP_IN_DIR}, so the drop-in has no effect"]
    main = work / "sshd_config"
    main.write_text(main_text.replace(SSHD_DROP_IN_DIR, f"{folder}/"))
    main.chmod(0o600)
    checked = run(["/usr/sbin/sshd", "-t", "-f", str(main)])
    if checked.returncode != 0:
        return [f"{path}: sshd -t failed: {output_of(checked)}" for path in drop_ins]
    effective = run(["/usr/sbin/sshd", "-T", "-f", str(main)])
    if effective.returncode != 0:
        return [f"sshd -T failed: {output_of(effective)}"]
    return _sshd_overridden(drop_ins, _sshd_settings(effective.stdout))


def _sshd_settings(text: str) -> dict:
    settings = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        settings.setdefault(key.lower(), value.strip().lower())
    return settings


def _sshd_overridden(drop_ins: dict, effective: dict) -> list:
    problems = []
    for path, copy in drop_ins.items():
        for key, value in _sshd_settings(_without_comments(copy.read_text())).items():
            if key in SSHD_ENFORCED and effective.get(key) != value:
                problems.append(
                    f"{path}: {key} is {effective.get(key)!r} in effect, not {value!r}, "
                    "because a file read earlier sets it first"
                )
    return problems


def _without_comments(text: str) -> str:
    lines = (line.strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("#"))


def validate_dockerd(staged: dict) -> list:
    if DAEMON_JSON not in staged:
        return []
    result = run(["dockerd", "--validate", "--config-file", str(staged[DAEMON_JSON])])
    if result.returncode != 0:
        return [f"{DAEMON_JSON}: dockerd --validate failed: {output_of(result)}"]
    return []


def validate_fail2ban(staged: dict, work: Path) -> list:
    changed = {p: s for p, s in staged.items() if p.startswith(FAIL2BAN_DIR)}
    if not changed:
        return []
    folder = work / "fail2ban"
    shutil.copytree(FAIL2BAN_DIR, folder, symlinks=True)
    for path, copy in changed.items():
        target = folder / Path(path).relative_to(FAIL2BAN_DIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(copy, target)
    result = run(["fail2ban-client", "-c", str(folder), "-t"])
    if result.returncode != 0:
        return [f"{path}: fail2ban-client -t failed: {output_of(result)}" for path in changed]
    return []


def validate_units(by_path: dict, staged: dict, work: Path) -> list:
    units = {p: s for p, s in staged.items() if p.startswith(UNIT_DIR)}
    if not units:
        return []
    folder = work / "units"
    names = set()
    for path, copy in units.items():
        relative = Path(path).relative_to(UNIT_DIR)
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(copy, target)
        # A drop-in (x.service.d/y.conf) is checked by verifying the unit it extends.
        names.add(relative.parts[0].removesuffix(".d"))
    # A trailing colon keeps the default unit folders after the staged one, so drop-ins are
    # verified together with the packaged unit they extend.
    environment = dict(os.environ, SYSTEMD_UNIT_PATH=f"{folder}:")
    result = run(
        ["systemd-analyze", "verify", "--man=no", "--recursive-errors=no", *sorted(names)],
        env=environment,
        cwd=folder,
    )
    problems = []
    for line in output_of(result).splitlines():
        mentions_staged = str(folder) in line or any(name in line for name in names)
        if mentions_staged and not _is_staged_command(line, by_path):
            problems.append(f"systemd-analyze verify: {line}")
    return problems


def _is_staged_command(line: str, by_path: dict) -> bool:
    # verify requires ExecStart= programs to exist. One that arrives in this bundle with an
    # executable mode exists once installed.
    match = re.search(r"Command (\S+) is not executable: No such file or directory", line)
    if not match or match.group(1) not in by_path:
        return False
    return int(by_path[match.group(1)].mode, 8) & stat.S_IXUSR != 0


def validate_sysctl(by_path: dict, proc_sys: Path) -> list:
    problems = []
    for path, host_file in by_path.items():
        if not (path.startswith(SYSCTL_DIR) and path.endswith(".conf")):
            continue
        for number, line in enumerate(host_file.content.decode().splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith(("#", ";")):
                continue
            key, equals, _ = line.partition("=")
            key = key.strip()
            if not equals or not key:
                problems.append(f"{path}:{number}: expected 'key = value'")
            elif not (proc_sys / key.replace(".", "/")).exists():
                problems.append(f"{path}:{number}: {key} does not exist on this kernel")
    return problems


def validate_apt(staged: dict, work: Path) -> list:
    changed = {p: s for p, s in staged.items() if p.startswith(APT_PARTS_DIR)}
    if not changed:
        return []
    folder = work / "apt.conf.d"
    shutil.copytree(APT_PARTS_DIR, folder, symlinks=True)
    for path, copy in changed.items():
        shutil.copy2(copy, folder / Path(path).name)
    main = work / "apt.conf"
    main.write_text(f'Dir::Etc::Parts "{folder}";\n')
    result = run(["apt-config", "dump"], env=dict(os.environ, APT_CONFIG=str(main)))
    if result.returncode != 0:
        return [f"{path}: apt-config failed: {output_of(result)}" for path in changed]
    return []


def validate_scripts(by_path: dict, staged: dict) -> list:
    problems = []
    for path, host_file in by_path.items():
        first_line = host_file.content.split(b"\n", 1)[0]
        if path == UFW_DEFAULTS:
            result = run(["sh", "-n", str(staged[path])])
        elif first_line == b"#!/bin/bash":
            result = run(["bash", "-n", str(staged[path])])
        elif first_line == b"#!/usr/bin/python3":
            try:
                compile(host_file.content, path, "exec")
            except SyntaxError as error:
                problems.append(f"{path}: invalid Python: {error}")
            continue
        else:
            continue
        if result.returncode != 0:
            problems.append(f"{path}: shell syntax error: {output_of(result)}")
    return problems


def canonical_ufw_rules(by_path: dict, staged: dict, work: Path) -> tuple:
    """Add the rules to an empty, disabled copy of UFW's files and read them back.

    UFW rejects invalid rules, and `ufw show added` prints each rule in the one form that a
    later `ufw delete` accepts, so the result is what the live rule list is compared with.
    """
    scratch = work / "ufw"
    (scratch / "etc" / "default").mkdir(parents=True)
    (scratch / "lib" / "ufw").mkdir(parents=True)
    shutil.copytree("/etc/ufw", scratch / "etc" / "ufw", symlinks=True)
    for name in ("user.rules", "user6.rules"):
        shutil.copy2(f"/usr/share/ufw/iptables/{name}", scratch / "etc" / "ufw" / name)
    defaults = staged.get(UFW_DEFAULTS, Path(UFW_DEFAULTS))
    shutil.copy2(defaults, scratch / "etc" / "default" / "ufw")
    (scratch / "etc" / "ufw" / "ufw.conf").write_text("ENABLED=no\nLOGLEVEL=low\n")
    problems = []
    for rule in _rule_lines(by_path[UFW_RULES].content.decode()):
        result = run(["ufw", f"--datadir={scratch}", *shlex.split(rule)])
        if result.returncode != 0 or "ERROR" in result.stdout + result.stderr:
            problems.append(f"{UFW_RULES}: ufw rejects {rule!r}: {output_of(result)}")
    if problems:
        return problems, None
    added = run(["ufw", f"--datadir={scratch}", "show", "added"])
    if added.returncode != 0:
        return [f"{UFW_RULES}: ufw show added failed: {output_of(added)}"], None
    return [], _added_rules(added.stdout)


def _rule_lines(text: str) -> list:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _added_rules(text: str) -> list:
    return [line[len("ufw ") :] for line in text.splitlines() if line.startswith("ufw ")]


# Deciding what changed and installing it.


def load_state() -> dict:
    try:
        return json.loads(STATE_FILE.read_text()).get("files", {})
    except (OSError, ValueError):
        return {}


def save_state(files: list) -> None:
    STATE_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    state = {"format": BUNDLE_FORMAT, "files": {f.path: f.digest for f in files}}
    temporary = STATE_FILE.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, indent=1, sort_keys=True) + "\n")
    os.replace(temporary, STATE_FILE)


def make_plan(files: list, state: dict) -> Plan:
    install = [f for f in files if differs_on_disk(f)]
    listed = {f.path for f in files}
    remove = sorted(p for p in state if p not in listed and os.path.lexists(p))
    activate = {f.path for f in install}
    activate |= {f.path for f in files if state.get(f.path) != f.digest}
    activate |= set(remove)
    return Plan(listed, install, remove, activate)


def differs_on_disk(host_file: HostFile) -> bool:
    try:
        info = os.lstat(host_file.path)
        if not stat.S_ISREG(info.st_mode) or stat.S_IMODE(info.st_mode) != int(host_file.mode, 8):
            return True
        return Path(host_file.path).read_bytes() != host_file.content
    except (FileNotFoundError, NotADirectoryError):
        return True


def install(plan: Plan, work: Path) -> None:
    """Replace and remove files. On any failure, put every touched path back and re-raise."""
    backups = []
    try:
        for host_file in plan.install:
            backups.append(_backup(host_file.path, work, len(backups)))
            _write_atomically(host_file)
            log(f"installed {host_file.path}")
        for path in plan.remove:
            backups.append(_backup(path, work, len(backups)))
            os.unlink(path)
            log(f"removed {path}, which the bundle no longer lists")
    except OSError:
        for path, backup in reversed(backups):
            _restore(path, backup)
        raise


def _backup(path: str, work: Path, number: int) -> tuple:
    if not os.path.lexists(path):
        return path, None
    backup = work / "backup" / str(number)
    backup.parent.mkdir(exist_ok=True)
    shutil.copy2(path, backup, follow_symlinks=False)
    return path, backup


def _restore(path: str, backup) -> None:
    if backup is None:
        if os.path.lexists(path):
            os.unlink(path)
    else:
        shutil.copy2(backup, path + ".n8n-restore", follow_symlinks=False)
        os.replace(path + ".n8n-restore", path)


def _write_atomically(host_file: HostFile) -> None:
    target = Path(host_file.path)
    target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(host_file.content)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, int(host_file.mode, 8))
        os.replace(temporary, target)
    except OSError:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


# Making services pick up the changes.


def stop_removed_services(plan: Plan) -> None:
    """Stop and disable services whose unit file is about to be removed.

    systemctl needs the unit file to find its symlinks, so this runs before the removal. A
    failure is only logged, because the unit may never have been enabled.
    """
    for path in plan.remove:
        relative = path.removeprefix(UNIT_DIR)
        if path.startswith(UNIT_DIR) and "/" not in relative and relative.endswith(".service"):
            result = run(["systemctl", "disable", "--now", relative])
            log(f"systemctl disable --now {relative}: exit {result.returncode}")


def activation_steps(plan: Plan) -> list:
    """Return the commands that make services use the changed files, in order."""
    changed = plan.activate
    steps = []
    if any(p.startswith(UNIT_DIR) for p in changed):
        steps.append(["systemctl", "daemon-reload"])
    for path in sorted(p for p in changed & plan.listed if p.startswith(SYSCTL_DIR)):
        steps.append(["/usr/lib/systemd/systemd-sysctl", path])
    if any(p.startswith(JOURNALD_DIR) for p in changed):
        steps.append(["systemctl", "restart", "systemd-journald.service"])
    if any(p.startswith(SSHD_DROP_IN_DIR) for p in changed):
        # try-reload-or-restart does nothing while ssh.service is stopped, as under socket
        # activation, where each connection reads the configuration anew.
        steps.append(["systemctl", "try-reload-or-restart", "ssh.service"])
    if any(p.startswith(FAIL2BAN_DIR) for p in changed):
        steps.append(["systemctl", "reload-or-restart", "fail2ban.service"])
    # At first boot daemon.json is written before docker.io is installed, so dockerd already
    # runs with it. Only a daemon.json installed by this run needs a restart.
    if DAEMON_JSON in plan.installed:
        steps.append(["systemctl", "restart", "docker.service"])
    for unit, files in (
        (DATA_DIRS_UNIT, {UNIT_DIR + DATA_DIRS_UNIT}),
        (DOCKER_USER_UNIT, {UNIT_DIR + DOCKER_USER_UNIT, DOCKER_USER_SCRIPT}),
    ):
        if changed & files and UNIT_DIR + unit in plan.listed:
            steps.append(["systemctl", "enable", unit])
            steps.append(["systemctl", "restart", unit])
    return steps


def activate(plan: Plan, ufw_rules, skip_services: bool) -> list:
    """Run the activation steps and the UFW convergence, and return their failures."""
    failures = []
    steps = [] if skip_services else activation_steps(plan)
    for command in steps:
        result = run(command, timeout=SERVICE_TIMEOUT_SECONDS)
        if result.returncode != 0:
            failures.append(f"{shlex.join(command)} failed: {output_of(result)}")
        else:
            log(shlex.join(command))
    if ufw_rules is not None:
        failures += converge_ufw(ufw_rules, UFW_DEFAULTS in plan.activate, skip_services)
    return failures


def converge_ufw(rules: list, defaults_changed: bool, skip_services: bool) -> list:
    """Add missing UFW rules, then delete unlisted ones, then enable UFW if it is off.

    Adding first means the host is never less open to a listed source than before, and
    deleting never needs a reset, which would open the host until every rule is back.
    """
    listed = run(["ufw", "show", "added"])
    if listed.returncode != 0:
        return [f"ufw show added failed: {output_of(listed)}"]
    current = _added_rules(listed.stdout)
    failures = []
    for rule in [r for r in rules if r not in current]:
        failures += _ufw(shlex.split(rule), f"added UFW rule: {rule}")
    for rule in [r for r in current if r not in rules]:
        failures += _ufw(["--force", "delete", *shlex.split(rule)], f"deleted UFW rule: {rule}")
    if skip_services or failures:
        return failures
    status = run(["ufw", "status"])
    if "Status: active" not in status.stdout:
        failures += _ufw(["--force", "enable"], "enabled UFW")
    elif defaults_changed:
        # New default policies take effect only on reload, which briefly stops UFW.
        failures += _ufw(["reload"], f"reloaded UFW for the new {UFW_DEFAULTS}")
    return failures


def _ufw(arguments: list, done: str) -> list:
    result = run(["ufw", *arguments])
    if result.returncode != 0:
        return [f"ufw {shlex.join(arguments)} failed: {output_of(result)}"]
    log(done)
    return []


# Command line.


def parse_arguments(argv: list) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--installed",
        action="store_true",
        help=f"build the bundle from the files listed in {MANIFEST} instead of stdin",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="validate and print the plan, change nothing",
    )
    parser.add_argument(
        "--skip-services",
        action="store_true",
        help="install files and UFW rules but run no systemctl, sysctl or ufw enable/reload "
        "(a chroot or image build, where no systemd is running)",
    )
    parser.add_argument(
        "--proc-sys",
        type=Path,
        default=Path("/proc/sys"),
        help="folder whose tree lists the kernel's sysctl keys (default: /proc/sys)",
    )
    return parser.parse_args(argv)


def main(argv: list) -> int:
    arguments = parse_arguments(argv)
    try:
        files = read_installed(MANIFEST) if arguments.installed else parse_bundle(sys.stdin.read())
    except (BundleError, OSError) as error:
        log(f"error: {error}")
        return 1

    STATE_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="apply-", dir=STATE_DIR) as work_dir:
        work = Path(work_dir)
        staged = stage(files, work)
        problems, ufw_rules = validate(files, staged, work, arguments.proc_sys)
        if problems:
            for problem in problems:
                log(f"invalid: {problem}")
            log("nothing was installed")
            return EXIT_INVALID

        plan = make_plan(files, load_state())
        if arguments.check:
            print_plan(plan)
            return 0
        if not arguments.skip_services:
            stop_removed_services(plan)
        try:
            install(plan, work)
        except OSError as error:
            log(f"error: installing failed, every file was restored: {error}")
            return EXIT_INSTALL_FAILED

    failures = activate(plan, ufw_rules, arguments.skip_services)
    if failures:
        for failure in failures:
            log(f"error: {failure}")
        return EXIT_ACTIVATION_FAILED
    save_state(files)
    if plan.is_empty:
        log("no changes")
    return 0


def print_plan(plan: Plan) -> None:
    for host_file in plan.install:
        log(f"would install {host_file.path}")
    for path in plan.remove:
        log(f"would remove {path}")
    for command in activation_steps(plan):
        log(f"would run {shlex.join(command)}")
    if plan.is_empty:
        log("no changes")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
