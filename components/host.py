"""The hardened server: keys, data volume, server, host files applied in place, ready gate."""

import pulumi
import pulumi_command as command
import pulumi_docker as docker
import pulumi_hcloud as hcloud
import pulumi_tls as tls

from components import host_files, services
from components.settings import Settings

SSH_PORT = 22
# The server may still be booting when the first SSH connection is tried: allow about ten
# minutes of attempts at the provider's default 15 seconds each.
DIAL_ERROR_LIMIT = 40


class Host(pulumi.ComponentResource):
    """The server and everything that must exist on it before a container starts.

    The host files are rendered once, delivered by cloud-init at first boot and re-applied over
    SSH when their content changes, so changing the hardening never replaces the server.
    """

    def __init__(
        self,
        name: str,
        settings: Settings,
        plans: tuple[services.ServicePlan, ...],
        firewall_id: pulumi.Output[str],
        container_files: tuple[host_files.HostFile, ...],
        labels: dict[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("hardened-n8n:host:Host", name, None, opts)
        self._name = name
        self._settings = settings
        self._labels = labels
        child = pulumi.ResourceOptions(parent=self)

        # The SSH host key, generated here so every connection can pin it from the first one.
        self.host_key = tls.PrivateKey(f"{name}-host-key", algorithm="ED25519", opts=child)
        self.host_public_key = self.host_key.public_key_openssh.apply(str.strip)

        # Hetzner mails a root password when a server has no key; this key avoids that.
        self.admin_key = hcloud.SshKey(
            f"{name}-admin", public_key=settings.admin_ssh_keys[0], labels=labels, opts=child
        )

        self.volume = self._create_volume()
        files = self.volume.id.apply(
            lambda volume_id: self._files(volume_id, plans, container_files)
        )
        self.server = self._create_server(firewall_id, files)
        self.attachment = hcloud.VolumeAttachment(
            f"{name}-data-attachment",
            server_id=self.server.id.apply(int),
            volume_id=self.volume.id.apply(int),
            automount=False,
            opts=child,
        )
        self.connection = command.remote.ConnectionArgs(
            host=self.server.ipv4_address,
            port=SSH_PORT,
            user=settings.admin_user,
            host_key=self.host_public_key,
            dial_error_limit=DIAL_ERROR_LIMIT,
        )
        self.ready = self._create_ready_gate()
        self.host_files = self._create_converge(files)
        self.docker_provider = self._create_docker_provider()
        self.gate = [self.ready, self.host_files]

        self.register_outputs(
            {
                "ipv4_address": self.server.ipv4_address,
                "ipv6_address": self.server.ipv6_address,
                "volume_id": self.volume.id,
                "host_public_key": self.host_public_key,
            }
        )

    def _create_volume(self) -> hcloud.Volume:
        # Holds every piece of persistent data, so the server can be replaced without loss.
        protect = self._settings.delete_protection
        return hcloud.Volume(
            f"{self._name}-data",
            name=f"{self._name}-data",
            size=self._settings.volume_size,
            location=self._settings.location,
            format="ext4",
            automount=False,
            delete_protection=protect,
            labels=self._labels,
            opts=pulumi.ResourceOptions(parent=self, protect=protect),
        )

    def _files(
        self,
        volume_id: str,
        plans: tuple[services.ServicePlan, ...],
        container_files: tuple[host_files.HostFile, ...],
    ) -> tuple[host_files.HostSpec, tuple[host_files.HostFile, ...]]:
        spec = host_spec(self._settings, plans, volume_id)
        files = host_files.render_host_files(spec) + container_files
        return spec, tuple(sorted(files, key=lambda f: f.path))

    def _create_server(self, firewall_id: pulumi.Output[str], files) -> hcloud.Server:
        settings = self._settings
        user_data = pulumi.Output.all(
            files, self.host_key.private_key_openssh, self.host_public_key
        ).apply(lambda args: host_files.render_user_data(args[0][0], args[0][1], args[1], args[2]))
        return hcloud.Server(
            f"{self._name}-server",
            name=self._name,
            server_type=settings.server_type,
            image=settings.image,
            location=settings.location,
            ssh_keys=[self.admin_key.id],
            # Attached at creation, so the server is never reachable unfiltered.
            firewall_ids=[firewall_id.apply(int)],
            user_data=pulumi.Output.secret(user_data),
            backups=settings.backups,
            delete_protection=settings.delete_protection,
            rebuild_protection=settings.rebuild_protection,
            public_nets=[hcloud.ServerPublicNetArgs(ipv4_enabled=True, ipv6_enabled=True)],
            shutdown_before_deletion=True,
            labels=self._labels,
            # user_data only runs at first boot; later changes arrive through the converge
            # command, so a change to it must not replace the server.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["user_data"]),
        )

    def _create_ready_gate(self) -> command.remote.Command:
        return command.remote.Command(
            f"{self._name}-ready",
            connection=self.connection,
            create=host_files.READY_COMMAND,
            triggers=[self.server.id],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.attachment]),
        )

    def _create_converge(self, files) -> command.remote.Command:
        bundle = files.apply(
            lambda spec_and_files: host_files.render_apply_bundle(spec_and_files[1])
        )
        return command.remote.Command(
            f"{self._name}-host-files",
            connection=self.connection,
            create=host_files.APPLY_COMMAND,
            update=host_files.APPLY_COMMAND,
            stdin=bundle,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.ready]),
        )

    def _create_docker_provider(self) -> docker.Provider:
        settings = self._settings
        host = pulumi.Output.concat(
            "ssh://", settings.admin_user, "@", self.server.ipv4_address, ":", str(SSH_PORT)
        )
        return docker.Provider(
            f"{self._name}-docker",
            host=host,
            ssh_opts=self.host_public_key.apply(pinned_ssh_options),
            opts=pulumi.ResourceOptions(parent=self),
        )


