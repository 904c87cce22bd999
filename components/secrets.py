"""Generated secrets of the deployment, each overridable from stack config."""

from dataclasses import dataclass

import pulumi
import pulumi_random as random

# Lengths in characters of alphanumeric values: 48 characters of 62 symbols carry about 285 bits.
SECRET_LENGTH = 48


@dataclass(frozen=True)
class SecretSpec:
    config_key: str
    role: str


SECRET_SPECS = (
    SecretSpec("n8nEncryptionKey", "n8n-encryption-key"),
    SecretSpec("postgresPassword", "postgres-password"),
    SecretSpec("redisPassword", "redis-password"),
    SecretSpec("runnersAuthToken", "runners-auth-token"),
)


class Secrets(pulumi.ComponentResource):
    """The n8n encryption key, database and Redis passwords and the task-runner token.

    Each is generated once by pulumi-random and kept in state, so it stays stable across runs;
    a stack config override (set with --secret) replaces it. Every value is a Pulumi secret.
    """

    def __init__(
        self,
        name: str,
        overrides: dict[str, pulumi.Output[str]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("hardened-n8n:secrets:Secrets", name, None, opts)
        values = {spec.config_key: self._value(name, spec, overrides) for spec in SECRET_SPECS}
        self.n8n_encryption_key = values["n8nEncryptionKey"]
        self.postgres_password = values["postgresPassword"]
        self.redis_password = values["redisPassword"]
        self.runners_auth_token = values["runnersAuthToken"]
        self.register_outputs({"generated": sorted(set(values) - set(overrides))})

    def _value(
        self, name: str, spec: SecretSpec, overrides: dict[str, pulumi.Output[str]]
    ) -> pulumi.Output[str]:
        if spec.config_key in overrides:
            return pulumi.Output.secret(overrides[spec.config_key])
        generated = random.RandomPassword(
            f"{name}-{spec.role}",
            length=SECRET_LENGTH,
            special=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return pulumi.Output.secret(generated.result)
