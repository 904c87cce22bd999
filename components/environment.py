"""Container environments of Postgres, Redis, n8n and its task runners.

Values that are secrets stay Pulumi Outputs marked secret. `render_env` joins them into the
list that Docker expects, and the joined list is secret whenever one of its values is.
"""

import pulumi

from components import services
from components.secrets import Secrets
from components.settings import Settings

DATABASE = "n8n"
DATABASE_USER = "n8n"

EnvValue = str | pulumi.Output[str]


def render_env(values: dict[str, EnvValue]) -> pulumi.Output[list[str]]:
    names = sorted(values)
    return pulumi.Output.all(*[values[name] for name in names]).apply(
        lambda resolved: [f"{name}={value}" for name, value in zip(names, resolved, strict=True)]
    )


def postgres_env(secrets: Secrets) -> dict[str, EnvValue]:
    return {
        "POSTGRES_DB": DATABASE,
        "POSTGRES_USER": DATABASE_USER,
        "POSTGRES_PASSWORD": secrets.postgres_password,
        # A subfolder of the mount: initdb needs an empty folder, and the volume root has
        # lost+found in it.
        "PGDATA": "/var/lib/postgresql/data/pgdata",
    }


def redis_env(secrets: Secrets) -> dict[str, EnvValue]:
    return {"REDIS_PASSWORD": secrets.redis_password}


def n8n_env(settings: Settings, secrets: Secrets, role: str) -> dict[str, EnvValue]:
    """Return the settings n8n's docs give for queue mode behind a TLS proxy.

    Main and workers share everything but the role's own keys: both connect to Postgres and
    Redis, hold the encryption key and host a task broker for their own runner.
    """
    url = f"https://{settings.domain}/"
    values: dict[str, EnvValue] = {
        "DB_TYPE": "postgresdb",
        "DB_POSTGRESDB_HOST": "postgres",
        "DB_POSTGRESDB_PORT": "5432",
        "DB_POSTGRESDB_DATABASE": DATABASE,
        "DB_POSTGRESDB_USER": DATABASE_USER,
        "DB_POSTGRESDB_PASSWORD": secrets.postgres_password,
        "EXECUTIONS_MODE": "queue",
        "QUEUE_BULL_REDIS_HOST": "redis",
        "QUEUE_BULL_REDIS_PORT": "6379",
        "QUEUE_BULL_REDIS_DB": "0",
        "QUEUE_BULL_REDIS_PASSWORD": secrets.redis_password,
        "QUEUE_HEALTH_CHECK_ACTIVE": "true",
        "OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS": "true",
        "N8N_ENCRYPTION_KEY": secrets.n8n_encryption_key,
        "N8N_HOST": settings.domain,
        "N8N_PORT": str(services.N8N_PORT),
        "N8N_PROTOCOL": "https",
        "WEBHOOK_URL": url,
        "N8N_EDITOR_BASE_URL": url,
        # One proxy (Caddy) sets X-Forwarded-For; n8n trusts exactly that hop.
        "N8N_PROXY_HOPS": "1",
        "N8N_SECURE_COOKIE": "true",
        "N8N_RUNNERS_MODE": "external",
        "N8N_RUNNERS_AUTH_TOKEN": secrets.runners_auth_token,
        # The broker listens on the container's networks; only the internal "runners"
        # network reaches it besides n8n itself.
        "N8N_RUNNERS_BROKER_LISTEN_ADDRESS": "0.0.0.0",  # noqa: S104
        "N8N_RUNNERS_BROKER_PORT": str(services.BROKER_PORT),
        "N8N_DIAGNOSTICS_ENABLED": "false",
        "N8N_VERSION_NOTIFICATIONS_ENABLED": "false",
        "N8N_PERSONALIZATION_ENABLED": "false",
        "N8N_HIRING_BANNER_ENABLED": "false",
        # Code in workflows cannot read n8n's environment, which contains every secret above.
        "N8N_BLOCK_ENV_ACCESS_IN_NODE": "true",
        "N8N_BLOCK_FILE_ACCESS_TO_N8N_FILES": "true",
        "N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS": "true",
        # Queue mode's default since n8n 2.0, stated so that workers never need shared files.
        "N8N_DEFAULT_BINARY_DATA_MODE": "database",
        "NODES_EXCLUDE": settings.nodes_exclude,
        "GENERIC_TIMEZONE": settings.timezone,
        "TZ": settings.timezone,
    }
    return values


def runner_env(secrets: Secrets, broker_host: str, timezone: str) -> dict[str, EnvValue]:
    return {
        "N8N_RUNNERS_TASK_BROKER_URI": f"http://{broker_host}:{services.BROKER_PORT}",
        "N8N_RUNNERS_AUTH_TOKEN": secrets.runners_auth_token,
        # Idle runners exit and the launcher starts them again on the next task.
        "N8N_RUNNERS_AUTO_SHUTDOWN_TIMEOUT": "15",
        "GENERIC_TIMEZONE": timezone,
        "TZ": timezone,
    }