def pinned_ssh_options(host_public_key: str) -> list[str]:
    """Return ssh options that accept only the generated host key (OpenSSH 8.5 or later).

    KnownHostsCommand prints the one trusted key for the host that ssh looks up (%H), and the
    known_hosts files are ignored, so no trust-on-first-use entry is ever consulted or written.
    The Docker CLI starts one ssh per connection. Sharing one master connection keeps a deploy
    under UFW's SSH rate limit, which is six new connections per 30 seconds from one address.
    """
    return [
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        "-o",
        "HostKeyAlgorithms=ssh-ed25519",
        "-o",
        f"KnownHostsCommand=/bin/echo %H {host_public_key}",
        "-o",
        "ControlMaster=auto",
        "-o",
        "ControlPath=~/.ssh/hardened-n8n-%C",
        "-o",
        "ControlPersist=120",
    ]


def host_spec(
    settings: Settings, plans: tuple[services.ServicePlan, ...], volume_id: str
) -> host_files.HostSpec:
    """Build the host file settings from the stack settings and the container plan."""
    data_dirs = tuple(
        host_files.DataDir(path=path, uid=uid, gid=gid)
        for path, (uid, gid) in services.data_folders(plans)
    )
    slices = tuple(host_files.Slice(name=p.slice_name, tasks_max=p.tasks_max) for p in plans)
    return host_files.HostSpec(
        admin_user=settings.admin_user,
        admin_ssh_keys=settings.admin_ssh_keys,
        admin_cidrs=settings.admin_cidrs,
        volume_device=f"/dev/disk/by-id/scsi-0HC_Volume_{volume_id}",
        data_mount=services.DATA_MOUNT,
        data_dirs=data_dirs,
        slices=slices,
        auto_reboot=settings.auto_reboot,
        reboot_time=settings.reboot_time,
        timezone=settings.timezone,
    )
