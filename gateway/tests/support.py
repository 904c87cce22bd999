"""Test helpers shared by the gateway tests and gateway/bench.py.

Everything here listens on 127.0.0.1 only. The signers are written independently of the
gateway's schemes, from each provider's documented algorithm, so a test compares two
implementations instead of one with itself.
"""

import asyncio
import base64
import hashlib
import hmac
import json
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

LOOPBACK = "127.0.0.1"
REDIS_PASSWORD = "test-redis-password"  # noqa: S105 - a throwaway instance on loopback
REDIS_START_TIMEOUT_SECONDS = 10.0


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def redis_server_binary() -> str | None:
    return shutil.which("redis-server")


class RedisProcess:
    """A private redis-server on a loopback port with a temporary data folder."""

    def __init__(self, binary: str, password: str = REDIS_PASSWORD) -> None:
        self.binary = binary
        self.password = password
        self.host = LOOPBACK
        self.port = free_port()
        self._folder = tempfile.TemporaryDirectory(prefix="gateway-redis-")
        self._process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [
            self.binary,
            "--bind", self.host,
            "--port", str(self.port),
            "--requirepass", self.password,
            "--dir", self._folder.name,
            "--save", "",
            "--appendonly", "no",
            "--protected-mode", "yes",
        ]  # fmt: skip
        log = Path(self._folder.name, "redis.log").open("wb")  # noqa: SIM115 - owned by Popen
        self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + REDIS_START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"redis-server exited with status {self._process.returncode}")
            if self.ping():
                return
            time.sleep(0.05)
        raise RuntimeError(
            f"redis-server did not answer PING within {REDIS_START_TIMEOUT_SECONDS}s"
        )

    def ping(self) -> bool:
        request = f"AUTH {self.password}\r\nPING\r\n".encode()
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5) as connection:
                connection.sendall(request)
                reply = b""
                while b"PONG" not in reply and len(reply) < 256:
                    chunk = connection.recv(256)
                    if not chunk:
                        break
                    reply += chunk
                return b"PONG" in reply
        except OSError:
            return False

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=5)
        self._process = None

    def close(self) -> None:
        self.stop()
        self._folder.cleanup()


@dataclass
class ReceivedRequest:
    """One request the n8n stand-in received, with the status of its response."""

    path: str
    body: bytes
    headers: dict[str, str]
    status: int


@dataclass
class N8nStandIn:
    """A recording stand-in for n8n's webhook endpoint on a loopback port.

    ``failure`` decides per request whether to respond 200 ("ok"), 500 ("error") or to stall
    past the gateway's timeout ("stall"). ``received`` contains every request, ``accepted``
    only those that got 200.
    """

    failure: Callable[[ReceivedRequest], str] = lambda request: "ok"
    stall_seconds: float = 2.0
    received: list[ReceivedRequest] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def accepted(self) -> list[ReceivedRequest]:
        return [request for request in self.received if request.status == 200]

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, LOOPBACK, 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.Response:
        record = ReceivedRequest(request.path, await request.read(), dict(request.headers), 200)
        decision = self.failure(record)
        if decision == "stall":
            record.status = 0
            self.received.append(record)
            await asyncio.sleep(self.stall_seconds)
            return web.Response(status=504)
        record.status = 500 if decision == "error" else 200
        self.received.append(record)
        return web.Response(status=record.status, text="{}", content_type="application/json")


def hmac_sha256(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def flutterwave_v4_headers(secret: str, body: bytes) -> dict[str, str]:
    signature = base64.b64encode(hmac_sha256(secret, body)).decode()
    return {"flutterwave-signature": signature, "Content-Type": "application/json"}


def flutterwave_v4_body(event_id: str, timestamp_seconds: float, **extra: Any) -> bytes:
    document = {
        "id": event_id,
        "timestamp": int(timestamp_seconds * 1000),
        "type": "charge.completed",
        "data": {"id": "chg_" + event_id, "status": "succeeded", **extra},
    }
    return json.dumps(document).encode()


def stripe_headers(secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    signature = hmac_sha256(secret, str(timestamp).encode() + b"." + body).hex()
    return {"Stripe-Signature": f"t={timestamp},v1={signature}", "Content-Type": "application/json"}


def github_headers(secret: str, body: bytes, delivery: str) -> dict[str, str]:
    return {
        "X-Hub-Signature-256": "sha256=" + hmac_sha256(secret, body).hex(),
        "X-GitHub-Delivery": delivery,
        "X-GitHub-Event": "ping",
        "Content-Type": "application/json",
    }


def flutterwave_v3_headers(secret_hash: str) -> dict[str, str]:
    return {"verif-hash": secret_hash, "Content-Type": "application/json"}


def hmac_hex_headers(
    secret: str, body: bytes, header: str, prefix: str = "", **extra: str
) -> dict[str, str]:
    """Return headers of the generic scheme with a lowercase hex signature after ``prefix``."""
    signature = prefix + hmac_sha256(secret, body).hex()
    return {header: signature, "Content-Type": "application/json", **extra}


def gateway_environment(
    routes: list[dict[str, Any]],
    secrets: dict[str, list[str]],
    n8n_url: str,
    redis: RedisProcess,
    **overrides: str,
) -> dict[str, str]:
    """Return GATEWAY_* variables for a gateway on loopback, as the container would get them."""
    environment = {
        "GATEWAY_ROUTES": json.dumps(routes),
        "GATEWAY_SECRETS": json.dumps(secrets),
        "GATEWAY_N8N_URL": n8n_url,
        "GATEWAY_REDIS_HOST": redis.host,
        "GATEWAY_REDIS_PORT": str(redis.port),
        "GATEWAY_REDIS_PASSWORD": redis.password,
        "GATEWAY_LISTEN_HOST": LOOPBACK,
        "GATEWAY_PORT": str(free_port()),
        "GATEWAY_METRICS_PORT": str(free_port()),
    }
    environment.update(overrides)
    return environment
