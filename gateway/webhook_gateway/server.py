"""Start and stop the gateway: Redis client, n8n client pool and the two listeners."""

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable, Mapping

from aiohttp import web
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from .app import Gateway, build_app, build_metrics_app
from .config import ConfigError, Settings, load_settings
from .dedup import DedupStore
from .forwarder import N8nForwarder
from .logs import LOGGER_NAME, RequestLogger
from .metrics import Metrics
from .protocol_errors import ProtocolErrorLog

logger = logging.getLogger(LOGGER_NAME)

# Short Redis timeouts: a request waits at most about this long before failing closed with 503.
REDIS_TIMEOUT_SECONDS = 2.0
# One retry replaces a pooled connection that Redis closed (after a restart, say).
REDIS_RETRIES = 1
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
EXIT_CONFIG_ERROR = 2
EXIT_LISTEN_ERROR = 1


class ListenError(Exception):
    """A listener could not bind its address, such as a port already in use."""


class GatewayServer:
    """The running gateway. ``start`` binds both listeners and ``stop`` closes everything."""

    def __init__(self, settings: Settings, clock: Callable[[], float] | None = None) -> None:
        self.settings = settings
        self.redis = Redis(
            host=settings.redis_host,
            port=settings.redis_port,
            db=settings.redis_db,
            password=settings.redis_password.reveal().decode(),
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            retry=Retry(NoBackoff(), REDIS_RETRIES),
        )
        self.dedup = DedupStore(
            self.redis, settings.claim_lease_seconds, settings.dedup_ttl_seconds
        )
        self.forwarder = N8nForwarder(settings.n8n_url, settings.n8n_timeout_seconds)
        self.metrics = Metrics()
        extra = {"clock": clock} if clock else {}
        self.gateway = Gateway(
            settings, self.dedup, self.forwarder, self.metrics, RequestLogger(), **extra
        )
        self._runners: list[web.AppRunner] = []
        self.port = settings.port
        self.metrics_port = settings.metrics_port

    async def start(self) -> None:
        await self.forwarder.start()
        self.port = await self._listen(build_app(self.gateway), self.settings.port)
        self.metrics_port = await self._listen(
            build_metrics_app(self.metrics), self.settings.metrics_port
        )
        logger.info(
            "started listen=%s port=%d metrics_port=%d routes=%s",
            self.settings.listen_host,
            self.port,
            self.metrics_port,
            ",".join(route.name for route in self.settings.routes),
        )

    async def _listen(self, app: web.Application, port: int) -> int:
        # access_log=None: the gateway writes its own single line per request.
        # auto_decompress=False: aiohttp would otherwise decompress a gzip, deflate, br or zstd
        # body while reading it, and the signature would be checked over other bytes than
        # those received. The handler rejects such bodies anyway (415).
        # logger: malformed HTTP becomes one request line instead of an aiohttp traceback.
        runner = web.AppRunner(
            app,
            access_log=None,
            auto_decompress=False,
            logger=ProtocolErrorLog(self.gateway.record_bad_request),
        )
        await runner.setup()
        self._runners.append(runner)
        site = web.TCPSite(runner, self.settings.listen_host, port)
        try:
            await site.start()
        except OSError as error:
            # asyncio's own strerror repeats the address, so take the plain text of errno.
            reason = os.strerror(error.errno) if error.errno else str(error)
            raise ListenError(
                f"failed to listen on {self.settings.listen_host}:{port}: {reason}. "
                "Free the port, or change GATEWAY_LISTEN_HOST, GATEWAY_PORT or GATEWAY_METRICS_PORT"
            ) from error
        return runner.addresses[0][1]

    async def stop(self) -> None:
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()
        await self.forwarder.close()
        await self.redis.aclose()
        logger.info("stopped")


async def serve(settings: Settings) -> None:
    """Run until SIGTERM or SIGINT, then stop gracefully."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stop.set)
    server = GatewayServer(settings)
    try:
        await server.start()
    except ListenError:
        # Close what did start (the n8n client pool, a first listener) before exiting.
        await server.stop()
        raise
    try:
        await stop.wait()
    finally:
        logger.info("stopping")
        await server.stop()


def main(environ: Mapping[str, str] | None = None) -> int:
    """Read the configuration, run the gateway and return the process exit status."""
    environ = os.environ if environ is None else environ
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, stream=sys.stderr)
    try:
        settings = load_settings(environ)
    except ConfigError as error:
        logger.error("%s", error)
        return EXIT_CONFIG_ERROR
    logging.getLogger().setLevel(settings.log_level)
    try:
        asyncio.run(serve(settings))
    except ListenError as error:
        logger.error("%s", error)
        return EXIT_LISTEN_ERROR
    return 0
